// The repository's own setup and verify commands (.github/speckit.yml):
// setup runs in the workspace before Codex (with network — the sandbox has
// none — e.g. to install dependencies), verify after it (e.g. the tests).
// Both run with Codex's minimal environment and, with CODEX_RUN_AS, as
// Codex's user: they are the repository's code, not the app's.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { RunAsUser } from '../../codex/run-as.ts';
import type { StepContext } from '../step-context.ts';

export interface CommandsResult {
  ok: boolean;
  /** The command that failed, its exit code and the end of its output. */
  failure: { command: string; exitCode: number | null; tail: string } | null;
}

const TAIL_CHARS = 2_000;

export async function runWorkspaceCommands(
  ctx: StepContext,
  kind: 'setup' | 'verify',
  commands: readonly string[],
  options: { cwd: string; env: Record<string, string>; runAs: RunAsUser | undefined; timeoutMs: number },
): Promise<CommandsResult> {
  if (commands.length === 0) return { ok: true, failure: null };
  const logPath = path.join(ctx.artifacts.dir, `${kind}.log`);
  try {
    for (const command of commands) {
      await appendFile(logPath, `$ ${command}\n`);
      const result = await execa('sh', ['-c', command], {
        cwd: options.cwd,
        env: options.env,
        extendEnv: false,
        stdin: 'ignore',
        all: true,
        reject: false,
        timeout: options.timeoutMs,
        cancelSignal: ctx.signal,
        ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
      });
      const output = result.all ?? '';
      await appendFile(logPath, `${output}\n[exit ${result.exitCode ?? result.signal}]\n`);
      if (result.exitCode !== 0) {
        return {
          ok: false,
          failure: { command, exitCode: result.exitCode ?? null, tail: output.slice(-TAIL_CHARS) },
        };
      }
    }
    return { ok: true, failure: null };
  } finally {
    await ctx.artifacts.record(`${kind}_log`, logPath).catch(() => undefined);
  }
}

/** One line (and the output's end) for summaries and errors. */
export function describeFailure(
  kind: 'setup' | 'verify',
  failure: NonNullable<CommandsResult['failure']>,
): string {
  return (
    `The ${kind} command \`${failure.command}\` failed (exit ${failure.exitCode ?? 'signal'}); ` +
    `its output is in the run's ${kind}.log artifact:\n\n\`\`\`\n${failure.tail.trim()}\n\`\`\``
  );
}
