// One interface over the two ways a phase is run: the local CLI (`codex exec` in a clone,
// run-codex.ts) and Codex Cloud (`codex cloud exec/status/diff`, run-codex-cloud.ts).
// The Codex step picks one per run (CODEX_MODE, or the run's own request) and gets back
// the same result shape either way.

import type { CloudTaskStatus } from './codex-cloud-output.ts';
import { CodexError } from './codex-error.ts';
import type { CodexEvent, CodexUsage } from './codex-events.ts';
import { type CodexRunOptions, runCodex } from './run-codex.ts';
import { type CodexCloudRunOptions, runCodexCloud } from './run-codex-cloud.ts';

export const CODEX_MODES = ['local', 'cloud'] as const;
export type CodexMode = (typeof CODEX_MODES)[number];

export function isCodexMode(value: unknown): value is CodexMode {
  return value === 'local' || value === 'cloud';
}

export interface CodexRunnerInput {
  prompt: string;
  /** The clone: Codex's workspace (local) or where the cloud CLI runs from (cloud). */
  cwd: string;
  signal?: AbortSignal;
  /** Local: every parsed JSONL event. Cloud: never called (the cloud CLI streams no events). */
  onEvent?: (event: CodexEvent) => void;
}

export interface CodexRunnerOutput {
  mode: CodexMode;
  /** Local: Codex's thread id. Cloud: the task id. */
  id: string | null;
  lastMessage: string | null;
  usage: CodexUsage | null;
  /** Local: Codex's exit code. Cloud: 0 once the task is ready. */
  exitCode: number;
  /** Cloud: the task's unified diff. Local: null (the changes are in `cwd`; diff the clone). */
  patch: string | null;
  /** Paths Codex reports changing (local: from its events; cloud: from the diff). */
  changedPaths: string[];
  /** Files the runner wrote for people: the JSONL log, the last message. */
  artifactPaths: string[];
  /** Cloud only: the task's final status and whether an earlier attempt had submitted it. */
  cloud?: { status: CloudTaskStatus; resumed: boolean; url: string | null; polls: number };
}

export interface CodexRunner {
  readonly mode: CodexMode;
  run(input: CodexRunnerInput): Promise<CodexRunnerOutput>;
}

/** The local runner: `codex exec --json` in the clone. */
export function localCodexRunner(
  options: Omit<CodexRunOptions, 'prompt' | 'cwd' | 'signal' | 'onEvent'>,
): CodexRunner {
  return {
    mode: 'local',
    async run(input) {
      const result = await runCodex({
        ...options,
        prompt: input.prompt,
        cwd: input.cwd,
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.onEvent ? { onEvent: input.onEvent } : {}),
      });
      return {
        mode: 'local',
        id: result.threadId,
        lastMessage: result.lastMessage,
        usage: result.usage,
        exitCode: result.exitCode,
        patch: null,
        changedPaths: result.filesChanged,
        artifactPaths: [options.logPath, options.lastMessagePath],
      };
    },
  };
}

/** The cloud runner: submit (or resume) a Codex Cloud task, poll it, fetch its diff. */
export function cloudCodexRunner(
  options: Omit<CodexCloudRunOptions, 'prompt' | 'cwd' | 'signal'>,
): CodexRunner {
  if (options.envId.trim() === '') {
    throw new CodexError('Codex Cloud needs an environment id: set CODEX_CLOUD_ENV.', {
      code: 'codex_credentials_missing',
    });
  }
  return {
    mode: 'cloud',
    async run(input) {
      const result = await runCodexCloud({
        ...options,
        prompt: input.prompt,
        cwd: input.cwd,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      return {
        mode: 'cloud',
        id: result.taskId,
        // The cloud CLI prints no agent message; the task title is the closest thing.
        lastMessage: result.status.title || null,
        // Nor token usage: Codex Cloud bills the ChatGPT plan, not per token.
        usage: null,
        exitCode: 0,
        patch: result.patch,
        changedPaths: result.changedPaths,
        artifactPaths: [options.logPath],
        cloud: { status: result.status, resumed: result.resumed, url: result.url, polls: result.polls },
      };
    },
  };
}
