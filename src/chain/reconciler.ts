// The reconciler: a periodic pass in every worker process that settles what
// the chain itself can no longer settle, so that no check run or progress
// comment stays "in progress" forever.
//
// 1. Active runs with no live job left (pg-boss gave up: retries exhausted,
//    expired, dead-lettered and the dead letter lost) end as failed — or as
//    cancelled when they were being cancelled. A run whose worker died still
//    has its job (active with a stale heartbeat, or waiting to retry): pg-boss
//    hands it to another worker, and the reconciler leaves it alone.
// 2. Active runs whose installation is gone (the app was uninstalled) end at
//    once: nothing can be cloned or reported any more.
// 3. Finished runs whose last finalize did not report them (finalize failed
//    for good, or 1. settled them) are reported now: check run completed,
//    progress comment final. A finalize attempt row records that it was done.
// 4. Finished runs whose trigger said `--all` get their next phase started,
//    if the worker that settled them did not get to it.
// Every part is safe to run in several processes at once.
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Prisma, PrismaClient } from '../db/prisma.ts';
import { errorMessage } from '../errors.ts';
import type { GitHubAuth } from '../github/octokit.ts';
import { type Conclusion, isTerminal, type RunStatus } from './chain.ts';
import { continueAfterSuccess } from './next-phase.ts';
import { type ReportDeps, reportRun } from './report-run.ts';
import type { Run } from './runs.ts';

const PGBOSS_SCHEMA = 'pgboss';
const LIVE_JOB_STATES = ['created', 'retry', 'active'];

export interface ReconcilerDeps {
  prisma: PrismaClient;
  boss: PgBoss;
  github: GitHubAuth;
  log: Logger;
  config?: ReportDeps['config'];
}

export interface ReconcileOptions {
  /** An active run is only looked at when it has not changed for this long (default 60 s). */
  staleAfterMs?: number;
  /** Finished runs older than this are left alone (default 24 h). */
  lookBackMs?: number;
}

export interface ReconcileResult {
  settled: string[];
  reported: string[];
  continued: string[];
}

/** Whether a live pg-boss job (queued, waiting to retry, or running) still carries the run. */
async function hasLiveJob(
  db: PrismaClient | Prisma.TransactionClient,
  run: Pick<Run, 'id' | 'triggerDeliveryId'>,
) {
  const rows = await db.$queryRawUnsafe<{ found: boolean }[]>(
    `SELECT EXISTS (
       SELECT 1 FROM ${PGBOSS_SCHEMA}.job
        WHERE name LIKE 'speckit.%'
          AND state::text = ANY($1::text[])
          AND (data->>'runId' = $2 OR ($3::text IS NOT NULL AND data->>'deliveryId' = $3::text))
     ) AS found`,
    LIVE_JOB_STATES,
    run.id,
    run.triggerDeliveryId,
  );
  return rows[0]?.found === true;
}

/** True when GitHub says the installation no longer exists. */
async function installationGone(github: GitHubAuth, installationId: number): Promise<boolean> {
  try {
    const app = await github.app();
    await app.request('GET /app/installations/{installation_id}', { installation_id: installationId });
    return false;
  } catch (error) {
    const status = (error as { status?: number }).status;
    return status === 404 || status === 410;
  }
}

function isGoneError(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === 401 || status === 404 || status === 410;
}

