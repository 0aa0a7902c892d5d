// The app's error hierarchy. Every error carries a `code` (stored on the run
// and its step attempt) and a message that says how to fix the problem.
// `cause` keeps the original error for logs.

export interface ErrorOptions {
  cause?: unknown;
  code?: string;
}

/** Base class: a failure of speckit-bot itself or of something it called. */
export class SpeckitError extends Error {
  readonly code: string;
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'internal_error';
  }

  /** True when retrying cannot help; subclasses that know better override it. */
  get permanent(): boolean {
    return false;
  }
}

/**
 * A problem in what the user gave us (a bad command, a missing tasks.md, ...).
 * Its message is safe to show on GitHub and never worth retrying.
 */
export class UserError extends SpeckitError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: 'user_error', ...options });
  }

  override get permanent(): boolean {
    return true;
  }
}

/** A failure that a retry cannot fix: the run fails at this step at once. */
export class NonRetryableError extends SpeckitError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: 'non_retryable', ...options });
  }

  override get permanent(): boolean {
    return true;
  }
}

/** The process's configuration is invalid; it cannot start. */
export class ConfigError extends SpeckitError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: 'config_error', ...options });
  }

  override get permanent(): boolean {
    return true;
  }
}

/** True when retrying the failed operation cannot help. */
export function isPermanent(error: unknown): boolean {
  return error instanceof SpeckitError && error.permanent;
}

/** The code to record for any thrown value. */
export function errorCode(error: unknown): string {
  return error instanceof SpeckitError ? error.code : 'internal_error';
}

/** A one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
