// Errors of the local Codex runner. Every one carries a `code` stored on the run:
//   codex_failed        Codex reported a failed turn or exited non-zero (retryable)
//   codex_timeout       the run exceeded its wall-clock budget (retryable)
//   codex_idle_timeout  Codex printed nothing for too long (retryable)
//   codex_auth          Codex could not authenticate with its model provider (permanent)
//   cancelled           the caller aborted the run (not a failure of Codex)
//   codex_token_cap     Codex used more tokens than CODEX_MAX_TOKENS allows (its diff is kept)
//   codex_credentials_missing  the preflight found no credentials (permanent)
//   codex_cloud_failed  a Codex Cloud task ended in error, or the cloud CLI failed (permanent)
//   codex_cloud_unrecognized   the cloud CLI printed something the runner cannot read (permanent)

import { SpeckitError } from '../errors.ts';
import type { CodexUsage } from './codex-events.ts';

export type CodexErrorCode =
  | 'codex_failed'
  | 'codex_timeout'
  | 'codex_idle_timeout'
  | 'codex_auth'
  | 'cancelled'
  | 'codex_token_cap'
  | 'codex_credentials_missing'
  | 'codex_cloud_failed'
  | 'codex_cloud_unrecognized';

/** Codes a retry cannot fix: the run fails at once (and again on a retry without a fix). */
const PERMANENT_CODES: ReadonlySet<CodexErrorCode> = new Set([
  'codex_auth',
  'codex_token_cap',
  'codex_credentials_missing',
  'codex_cloud_failed',
  'codex_cloud_unrecognized',
]);

/** What the runner knew when it failed: for logs and the step's stored payload. */
export interface CodexFailureDetails {
  exitCode: number | null;
  signal: string | null;
  threadId: string | null;
  /** The last lines Codex wrote to stderr (its own log output), at most a few KiB. */
  stderrTail: string;
  /** Token usage reported before the failure, when any. */
  usage: CodexUsage | null;
}

export interface CodexErrorOptions {
  code: CodexErrorCode;
  cause?: unknown;
  details?: Partial<CodexFailureDetails>;
}

/**
 * A failed Codex run. `codex_auth`, `codex_credentials_missing`, `codex_token_cap` and the
 * cloud codes are permanent (`isPermanent()` is true): a retry cannot help until the operator
 * acts. `codex_failed` and the timeouts are retried. `cancelled` is not permanent but is no
 * failure of Codex either: the chain finalizes the run as cancelled.
 */
export class CodexError extends SpeckitError {
  declare readonly code: CodexErrorCode;
  readonly details: CodexFailureDetails;
  constructor(message: string, options: CodexErrorOptions) {
    super(message, { code: options.code, cause: options.cause });
    this.details = {
      exitCode: options.details?.exitCode ?? null,
      signal: options.details?.signal ?? null,
      threadId: options.details?.threadId ?? null,
      stderrTail: options.details?.stderrTail ?? '',
      usage: options.details?.usage ?? null,
    };
  }

  override get permanent(): boolean {
    return PERMANENT_CODES.has(this.code);
  }
}

const AUTH_PATTERNS: readonly RegExp[] = [
  /\b401\b/,
  /unauthorized/i,
  /\b403 Forbidden\b/i,
  /invalid[_ ]api[_ ]key/i,
  /incorrect api key/i,
  /missing environment variable/i,
  /not logged in/i,
  /no (api key|credentials)/i,
  /authenticat(e|ion) (failed|error|required)/i,
  /(token|refresh token).*(expired|revoked|invalid)/i,
  /please (re-?)?(log ?in|sign ?in)/i,
];

/** True when Codex's error text says it could not authenticate with its model provider. */
export function isCodexAuthFailure(text: string): boolean {
  return AUTH_PATTERNS.some((pattern) => pattern.test(text));
}

/** The remediation an operator needs when Codex has no valid credentials. */
export function codexAuthRemedy(codexHome: string | undefined): string {
  const home = codexHome ? ` with CODEX_HOME=${codexHome}` : '';
  return (
    `Run \`codex login\`${home} as the user the worker runs Codex as, or set OPENAI_API_KEY ` +
    "(or the API key variable named by the provider's env_key, passed through to Codex) for the worker, then retry."
  );
}