/** Ends an active run that can no longer progress; false when it moved on meanwhile. */
async function settleRun(
  deps: ReconcilerDeps,
  runId: string,
  reason: { code: string; message: string },
): Promise<boolean> {
  return deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM spec_workflow_run WHERE id = ${runId}::uuid FOR UPDATE`;
    const run = await tx.specWorkflowRun.findUnique({ where: { id: runId } });
    if (!run || isTerminal(run.status as RunStatus)) return false;
    if (reason.code !== 'installation_gone' && (await hasLiveJob(tx, run))) return false;
    const now = new Date();
    await tx.specWorkflowTaskState.updateMany({
      where: { runId, status: 'running' },
      data: {
        status: 'failed',
        finishedAt: now,
        payload: { error_code: reason.code, message: reason.message },
      },
    });
    const cancelled = run.status === 'cancelling';
    // Work that was done and only waited for finalize to report it keeps its outcome.
    const finishedWork = run.currentStep === 'finalize' && run.conclusion !== null && !run.errorMessage;
    const conclusion: Conclusion = cancelled
      ? 'cancelled'
      : finishedWork
        ? (run.conclusion as Conclusion)
        : 'failure';
    await tx.specWorkflowRun.update({
      where: { id: runId },
      data: {
        status: cancelled ? 'cancelled' : finishedWork && conclusion !== 'failure' ? 'succeeded' : 'failed',
        conclusion,
        finishedAt: now,
        ...(finishedWork && !cancelled
          ? {}
          : {
              errorCode: cancelled ? 'cancelled' : reason.code,
              errorMessage: reason.message,
              errorStep: run.currentStep,
            }),
      },
    });
    return true;
  });
}

/** Records that the final report was made (or could not be: installation gone). */
async function recordFinalReport(
  prisma: PrismaClient,
  runId: string,
  status: 'succeeded' | 'skipped',
  payload: Record<string, unknown>,
): Promise<void> {
  const last = await prisma.specWorkflowTaskState.aggregate({
    where: { runId, taskName: 'finalize' },
    _max: { attempt: true },
  });
  const now = new Date();
  await prisma.specWorkflowTaskState
    .create({
      data: {
        runId,
        taskName: 'finalize',
        status,
        attempt: (last._max.attempt ?? 0) + 1,
        startedAt: now,
        finishedAt: now,
        payload: payload as Prisma.InputJsonValue,
      },
    })
    .catch(() => {
      // Another process recorded it at the same moment: the report was made either way.
    });
}

export async function reconcileOnce(
  deps: ReconcilerDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const { prisma, log } = deps;
  const staleBefore = new Date(Date.now() - (options.staleAfterMs ?? 60_000));
  const since = new Date(Date.now() - (options.lookBackMs ?? 24 * 3_600_000));
  const result: ReconcileResult = { settled: [], reported: [], continued: [] };

  // 1 and 2: active runs that stopped changing.
  const stale = await prisma.specWorkflowRun.findMany({
    where: { status: { in: ['pending', 'running', 'cancelling'] }, updatedAt: { lt: staleBefore } },
    take: 100,
  });
  const gone = new Map<bigint, boolean>();
  for (const run of stale) {
    if (!gone.has(run.installationId))
      gone.set(run.installationId, await installationGone(deps.github, Number(run.installationId)));
    let reason: { code: string; message: string } | null = null;
    if (gone.get(run.installationId)) {
      reason = {
        code: 'installation_gone',
        message: 'The GitHub App is no longer installed on this repository; the run was stopped.',
      };
    } else if (!(await hasLiveJob(prisma, run))) {
      reason = {
        code: 'abandoned',
        message:
          `Step ${run.currentStep} can no longer progress: its job ended without finishing ` +
          '(retries exhausted, expired or lost).',
      };
    }
    if (reason && (await settleRun(deps, run.id, reason))) {
      log.warn({ runId: run.id, step: run.currentStep, reason: reason.code }, 'reconciler settled a run');
      result.settled.push(run.id);
    }
  }

  // 3: finished runs whose final report is missing.
  const unreported = await prisma.$queryRaw<{ id: string }[]>`
    SELECT r.id::text AS id FROM spec_workflow_run r
     WHERE r.status IN ('succeeded', 'failed', 'cancelled')
       AND r.finished_at > ${since}
       AND (r.check_run_id IS NOT NULL OR r.progress_comment_id IS NOT NULL)
       AND COALESCE((
         SELECT t.status FROM spec_workflow_task_state t
          WHERE t.run_id = r.id AND t.task_name = 'finalize'
          ORDER BY t.attempt DESC LIMIT 1), 'none') NOT IN ('succeeded', 'skipped')
     LIMIT 100`;
  for (const { id } of unreported) {
    const run = await prisma.specWorkflowRun.findUnique({ where: { id } });
    if (!run) continue;
    const conclusion = (run.conclusion ??
      (run.status === 'cancelled' ? 'cancelled' : 'failure')) as Conclusion;
    if (run.errorCode === 'installation_gone') {
      // Nothing can reach GitHub for this installation any more.
      await recordFinalReport(prisma, run.id, 'skipped', { error_code: 'installation_gone', conclusion });
      continue;
    }
    try {
      await reportRun({ prisma, github: deps.github, ...(deps.config ? { config: deps.config } : {}) }, run, {
        conclusion,
      });
      await recordFinalReport(prisma, run.id, 'succeeded', { conclusion, reconciled: true });
      result.reported.push(run.id);
    } catch (error) {
      if (isGoneError(error)) {
        await recordFinalReport(prisma, run.id, 'skipped', {
          error_code: 'installation_gone',
          message: `The final report could not be made: ${errorMessage(error)}`,
        });
      } else {
        log.warn({ err: error, runId: run.id }, 'reconciler could not report a run; will try again');
      }
    }
  }

  // 4: `--all` runs whose next phase was not started.
  const pending = await prisma.$queryRaw<{ id: string }[]>`
    SELECT r.id::text AS id FROM spec_workflow_run r
      JOIN webhook_delivery d ON d.id = r.trigger_delivery_id
     WHERE r.status = 'succeeded' AND r.conclusion = 'success'
       AND r.finished_at > ${since} AND r.finished_at < ${staleBefore}
       AND d.trigger->>'all' = 'true'
       AND NOT EXISTS (SELECT 1 FROM webhook_delivery c WHERE c.id = 'continue:' || r.id::text)
     LIMIT 100`;
  for (const { id } of pending) {
    const run = await prisma.specWorkflowRun.findUnique({ where: { id } });
    if (run && (await continueAfterSuccess(deps, run)) === 'accepted') result.continued.push(run.id);
  }
  return result;
}

/** Runs `reconcileOnce` every `intervalMs` until stopped; a failed pass is logged and retried next time. */
export function startReconciler(
  deps: ReconcilerDeps,
  intervalMs: number,
  options: ReconcileOptions = {},
): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = reconcileOnce(deps, options)
      .then((result) => {
        if (result.settled.length + result.reported.length + result.continued.length > 0)
          deps.log.info(result, 'reconciler pass');
      })
      .catch((error: unknown) => deps.log.warn({ err: error }, 'reconciler pass failed'))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
