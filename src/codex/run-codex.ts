// Runs the local Codex CLI on one checkout:
//
//   setpriv --pdeathsig KILL [--reuid U --regid G --clear-groups] -- \
//     codex exec --json --sandbox workspace-write --skip-git-repo-check --ephemeral \
//       -C <cwd> -o <lastMessagePath> [-m <model>] -- <prompt>   </dev/null
//
// - The child is the leader of its own process group (`detached`), so timeout, idle
//   timeout and abort signal the whole group: SIGTERM, then SIGKILL after a short grace.
//   The group is also swept with SIGKILL after Codex exits, so nothing left in it lingers.
// - `setpriv --pdeathsig KILL` makes the kernel kill Codex when the worker process dies.
// - The commands the model runs are NOT in that group: Codex 0.169 starts each under
//   `codex-linux-sandbox` → `bwrap --new-session --die-with-parent`, in sessions of their
//   own. They die with Codex (parent-death signals down the chain); the tests check that
//   a running `sleep` is gone within 2 s both after an abort and after the worker is
//   SIGKILLed.
// - Every stdout line is appended to `logPath` as it arrives (awaited before returning or
//   throwing, so the log is complete either way) and parsed into a `CodexEvent`.
// - `--ephemeral`: Codex keeps no session rollout under CODEX_HOME. Our `codex.jsonl` is the
//   record of the run; a retry starts over in a fresh checkout (possibly on another
//   machine), so a local session could never be resumed, and rollouts would pile up in a
//   shared CODEX_HOME holding prompts and command output. Codex still writes its state
//   databases there, so CODEX_HOME must be writable by the user Codex runs as.

import { once } from 'node:events';
import { chownSync, existsSync, realpathSync } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { ConfigError } from '../errors.ts';
import { CodexError, codexAuthRemedy, isCodexAuthFailure } from './codex-error.ts';
import {
  type CodexEvent,
  type CodexRunSummary,
  type CodexUsage,
  emptyCodexRunSummary,
  parseCodexEventLine,
  reduceCodexEvent,
} from './codex-events.ts';

export interface CodexRunOptions {
  /** The native binary (`resolveCodexBin()`), never the npm JS wrapper. */
  codexBin: string;
  /** The checkout Codex works in (its workspace-write root). */
  cwd: string;
  prompt: string;
  /** The child's whole environment (`buildCodexEnv()`); nothing else is inherited. */
  env: Record<string, string>;
  /** Passed as `-m` only when set; otherwise CODEX_HOME/config.toml decides. */
  model?: string;
  /** codex.jsonl: every stdout line is appended as it arrives. Created if missing. */
  logPath: string;
  /** Codex writes its final message here (`-o`). Removed first, so it is never stale. */
  lastMessagePath: string;
  /** Wall-clock budget for the whole run. */
  timeoutMs: number;
  /**
   * Longest silence allowed (no stdout line, no stderr output). A single long command
   * (a test suite) prints no event while it runs: set this above the slowest command.
   */
  idleTimeoutMs: number;
  signal?: AbortSignal;
  /** Called once Codex started, with its pid (also its process group id). */
  onSpawn?: (pid: number) => void;
  /** Called for each event, in order. Must not throw (errors are ignored). */
  onEvent?: (event: CodexEvent) => void;
  /**
   * Run Codex as another user (`setpriv --reuid --regid --clear-groups`) so the commands it
   * runs cannot read the app's files. Needs the worker to run as root (or with CAP_SETUID,
   * CAP_SETGID and CAP_KILL). That user must be able to read `codexBin`, and write `cwd`,
   * CODEX_HOME and HOME; `lastMessagePath` is created and handed to it by the runner.
   */
  runAs?: { uid: number; gid: number };
  /** Optional file for Codex's stderr (its own diagnostics), appended as it arrives. */
  stderrPath?: string;
  /** Delay between SIGTERM and SIGKILL when the runner stops Codex. Default 1000 ms. */
  killGraceMs?: number;
  /** The setpriv executable; default /usr/bin/setpriv or /bin/setpriv; `false` to run without it. */
  setpriv?: string | false;
  /**
   * Token budget of the run (input + output tokens, summed over `turn.completed` events).
   * Once a `turn.completed` pushes the total above it, Codex is stopped and the runner
   * throws `codex_token_cap` (with the usage in `details`); what Codex changed in `cwd`
   * stays there. Codex 0.169 reports usage only when a turn completes, so the cap acts at
   * turn boundaries, never in the middle of a turn.
   */
  maxTokens?: number;
}

export interface CodexRunResult {
  threadId: string | null;
  lastMessage: string | null;
  usage: CodexUsage | null;
  exitCode: number;
  /** Commands Codex ran, in order. */
  commands: string[];
  /** Paths Codex changed, relative to `cwd` when inside it (POSIX separators). */
  filesChanged: string[];
}

const STDERR_TAIL_BYTES = 4096;
const DEFAULT_KILL_GRACE_MS = 1000;
/** How long to wait for stdout to close after Codex exited and the group was killed. */
const DRAIN_MS = 2000;

function findSetpriv(): string | false {
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (existsSync(candidate)) return candidate;
  }
  return false;
}

