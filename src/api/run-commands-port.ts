// The port through which the API starts, retries and cancels runs. The chain
// implements it (src/chain/run-commands.ts); the API only translates results
// into HTTP answers.
export type CreateRunResult =
  | { kind: 'created'; runId: string }
  | { kind: 'active'; runId: string }
  | { kind: 'not_installed'; message: string }
  | { kind: 'invalid'; message: string }
  /** An installation limit of .github/speckit.yml (`limits.…`) is reached: nothing was created. */
  | { kind: 'limited'; field: string; message: string };
export type RetryRunResult =
  | { kind: 'retried' }
  | { kind: 'not_found' }
  | { kind: 'conflict'; message: string };
export type CancelRunResult =
  | { kind: 'cancelling' }
  | { kind: 'not_found' }
  | { kind: 'conflict'; message: string };
export interface RunCommands {
  createRun(input: {
    repository: string;
    featureKey?: string;
    forcePhase?: string;
    createdBy: string;
  }): Promise<CreateRunResult>;
  retryRun(runId: string, input: { notes?: string; actor: string }): Promise<RetryRunResult>;
  cancelRun(runId: string, input: { actor: string }): Promise<CancelRunResult>;
}

const UNAVAILABLE = 'Starting, retrying and cancelling runs through the API is not wired in this build.';

/** Stands in until the chain's run commands are passed to the API: every command is refused. */
export const unavailableRunCommands: RunCommands = {
  createRun: async () => ({ kind: 'invalid', message: UNAVAILABLE }),
  retryRun: async () => ({ kind: 'conflict', message: UNAVAILABLE }),
  cancelRun: async () => ({ kind: 'conflict', message: UNAVAILABLE }),
};
