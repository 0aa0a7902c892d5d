import { type ErrorOptions, SpeckitError } from '../errors.ts';

/** Why a git command failed, as far as its output tells. */
export type GitFailureKind =
  | 'auth'
  | 'network'
  | 'not_found'
  | 'conflict'
  | 'rejected'
  | 'nothing_to_commit'
  | 'invalid_input'
  | 'timeout'
  | 'cancelled'
  | 'other';

export interface GitErrorOptions extends ErrorOptions {
  kind?: GitFailureKind;
  /** The git arguments, already redacted. */
  args?: readonly string[];
  exitCode?: number | null;
  /** Already redacted. */
  stdout?: string;
  /** Already redacted. */
  stderr?: string;
  /** Files the failure is about (a patch conflict, a rejected path). */
  paths?: readonly string[];
}

const transientKinds: ReadonlySet<GitFailureKind> = new Set(['network', 'timeout', 'other']);

/**
 * A git command failed. Every text field is redacted before it gets here: no token,
 * no base64 form of it, no credentials in URLs.
 */
export class GitError extends SpeckitError {
  readonly kind: GitFailureKind;
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly paths: readonly string[];

  constructor(message: string, options: GitErrorOptions = {}) {
    const kind = options.kind ?? 'other';
    super(message, {
      code: options.code ?? `git_${kind === 'other' ? 'error' : kind}`,
      cause: options.cause,
    });
    this.kind = kind;
    this.args = options.args ?? [];
    this.exitCode = options.exitCode ?? null;
    this.stdout = options.stdout ?? '';
    this.stderr = options.stderr ?? '';
    this.paths = options.paths ?? [];
  }

  /** True when trying again later (with a fresh token, after a network blip) may succeed. */
  get transient(): boolean {
    return transientKinds.has(this.kind) || this.kind === 'auth';
  }

  /** A conflict, a rejected push or bad input will not go away by retrying. */
  override get permanent(): boolean {
    return !this.transient;
  }
}