/** The `codex exec` arguments (without the binary). The prompt follows `--`, so it may start with '-'. */
export function codexExecArgs(
  options: Pick<CodexRunOptions, 'cwd' | 'prompt' | 'model' | 'lastMessagePath'>,
) {
  const args = [
    'exec',
    '--json',
    '--sandbox',
    'workspace-write',
    // The sandbox's writable roots are the workspace, TMPDIR and /tmp; /tmp is
    // shared with every other run and process on the machine, so it is left
    // out (the child's TMPDIR is a directory of its own).
    '-c',
    'sandbox_workspace_write.exclude_slash_tmp=true',
    '--skip-git-repo-check',
    '--ephemeral',
    '--color',
    'never',
    '-C',
    options.cwd,
    '-o',
    options.lastMessagePath,
  ];
  if (options.model) args.push('-m', options.model);
  args.push('--', options.prompt);
  return args;
}

/** Signals the process group led by `pid`; false when it is gone (or not ours to signal). */
function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function relativize(paths: readonly string[], cwd: string): string[] {
  const roots = [cwd];
  try {
    const real = realpathSync(cwd);
    if (real !== cwd) roots.push(real);
  } catch {
    // cwd vanished; keep the paths as Codex wrote them
  }
  const out: string[] = [];
  for (const path of paths) {
    let result = path;
    for (const root of roots) {
      if (!isAbsolute(path)) break;
      const rel = relative(root, path);
      if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) {
        result = rel.split(sep).join('/');
        break;
      }
    }
    if (!out.includes(result)) out.push(result);
  }
  return out;
}

type StopReason = 'timeout' | 'idle' | 'abort' | 'token_cap';

/**
 * Runs `codex exec` and resolves with what it did; throws a CodexError with code
 * `codex_failed`, `codex_timeout`, `codex_idle_timeout`, `codex_auth` (permanent) or
 * `cancelled`; a ConfigError when the binary or setpriv is missing.
 */
