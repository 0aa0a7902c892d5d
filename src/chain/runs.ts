// The run repository: every read and write of runs and step attempts goes
// through here, so the chain's persistence rules live in one file.
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { Prisma, PrismaClient, Tx } from '../db/prisma.ts';
import type { SpecWorkflowRun } from '../generated/prisma/client.ts';
import {
  type Conclusion,
  isTerminal,
  nextStep,
  queueName,
  type RunStatus,
  type Step,
  type StepResult,
  statusForConclusion,
  stepJobId,
} from './chain.ts';

export type Run = SpecWorkflowRun;

export interface Attempt {
  run: Run;
  step: Step;
  attempt: number;
}

export const CANCELLED = { code: 'cancelled', message: 'The run was cancelled.' };

/** What a step hands to the transition: its result, what to store, what to change on the run. */
export interface StepOutcome {
  result: StepResult;
  /** Stored on the attempt row (shown in the API) and in step_output for later steps. */
  output?: Record<string, unknown>;
  /** A patch handed to later steps through step_output.patch. */
  patch?: string;
  runUpdate?: Prisma.SpecWorkflowRunUpdateInput;
  /**
   * The workspace holds what the next step needs: it is left for that step
   * (workspace-handoff.ts) instead of removed. Only for workspaces Codex never touched.
   */
  handOffWorkspace?: boolean;
}

export async function loadRun(prisma: PrismaClient | Tx, runId: string): Promise<Run | null> {
  return prisma.specWorkflowRun.findUnique({ where: { id: runId } });
}

async function lockRun(tx: Tx, runId: string): Promise<Run | null> {
  await tx.$queryRaw`SELECT id FROM spec_workflow_run WHERE id = ${runId}::uuid FOR UPDATE`;
  return tx.specWorkflowRun.findUnique({ where: { id: runId } });
}

/**
 * Starts an attempt of `step`, or returns null when the job is stale: the run
 * has moved past this step (a transition committed but the job's completion
 * was lost) or has ended. Attempts left "running" by a worker that died are
 * closed as failed first, so the history shows every attempt.
 */
export async function beginAttempt(
  prisma: PrismaClient,
  boss: PgBoss,
  runId: string,
  step: Step,
): Promise<Attempt | null> {
  return prisma.$transaction(async (tx) => {
    const run = await lockRun(tx, runId);
    if (!run || run.currentStep !== step || isTerminal(run.status as RunStatus)) return null;
    if (run.status === 'cancelling' && step !== 'finalize') {
      // Cancelled while this step waited in the queue: go straight to finalize.
      await failRun(tx, boss, run, step, CANCELLED, 'cancelled');
      return null;
    }
    const now = new Date();
    await tx.specWorkflowTaskState.updateMany({
      where: { runId, taskName: step, status: 'running' },
      data: {
        status: 'failed',
        finishedAt: now,
        payload: {
          error_code: 'worker_lost',
          message: 'The worker running this attempt stopped before it ended.',
        },
      },
    });
    const last = await tx.specWorkflowTaskState.aggregate({
      where: { runId, taskName: step },
      _max: { attempt: true },
    });
    const attempt = (last._max.attempt ?? 0) + 1;
    await tx.specWorkflowTaskState.create({
      data: { runId, taskName: step, status: 'running', attempt, startedAt: now },
    });
    const started = await tx.specWorkflowRun.update({
      where: { id: runId },
      data: {
        status: run.status === 'pending' ? 'running' : run.status,
        startedAt: run.startedAt ?? now,
      },
    });
    return { run: started, step, attempt };
  });
}

/**
 * The step transition, in ONE transaction: record the attempt's result, store
 * its hand-off, advance the run, and enqueue the next step through pg-boss on
 * the same transaction with a deterministic job id. Either all of it happens
 * or none of it does. Returns null when this attempt was superseded.
 */
