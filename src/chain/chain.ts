// The chain's shape and transitions. Pure: no I/O, so every rule here is
// unit-tested without a database.
import { v5 as uuidv5 } from 'uuid';

export const STEPS = ['intake', 'discover', 'codex', 'apply', 'publish', 'finalize'] as const;
export type Step = (typeof STEPS)[number];

export type RunStatus = 'pending' | 'running' | 'cancelling' | 'succeeded' | 'failed' | 'cancelled';
export type Conclusion = 'success' | 'failure' | 'neutral' | 'cancelled' | 'timed_out';

export const ACTIVE_STATUSES: readonly RunStatus[] = ['pending', 'running', 'cancelling'];

/** How a step ended: go on to the next step, or skip to finalize with an outcome. */
export type StepResult = { kind: 'continue' } | { kind: 'finish'; conclusion: Conclusion; summary: string };

export function isStep(value: string): value is Step {
  return (STEPS as readonly string[]).includes(value);
}

/** The step after `step` given its result; null after finalize. */
export function nextStep(step: Step, result: StepResult): Step | null {
  if (step === 'finalize') return null;
  if (result.kind === 'finish') return 'finalize';
  const index = STEPS.indexOf(step);
  return STEPS[index + 1] ?? null;
}

/** The run status that a finished run with this conclusion ends in. */
export function statusForConclusion(conclusion: Conclusion): RunStatus {
  switch (conclusion) {
    case 'success':
    case 'neutral':
      return 'succeeded';
    case 'cancelled':
      return 'cancelled';
    case 'failure':
    case 'timed_out':
      return 'failed';
  }
}

export function isTerminal(status: RunStatus): boolean {
  return !ACTIVE_STATUSES.includes(status);
}

export function queueName(step: Step): string {
  return `speckit.${step}`;
}

/** The dead-letter queue: jobs that exhausted their retries land here and are settled. */
export const DEAD_LETTER_QUEUE = 'speckit.dead';

// A fixed namespace for the app's derived ids (uuid v5): the same inputs
// always give the same id, which makes enqueues and run creation idempotent.
const NAMESPACE = '7c1f2b4e-9a53-4d59-9d2b-5e0f8c6a1d37';

/** The job id of `step` of `runId`, enqueued for the `generation`-th time (1 on the first pass). */
export function stepJobId(runId: string, step: Step, generation: number): string {
  return uuidv5(`${runId}:${step}:${generation}`, NAMESPACE);
}

/** The intake job id of a webhook delivery: a redelivery maps to the same job. */
export function intakeJobId(deliveryId: string): string {
  return uuidv5(`intake:${deliveryId}`, NAMESPACE);
}

/** The run id a trigger creates: a retried intake finds the run it created before. */
export function runIdForTrigger(triggerId: string): string {
  return uuidv5(`run:${triggerId}`, NAMESPACE);
}
