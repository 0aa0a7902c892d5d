// Runs one phase on Codex Cloud through the CLI:
//
//   codex cloud exec --env <id> [--branch <base>] -- <prompt>   → one task URL (task id = last segment)
//   codex cloud status <task id>                               → polled with backoff until READY/ERROR
//   codex cloud diff <task id>                                 → the unified diff
//
// The task id is handed to `onSubmitted` (which must persist it) before anything else
// happens; a later attempt passes it back as `taskId` and the runner only polls: it never
// submits the phase twice. Every CLI call is appended to `logPath` as one JSON line
// (arguments without the prompt, exit code, stdout, stderr), so the transcript is complete
// after a success or a failure. Output the runner does not recognise fails with the text quoted.

import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import {
  type CloudTaskStatus,
  changedPathsFromDiff,
  cliErrorText,
  isCliErrorLine,
  isCloudSignInRequired,
  looksLikeDiff,
  parseCloudExecOutput,
  parseCloudStatusOutput,
} from './codex-cloud-output.ts';
import { CodexError } from './codex-error.ts';

export interface CodexCloudRunOptions {
  /** The codex executable (the native binary, or a stub in tests). */
  codexBin: string;
  /** The CLI's whole environment (`buildCodexEnv()`): CODEX_HOME holds the ChatGPT login. */
  env: Record<string, string>;
  /** The Codex Cloud environment id (or label) the task runs in. */
  envId: string;
  /** The branch the cloud task starts from; default: the CLI's choice (the current branch of `cwd`). */
  branch?: string;
  prompt: string;
  /** A task an earlier attempt submitted: it is polled, never submitted again. */
  taskId?: string | null;
  /** Called (and awaited) with a newly submitted task's id before polling starts: persist it here. */
  onSubmitted?: (taskId: string, url: string) => Promise<void>;
  /** Called after each status poll. Must not throw (errors are ignored). */
  onStatus?: (status: CloudTaskStatus) => void;
  /** JSONL transcript of every CLI call; created if missing. */
  logPath: string;
  /** How long to wait for the task to become ready (from the start of this call). */
  timeoutMs: number;
  /** First delay between status polls; it grows 1.5× per poll up to `maxPollIntervalMs`. */
  pollIntervalMs: number;
  /** Default: 8 × pollIntervalMs, at most 2 minutes. */
  maxPollIntervalMs?: number;
  /** Consecutive failed status calls (the CLI's own `Error: …`) tolerated before the step fails. Default 3. */
  maxPollErrors?: number;
  /** Limit of one CLI call. Default 2 minutes. */
  commandTimeoutMs?: number;
  /** Working directory of the CLI calls. */
  cwd?: string;
  signal?: AbortSignal;
}

export interface CodexCloudRunResult {
  taskId: string;
  /** The task URL, when this call submitted it. */
  url: string | null;
  /** True when the task came from an earlier attempt (no `cloud exec` this time). */
  resumed: boolean;
  status: CloudTaskStatus;
  /** The unified diff ('' when the task changed nothing). */
  patch: string;
  changedPaths: string[];
  polls: number;
}

interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;
const MAX_QUOTE = 2000;

function quote(text: string): string {
  const trimmed = text.trim();
  const clipped = trimmed.length > MAX_QUOTE ? `${trimmed.slice(0, MAX_QUOTE)}…` : trimmed;
  return clipped === '' ? '(nothing)' : `"${clipped}"`;
}