export async function commitTransition(
  prisma: PrismaClient,
  boss: PgBoss,
  attempt: Attempt,
  outcome: StepOutcome,
): Promise<Run | null> {
  const { step } = attempt;
  const runId = attempt.run.id;
  return prisma.$transaction(async (tx) => {
    const run = await lockRun(tx, runId);
    if (!run || run.currentStep !== step) return null;
    // Another worker took this step over (and closed this attempt as lost):
    // its attempt is the one that may advance the run, not this one.
    const closed = await tx.specWorkflowTaskState.updateMany({
      where: { runId, taskName: step, attempt: attempt.attempt, status: 'running' },
      data: {
        status: 'succeeded',
        finishedAt: new Date(),
        payload: (outcome.output ?? {}) as Prisma.InputJsonValue,
      },
    });
    if (closed.count === 0) return null;
    if (outcome.output !== undefined || outcome.patch !== undefined) {
      const data = (outcome.output ?? {}) as Prisma.InputJsonValue;
      await tx.stepOutput.upsert({
        where: { runId_step: { runId, step } },
        create: { runId, step, data, patch: outcome.patch ?? null },
        update: { data, patch: outcome.patch ?? null },
      });
    }
    const next = nextStep(step, outcome.result);
    const finishing = outcome.result.kind === 'finish' ? outcome.result : null;
    const update: Prisma.SpecWorkflowRunUpdateInput = { ...outcome.runUpdate };
    if (finishing) {
      update.conclusion = finishing.conclusion;
      update.summary = finishing.summary;
    }
    if (next === null) {
      const conclusion = (update.conclusion ?? run.conclusion ?? 'success') as Conclusion;
      update.status = statusForConclusion(conclusion);
      update.finishedAt = new Date();
    } else {
      update.currentStep = next;
    }
    const updated = await tx.specWorkflowRun.update({ where: { id: runId }, data: update });
    if (next !== null) await enqueueStep(tx, boss, runId, next);
    return updated;
  });
}

/**
 * Records a failed attempt. A permanent failure also ends the run's work: it
 * stores the error and moves the run to finalize (which reports it), or, when
 * finalize itself failed for good, settles the run as failed. An attempt
 * that ended because the run is being cancelled moves it to finalize as
 * cancelled. Returns true when the run will not retry this step.
 */
export async function recordFailure(
  prisma: PrismaClient,
  boss: PgBoss,
  attempt: Attempt,
  error: { code: string; message: string },
  permanent: boolean,
): Promise<boolean> {
  const { step } = attempt;
  const runId = attempt.run.id;
  return prisma.$transaction(async (tx) => {
    const run = await lockRun(tx, runId);
    if (!run) return true;
    const cancelled = run.status === 'cancelling';
    const recorded = cancelled ? CANCELLED : error;
    await tx.specWorkflowTaskState.updateMany({
      where: { runId, taskName: step, attempt: attempt.attempt, status: 'running' },
      data: {
        status: cancelled ? 'cancelled' : 'failed',
        finishedAt: new Date(),
        payload: { error_code: recorded.code, message: recorded.message },
      },
    });
    if (run.currentStep !== step || isTerminal(run.status as RunStatus)) return true;
    if (cancelled) {
      await failRun(tx, boss, run, step, CANCELLED, 'cancelled');
      return true;
    }
    if (!permanent) return false;
    await failRun(tx, boss, run, step, error);
    return true;
  });
}

/** Moves a run that failed at `step` to finalize (or settles it when finalize is what failed). */
export async function failRun(
  tx: Tx,
  boss: PgBoss,
  run: Run,
  step: Step,
  error: { code: string; message: string },
  conclusion: Conclusion = 'failure',
): Promise<void> {
  const errorFields = { errorCode: error.code, errorMessage: error.message, errorStep: step, conclusion };
  if (step === 'finalize') {
    await tx.specWorkflowRun.update({
      where: { id: run.id },
      data: {
        ...errorFields,
        conclusion: run.conclusion ?? conclusion,
        status: 'failed',
        finishedAt: new Date(),
      },
    });
    return;
  }
  await tx.specWorkflowRun.update({
    where: { id: run.id },
    data: { ...errorFields, currentStep: 'finalize' },
  });
  await enqueueStep(tx, boss, run.id, 'finalize');
}

/** Sends the job for `step` on the caller's transaction; a duplicate id is a no-op. */
export async function enqueueStep(tx: Tx, boss: PgBoss, runId: string, step: Step): Promise<void> {
  const generation = await tx.specWorkflowTaskState.count({
    where: { runId, taskName: step, status: { in: ['failed', 'succeeded', 'cancelled'] } },
  });
  // Deterministic: the same run, step and pass always give the same job id,
  // so a repeated transition cannot enqueue the step twice.
  const id = stepJobId(runId, step, generation + 1);
  // Codex steps are grouped by installation, so that one busy organization
  // cannot take every Codex slot (SPECKIT_INSTALLATION_CONCURRENCY).
  const group =
    step === 'codex'
      ? await tx.specWorkflowRun.findUnique({ where: { id: runId }, select: { installationId: true } })
      : null;
  await boss.send(
    queueName(step),
    { runId },
    { id, db: fromPrisma(tx), ...(group ? { group: { id: String(group.installationId) } } : {}) },
  );
}

/** The hand-off a previous step stored. */
export async function loadStepOutput(
  prisma: PrismaClient,
  runId: string,
  step: Step,
): Promise<{ data: Record<string, unknown>; patch: string | null } | null> {
  const row = await prisma.stepOutput.findUnique({ where: { runId_step: { runId, step } } });
  if (!row) return null;
  return { data: row.data as Record<string, unknown>, patch: row.patch };
}