export async function runCodex(options: CodexRunOptions): Promise<CodexRunResult> {
  const { signal } = options;
  if (signal?.aborted) {
    throw new CodexError('The Codex run was cancelled before it started.', {
      code: 'cancelled',
      cause: signal.reason,
    });
  }
  if (!existsSync(options.codexBin)) {
    throw new ConfigError(
      `The Codex binary ${options.codexBin} does not exist. Run \`npm install @openai/codex\` with optional dependencies.`,
      { code: 'codex_not_installed' },
    );
  }
  const setpriv = options.setpriv === undefined ? findSetpriv() : options.setpriv;
  if (options.runAs && !setpriv) {
    throw new ConfigError('Running Codex as another user needs setpriv: install util-linux.', {
      code: 'codex_setpriv_missing',
    });
  }

  await mkdir(dirname(options.logPath), { recursive: true });
  await mkdir(dirname(options.lastMessagePath), { recursive: true });
  await rm(options.lastMessagePath, { force: true });
  if (options.runAs) {
    await writeFile(options.lastMessagePath, '', { mode: 0o600 });
    chownSync(options.lastMessagePath, options.runAs.uid, options.runAs.gid);
  }

  const log = await open(options.logPath, 'a');
  const stderrLog = options.stderrPath ? await open(options.stderrPath, 'a') : null;
  // Writes are chained so lines land in order; the chain is awaited before we return.
  let writes: Promise<unknown> = Promise.resolve();
  const append = (file: FileHandle, text: string) => {
    writes = writes.then(() => file.appendFile(text)).catch(() => undefined);
  };

  const codexArgs = codexExecArgs(options);
  const [file, args] = setpriv
    ? [
        setpriv,
        [
          '--pdeathsig',
          'KILL',
          ...(options.runAs
            ? ['--reuid', String(options.runAs.uid), '--regid', String(options.runAs.gid), '--clear-groups']
            : []),
          '--',
          options.codexBin,
          ...codexArgs,
        ],
      ]
    : [options.codexBin, codexArgs];

  let summary: CodexRunSummary = emptyCodexRunSummary();
  let stderrTail = '';
  let stopReason: StopReason | null = null;
  let lastActivityAt = Date.now();
  const startedAt = Date.now();
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;

  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    detached: true,
    cleanup: false,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  const pid = child.pid;
  if (pid !== undefined) {
    try {
      options.onSpawn?.(pid);
    } catch {
      // a listener's failure must not lose the child
    }
  }

  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: StopReason) => {
    if (stopReason || pid === undefined) return;
    stopReason = reason;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), killGraceMs);
  };

  const timeoutTimer = setTimeout(() => stop('timeout'), timerDelay(options.timeoutMs));
  let idleTimer = setTimeout(() => stop('idle'), timerDelay(options.idleTimeoutMs));
  const touch = () => {
    lastActivityAt = Date.now();
    clearTimeout(idleTimer);
    if (!stopReason) idleTimer = setTimeout(() => stop('idle'), timerDelay(options.idleTimeoutMs));
  };
  const onAbort = () => stop('abort');
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort(); // aborted while we prepared the files

  const stdoutDone = (async () => {
    if (!child.stdout) return;
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      touch();
      append(log, `${line}\n`);
      const event = parseCodexEventLine(line);
      if (!event) continue;
      summary = reduceCodexEvent(summary, event);
      try {
        options.onEvent?.(event);
      } catch {
        // a listener's failure must not lose the child
      }
      if (
        event.type === 'turn.completed' &&
        options.maxTokens !== undefined &&
        (summary.usage?.totalTokens ?? 0) > options.maxTokens
      ) {
        stop('token_cap');
      }
    }
  })().catch(() => undefined); // a destroyed stdout ends the loop; what was read is kept
  child.stderr?.on('data', (chunk: Buffer) => {
    touch();
    const text = chunk.toString('utf8');
    if (stderrLog) append(stderrLog, text);
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL_BYTES);
  });

  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  let spawnError: unknown = null;
  try {
    const result = await child;
    exitCode = result.exitCode ?? null;
    exitSignal = result.signal ?? null;
    if (result.failed && result.exitCode === undefined && !result.signal) spawnError = result;
  } finally {
    clearTimeout(timeoutTimer);
    clearTimeout(idleTimer);
    signal?.removeEventListener('abort', onAbort);
    // Sweep whatever Codex left in its group (background commands), then let stdout drain.
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    clearTimeout(killTimer);
    const drained = await Promise.race([
      stdoutDone.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), DRAIN_MS).unref()),
    ]);
    if (!drained) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    if (child.stderr && !child.stderr.readableEnded && !child.stderr.destroyed) {
      await Promise.race([once(child.stderr, 'close'), new Promise((r) => setTimeout(r, 200).unref())]);
    }
    await writes;
    await log.close();
    await stderrLog?.close();
  }

  const details = {
    exitCode,
    signal: exitSignal,
    threadId: summary.threadId,
    stderrTail,
    usage: summary.usage,
  };
  const reason = stopReason as StopReason | null;
  if (reason === 'abort') {
    throw new CodexError('The Codex run was cancelled.', {
      code: 'cancelled',
      cause: signal?.reason,
      details,
    });
  }
  if (reason === 'token_cap') {
    throw new CodexError(
      `Codex used ${summary.usage?.totalTokens ?? 'more'} tokens, over the cap of ${options.maxTokens} ` +
        '(CODEX_MAX_TOKENS), and was stopped. Its changes so far are kept for review; raise the cap or ' +
        'split the phase into smaller tasks, then run it again.',
      { code: 'codex_token_cap', details },
    );
  }
  if (reason === 'timeout') {
    throw new CodexError(
      `Codex did not finish within ${formatMs(options.timeoutMs)} and was stopped. ` +
        'Raise the Codex timeout or split the phase into smaller tasks.',
      { code: 'codex_timeout', details },
    );
  }
  if (reason === 'idle') {
    const last = summary.lastActivity ?? 'nothing (no event at all)';
    throw new CodexError(
      `Codex printed nothing for ${formatMs(options.idleTimeoutMs)} and was stopped; its last activity was ` +
        `${last} ${formatMs(Date.now() - lastActivityAt)} ago (${formatMs(lastActivityAt - startedAt)} into the run). ` +
        'Check that the model provider is reachable, or raise the idle timeout above the slowest command.',
      { code: 'codex_idle_timeout', details },
    );
  }
  if (spawnError) {
    throw new CodexError(`Codex could not be started: ${(spawnError as Error).message}`, {
      code: 'codex_failed',
      cause: spawnError,
      details,
    });
  }
  if (summary.turnFailed || exitCode !== 0) {
    const stderrLine = lastLine(stderrTail);
    const text =
      summary.errorMessage ||
      stderrLine ||
      (exitSignal ? `killed by ${exitSignal}` : `exit code ${exitCode ?? 'unknown'}`);
    if (isCodexAuthFailure(text)) {
      throw new CodexError(
        `Codex could not authenticate with its model provider: ${text}. ${codexAuthRemedy(options.env.CODEX_HOME)}`,
        { code: 'codex_auth', details },
      );
    }
    throw new CodexError(`Codex failed: ${text}`, { code: 'codex_failed', details });
  }

  let lastMessage: string | null = null;
  try {
    const written = await readFile(options.lastMessagePath, 'utf8');
    if (written.trim() !== '') lastMessage = written;
  } catch {
    // Codex writes the file only when there was a final message
  }
  lastMessage ??= summary.lastAgentMessage;

  return {
    threadId: summary.threadId,
    lastMessage,
    usage: summary.usage,
    exitCode: exitCode ?? 0,
    commands: summary.commands,
    filesChanged: relativize(summary.filesChanged, options.cwd),
  };
}

/** setTimeout fires at once for delays above 2^31-1 ms (~24.8 days): clamp. */
function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), 2 ** 31 - 1);
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(
      (l) =>
        l !== '' && !l.startsWith('WARNING: proceeding') && l !== 'Reading additional input from stdin...',
    );
  return lines[lines.length - 1] ?? '';
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  return seconds < 120 ? `${Number(seconds.toFixed(1))} s` : `${Number((seconds / 60).toFixed(1))} min`;
}