function unrecognized(command: string, result: CliResult): CodexError {
  const printed = [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join('\n');
  return new CodexError(
    `\`codex ${command}\` printed output the runner does not recognise (exit code ${result.exitCode ?? 'none'}): ` +
      `${quote(printed)}. Check that the installed Codex CLI is the pinned version (0.169).`,
    { code: 'codex_cloud_unrecognized', details: { exitCode: result.exitCode, stderrTail: result.stderr } },
  );
}

function signInRequired(result: CliResult, env: Record<string, string>): CodexError {
  const home = env.CODEX_HOME ? ` with CODEX_HOME=${env.CODEX_HOME}` : '';
  return new CodexError(
    `Codex Cloud needs a ChatGPT login: ${quote(cliErrorText(result.stderr, result.stdout))}. ` +
      `Run \`codex login\`${home} as the user the worker runs as (an API key is not enough for Codex Cloud), then retry.`,
    { code: 'codex_auth', details: { exitCode: result.exitCode, stderrTail: result.stderr } },
  );
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function runCodexCloud(options: CodexCloudRunOptions): Promise<CodexCloudRunResult> {
  const { signal } = options;
  await mkdir(dirname(options.logPath), { recursive: true });
  const cancelled = (taskId: string | null) =>
    new CodexError(
      taskId
        ? `The Codex run was cancelled; Codex Cloud task ${taskId} may still be running in the cloud.`
        : 'The Codex run was cancelled.',
      { code: 'cancelled', cause: signal?.reason },
    );

  const call = async (args: string[], logged: string[]): Promise<CliResult> => {
    if (signal?.aborted) throw cancelled(options.taskId ?? null);
    const child = await execa(options.codexBin, args, {
      env: options.env,
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      stripFinalNewline: false,
      timeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      ...(signal ? { cancelSignal: signal } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const result: CliResult = {
      exitCode: child.exitCode ?? null,
      stdout: String(child.stdout ?? ''),
      stderr: String(child.stderr ?? ''),
    };
    await appendFile(
      options.logPath,
      `${JSON.stringify({ at: new Date().toISOString(), args: logged, ...result })}\n`,
    );
    if (child.isCanceled || signal?.aborted) throw cancelled(options.taskId ?? null);
    if (child.timedOut) {
      throw new CodexError(
        `\`codex ${logged.join(' ')}\` did not answer within ${Math.round((options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS) / 1000)} s.`,
        { code: 'codex_failed' },
      );
    }
    if (child.failed && child.exitCode === undefined && !child.signal) {
      throw new CodexError(`The Codex CLI could not be started: ${child.message}`, {
        code: 'codex_failed',
        cause: child,
      });
    }
    return result;
  };

  // 1. Submit, unless an earlier attempt already did.
  let taskId = options.taskId ?? null;
  let url: string | null = null;
  const resumed = taskId !== null;
  if (taskId === null) {
    const branchArgs = options.branch ? ['--branch', options.branch] : [];
    const head = ['cloud', 'exec', '--env', options.envId, ...branchArgs];
    const result = await call([...head, '--', options.prompt], [...head, '--', '<prompt>']);
    const parsed = result.exitCode === 0 ? parseCloudExecOutput(result.stdout) : null;
    if (!parsed) {
      const text = cliErrorText(result.stderr, result.stdout);
      if (result.exitCode !== 0 && isCloudSignInRequired(text)) throw signInRequired(result, options.env);
      if (result.exitCode !== 0 && isCliErrorLine(text)) {
        throw new CodexError(`Codex Cloud refused the task: ${quote(text)}.`, {
          // No task exists, so a retry cannot submit twice; a bad environment id needs a fix first.
          code: /not found|ambiguous|must not be empty|no cloud environments/i.test(text)
            ? 'codex_cloud_failed'
            : 'codex_failed',
          details: { exitCode: result.exitCode, stderrTail: result.stderr },
        });
      }
      throw unrecognized('cloud exec', result);
    }
    taskId = parsed.taskId;
    url = parsed.url;
    await options.onSubmitted?.(taskId, url);
  }
  const id = taskId;

  // 2. Poll until ready, failed, or out of time.
  const deadline = Date.now() + options.timeoutMs;
  const maxInterval = options.maxPollIntervalMs ?? Math.min(options.pollIntervalMs * 8, 120_000);
  const maxErrors = options.maxPollErrors ?? 3;
  let interval = options.pollIntervalMs;
  let polls = 0;
  let errors = 0;
  let status: CloudTaskStatus | null = null;
  for (;;) {
    const result = await call(['cloud', 'status', id], ['cloud', 'status', id]);
    polls += 1;
    const parsed = parseCloudStatusOutput(result.stdout);
    if (parsed) {
      errors = 0;
      try {
        options.onStatus?.(parsed);
      } catch {
        // a listener's failure must not stop polling
      }
      if (parsed.state === 'ready' || parsed.state === 'applied') {
        status = parsed;
        break;
      }
      if (parsed.state === 'error') {
        throw new CodexError(
          `Codex Cloud task ${id} failed: ${quote(result.stdout)}. Open the task in Codex Cloud for details, ` +
            'then run the phase again.',
          { code: 'codex_cloud_failed', details: { exitCode: result.exitCode, stderrTail: result.stderr } },
        );
      }
    } else {
      const text = cliErrorText(result.stderr, result.stdout);
      if (result.exitCode === 0 || !isCliErrorLine(text)) {
        if (result.exitCode !== 0 && isCloudSignInRequired(text)) throw signInRequired(result, options.env);
        throw unrecognized(`cloud status ${id}`, result);
      }
      errors += 1;
      if (errors >= maxErrors) {
        throw new CodexError(
          `\`codex cloud status ${id}\` failed ${errors} times in a row: ${quote(text)}. ` +
            'A retry resumes polling the same task.',
          { code: 'codex_failed', details: { exitCode: result.exitCode, stderrTail: result.stderr } },
        );
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new CodexError(
        `Codex Cloud task ${id} was not ready within ${Math.round(options.timeoutMs / 1000)} s ` +
          `(last status: ${parsed ? `[${parsed.state.toUpperCase()}] ${parsed.title}` : 'unknown'}). ` +
          'It may still be running in the cloud; a retry resumes polling it instead of submitting the phase again.',
        { code: 'codex_timeout' },
      );
    }
    await sleep(Math.min(interval, left), signal);
    if (signal?.aborted) throw cancelled(id);
    interval = Math.min(Math.round(interval * 1.5), maxInterval);
  }

  // 3. The diff.
  if (status.noDiff) return { taskId: id, url, resumed, status, patch: '', changedPaths: [], polls };
  const result = await call(['cloud', 'diff', id], ['cloud', 'diff', id]);
  if (result.exitCode === 0 && looksLikeDiff(result.stdout)) {
    const patch = result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`;
    return { taskId: id, url, resumed, status, patch, changedPaths: changedPathsFromDiff(patch), polls };
  }
  if (result.exitCode === 0 && result.stdout.trim() === '') {
    return { taskId: id, url, resumed, status, patch: '', changedPaths: [], polls };
  }
  const text = cliErrorText(result.stderr, result.stdout);
  if (result.exitCode !== 0 && /No diff available/i.test(text)) {
    return { taskId: id, url, resumed, status, patch: '', changedPaths: [], polls };
  }
  if (result.exitCode !== 0 && isCloudSignInRequired(text)) throw signInRequired(result, options.env);
  if (result.exitCode !== 0 && isCliErrorLine(text)) {
    throw new CodexError(`\`codex cloud diff ${id}\` failed: ${quote(text)}. A retry fetches it again.`, {
      code: 'codex_failed',
      details: { exitCode: result.exitCode, stderrTail: result.stderr },
    });
  }
  throw unrecognized(`cloud diff ${id}`, result);
}
