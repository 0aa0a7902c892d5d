// The one place that spawns git: a controlled environment, the token handed over
// through GIT_CONFIG_* environment variables (never argv, never .git/config), and
// every error message redacted.
import { execa } from 'execa';
import { GitError, type GitFailureKind } from './git-error.ts';
import { authHeaderValue, redact, tokenSecrets } from './secrets.ts';

export { authHeaderValue, redact } from './secrets.ts';

export interface GitAuth {
  token: string;
}

export interface RunGitOptions {
  cwd?: string;
  auth?: GitAuth;
  /** Written to git's stdin. */
  input?: string;
  /** Extra environment (e.g. GIT_AUTHOR_NAME, GIT_INDEX_FILE). GIT_CONFIG_* keys are refused. */
  env?: Record<string, string>;
  /** Extra per-command configuration, passed like `-c key=value` but through the environment. */
  config?: Record<string, string>;
  /** Kill git after this long; default 10 minutes. */
  timeoutMs?: number;
  /** Kill git when this signal aborts (run cancelled). */
  signal?: AbortSignal;
}

export interface GitOutput {
  /** Exactly as git printed it (not trimmed: a patch keeps its final newline). */
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const MAX_BUFFER = 512 * 1024 * 1024;

/** Variables taken from the parent process; everything else (HOME, GIT_*, app secrets) is left out. */
const INHERITED_ENV = [
  'PATH',
  'TMPDIR',
  'TZ',
  'SYSTEMROOT',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
] as const;

/**
 * Configuration every git command gets. Nothing from the user's or the system's git
 * config applies (GIT_CONFIG_GLOBAL=/dev/null, GIT_CONFIG_NOSYSTEM=1), and a repository's
 * own .git/config cannot run programs: no hooks, no fsmonitor, no credential helpers.
 */
const BASE_CONFIG: Readonly<Record<string, string>> = {
  'core.hooksPath': '/dev/null',
  'core.fsmonitor': 'false',
  'credential.helper': '',
  'commit.gpgSign': 'false',
  'tag.gpgSign': 'false',
  'advice.detachedHead': 'false',
  'gc.auto': '0',
  'maintenance.auto': 'false',
};

/** The environment git runs with (exported for tests; holds the token when auth is given). */
export function gitEnvironment(
  options: Pick<RunGitOptions, 'auth' | 'env' | 'config'> = {},
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV) {
    const value = parent[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, {
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_LFS_SKIP_SMUDGE: '1',
  });
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (key.startsWith('GIT_CONFIG')) {
      throw new TypeError(`runGit: pass configuration through options.config, not ${key}.`);
    }
    env[key] = value;
  }
  const config: Record<string, string> = { ...BASE_CONFIG, ...options.config };
  if (options.auth) config['http.extraheader'] = authHeaderValue(options.auth.token);
  const entries = Object.entries(config);
  env.GIT_CONFIG_COUNT = String(entries.length);
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** Guesses from git's output why it failed. */
export function classifyGitFailure(stderr: string): GitFailureKind {
  const text = stderr.toLowerCase();
  if (
    /authentication failed|could not read (username|password)|terminal prompts disabled|invalid username or password|returned error: 40[13]|http 40[13]|permission to .* denied|write access to repository not granted/.test(
      text,
    )
  ) {
    return 'auth';
  }
  if (
    /repository not found|repository '[^']*' not found|does not appear to be a git repository|not found in upstream|remote branch .* not found|couldn't find remote ref|returned error: 404/.test(
      text,
    )
  ) {
    return 'not_found';
  }
  if (
    /could not resolve host|failed to connect|connection (refused|reset|timed out)|couldn't connect|operation timed out|rpc failed|early eof|the remote end hung up|returned error: 5\d\d|tls|ssl|gnutls/.test(
      text,
    )
  ) {
    return 'network';
  }
  return 'other';
}

const HINTS: Partial<Record<GitFailureKind, string>> = {
  auth: 'The installation token was refused: check that the app is installed on this repository with Contents read & write permission, and ask for a fresh token before retrying.',
  not_found:
    'Check the repository URL and branch name, and that the app installation can see the repository.',
  network: 'The git server could not be reached; this is usually temporary and worth retrying.',
  timeout: 'git took too long; retry, or raise the timeout for large repositories.',
};

function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-count)
    .join(' | ');
}

/**
 * Runs `git <args>` and returns its output, or throws a GitError whose message, args,
 * stdout and stderr are redacted.
 */
export async function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<GitOutput> {
  const { stdout, stderr } = await execGit(args, options, 'utf8');
  return { stdout, stderr };
}

/** Like runGit, with stdout as raw bytes (for output that need not be UTF-8). */
export async function runGitBytes(
  args: readonly string[],
  options: RunGitOptions = {},
): Promise<{ stdout: Uint8Array; stderr: string }> {
  return execGit(args, options, 'buffer');
}

async function execGit<E extends 'utf8' | 'buffer'>(
  args: readonly string[],
  options: RunGitOptions,
  encoding: E,
): Promise<{ stdout: E extends 'utf8' ? string : Uint8Array; stderr: string }> {
  const secrets = options.auth ? tokenSecrets(options.auth.token) : [];
  const env = gitEnvironment(options);
  const safeArgs = args.map((a) => redact(a, secrets));
  const command = `git ${safeArgs[0] ?? ''}`.trim();
  const result = await execa('git', [...args], {
    cwd: options.cwd,
    env,
    extendEnv: false,
    input: options.input ?? '',
    reject: false,
    stripFinalNewline: false,
    encoding,
    maxBuffer: MAX_BUFFER,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    cancelSignal: options.signal,
    forceKillAfterDelay: 5_000,
  });
  const rawStdout: unknown = result.stdout;
  const rawStderr: unknown = result.stderr;
  const stderr =
    typeof rawStderr === 'string'
      ? rawStderr
      : rawStderr instanceof Uint8Array
        ? Buffer.from(rawStderr).toString('utf8')
        : '';
  if (!result.failed) {
    const stdout = encoding === 'utf8' ? (typeof rawStdout === 'string' ? rawStdout : '') : rawStdout;
    return { stdout: stdout as E extends 'utf8' ? string : Uint8Array, stderr };
  }

  const stdoutText =
    typeof rawStdout === 'string'
      ? rawStdout
      : rawStdout instanceof Uint8Array
        ? Buffer.from(rawStdout).toString('utf8')
        : '';
  const safeStdout = redact(stdoutText, secrets);
  const safeStderr = redact(stderr, secrets);
  const exitCode = result.exitCode ?? null;
  let kind: GitFailureKind;
  let detail: string;
  if (result.isCanceled) {
    kind = 'cancelled';
    detail = 'cancelled';
  } else if (result.timedOut) {
    kind = 'timeout';
    detail = `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`;
  } else if (exitCode === null) {
    kind = 'other';
    // Spawn failure (git missing, bad cwd) or a signal. execa's messages name no environment.
    detail = redact(
      result.signal ? `killed by ${result.signal}` : (result.originalMessage ?? 'could not start'),
      secrets,
    );
  } else {
    kind = classifyGitFailure(safeStderr);
    detail = `exit ${exitCode}`;
  }
  const output = lastLines(safeStderr, 4) || lastLines(safeStdout, 2);
  const hint = HINTS[kind];
  const message = `${command} failed (${detail})${output ? `: ${output}` : ''}${hint ? `. ${hint}` : ''}`;
  throw new GitError(message, { kind, args: safeArgs, exitCode, stdout: safeStdout, stderr: safeStderr });
}
