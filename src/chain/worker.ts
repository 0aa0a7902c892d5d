// pg-boss glue: one queue per step, LISTEN/NOTIFY dispatch, heartbeats, and
// the rules that turn a handler's result or error into a transition.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Job, JobWithMetadata, PgBoss, Queue } from 'pg-boss';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { errorCode, errorMessage, isPermanent } from '../errors.ts';
import { type GitHubAuth, isInstallationGone } from '../github/octokit.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createArtifactWriter } from './artifacts.ts';
import type { CancelListener } from './cancel-listener.ts';
import { DEAD_LETTER_QUEUE, isStep, queueName, runIdForTrigger, STEPS, type Step } from './chain.ts';
import { beginAttempt, commitTransition, failRun, type Run, recordFailure } from './runs.ts';
import type { StepHandler } from './step-context.ts';
import { handOffDir, handOffWorkspace } from './workspace-handoff.ts';

export const RETRY_LIMIT = 3;

export interface WorkerDeps {
  prisma: PrismaClient;
  boss: PgBoss;
  github: GitHubAuth;
  config: Config;
  log: Logger;
  handlers: Record<Step, StepHandler>;
  /** Turns a stored trigger into a run (or a reply); returns the run id, or null when there is no run. */
  admit: (deliveryId: string) => Promise<string | null>;
  /** Called after every committed transition (reporting follows stored state). */
  onRunChanged?: (run: Run) => Promise<void>;
  /** Aborts a running step when its run is cancelled from anywhere. */
  cancels: CancelListener;
  /** Step durations, settled runs and Codex tokens for /metrics. */
  metrics?: Pick<Metrics, 'stepDuration' | 'runFinished' | 'codexTokens'>;
  // issue #7: a throttled live refresh while a step runs (the callee throttles).
  /** Called every few seconds while a step runs. */
  onStepTick?: (runId: string, step: Step) => Promise<void>;
}

// issue #7: how often onStepTick is called while a step runs.
const STEP_TICK_MS = 2_000;

const stepJobData = z.object({ runId: z.uuid() });
/** An intake job starts from a webhook delivery, or from a run created through the API. */
const intakeJobData = z.union([z.object({ deliveryId: z.string().min(1) }), z.object({ runId: z.uuid() })]);

function queueOptions(step: Step, config: Config): Omit<Queue, 'name'> {
  return {
    notify: true,
    retryLimit: RETRY_LIMIT,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 60,
    deadLetter: DEAD_LETTER_QUEUE,
    heartbeatSeconds: config.heartbeatSeconds,
    // The heartbeat detects a dead worker; expiry only bounds a live one.
    expireInSeconds: step === 'codex' ? Math.ceil(config.codex.timeoutMs / 1000) + 300 : 900,
  };
}

/** Creates (or brings up to date) every queue the chain uses. */
export async function createQueues(boss: PgBoss, config: Config): Promise<void> {
  await ensureQueue(boss, DEAD_LETTER_QUEUE, { notify: true, retryLimit: 5, retryDelay: 5 });
  for (const step of STEPS) await ensureQueue(boss, queueName(step), queueOptions(step, config));
}

async function ensureQueue(boss: PgBoss, name: string, options: Omit<Queue, 'name'>): Promise<void> {
  if (await boss.getQueue(name)) await boss.updateQueue(name, options);
  else await boss.createQueue(name, options);
}

// NOTIFY wakes a worker the moment a job is sent; polling is only the fallback
// for a lost notification (pg-boss requires notify polling >= base polling).
const POLLING = { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 } as const;

export interface Workers {
  /** Resolves when every step handler that started has settled (after a stop). */
  drain(): Promise<void>;
}

/**
 * How SPECKIT_CONCURRENCY is used: Codex steps and the short steps (intake,
 * discover, apply, publish, finalize) have a limit of their own, each
 * SPECKIT_CONCURRENCY. Codex steps take minutes and short ones seconds: with
 * one shared limit a busy Codex would hold up every run's reporting and
 * publishing, and Codex would have to be kept below the limit so the short
 * steps could go on (measured in docs/benchmarks.md: a third wave of Codex).
 */
export function concurrencyPlan(concurrency: number): { steps: number; codex: number } {
  return { steps: concurrency, codex: concurrency };
}

export async function startWorkers(deps: WorkerDeps): Promise<Workers> {
  const { boss, config } = deps;
  const plan = concurrencyPlan(config.concurrency);
  const limits = { codex: pLimit(plan.codex), steps: pLimit(plan.steps) };
  const active = new Set<Promise<unknown>>();
  const keep = (promise: Promise<unknown>) => {
    active.add(promise);
    void promise.finally(() => active.delete(promise)).catch(() => {});
  };
  const track = <T>(kind: keyof typeof limits, work: () => Promise<T>): Promise<T> => {
    const promise = limits[kind](work);
    keep(promise);
    return promise;
  };
  // Reporting after a transition waits on GitHub's write pace; it goes on
  // after the job is done, so it holds no step slot (drain still waits for it).
  const afterCommit: AfterCommit = (report) => keep(report);
  await boss.work(queueName('intake'), { ...POLLING, batchSize: 1, localConcurrency: plan.steps }, ([job]) =>
    track('steps', async () => {
      if (!job) return;
      const data = intakeJobData.parse(job.data);
      let runId: string | null;
      try {
        runId = 'runId' in data ? data.runId : await deps.admit(data.deliveryId);
      } catch (error) {
        deps.log.error(
          { err: error, ...data, retryCount: job.retryCount },
          'intake failed before a run existed',
        );
        throw error;
      }
      if (runId) await runStepJob(deps, 'intake', runId, job, afterCommit);
    }),
  );
  for (const step of STEPS) {
    if (step === 'intake') continue;
    const kind = step === 'codex' ? 'codex' : 'steps';
    const localConcurrency = plan[kind];
    await boss.work(
      queueName(step),
      {
        ...POLLING,
        batchSize: 1,
        localConcurrency,
        ...(step === 'codex' ? { groupConcurrency: config.installationConcurrency } : {}),
      },
      ([job]) =>
        track(kind, async () => {
          if (job) await runStepJob(deps, step, stepJobData.parse(job.data).runId, job, afterCommit);
        }),
    );
  }
  await boss.work(DEAD_LETTER_QUEUE, { ...POLLING, batchSize: 1, includeMetadata: true }, ([job]) =>
    track('steps', async () => {
      if (job) await settleDeadLetter(deps, job);
    }),
  );
  return {
    async drain() {
      await Promise.allSettled([...active]);
    },
  };
}

type AfterCommit = (report: Promise<void>) => void;

async function runStepJob(
  deps: WorkerDeps,
  step: Step,
  runId: string,
  job: Job<unknown>,
  afterCommit: AfterCommit,
): Promise<void> {
  const { prisma, boss, config } = deps;
  const log = deps.log.child({ runId, step });
  // Watched before the attempt begins: a cancel committed after beginAttempt
  // saw the run active still reaches this step (NOTIFY is not replayed).
  const cancel = deps.cancels.watch(runId);
  const begun = await beginAttempt(prisma, boss, runId, step).catch((error: unknown) => {
    cancel.release();
    throw error;
  });
  if (!begun) {
    cancel.release();
    log.info('step already done or run ended; nothing to do');
    return;
  }
  log.info({ attempt: begun.attempt }, 'step started');
  const workspaceDir = path.join(config.workDir, runId, `${step}-${begun.attempt}`);
  const handler = deps.handlers[step];
  const started = performance.now();
  // issue #7: live progress while the step runs (best effort).
  const ticker = deps.onStepTick
    ? setInterval(() => {
        void deps
          .onStepTick?.(runId, step)
          .catch((error: unknown) => log.debug({ err: error }, 'tick failed'));
      }, STEP_TICK_MS)
    : null;
  try {
    await rm(workspaceDir, { recursive: true, force: true });
    const artifacts = await createArtifactWriter(prisma, config.artifactsDir, runId, step, begun.attempt);
    const outcome = await handler(begun.run, {
      prisma,
      github: deps.github,
      config,
      log,
      signal: AbortSignal.any([job.signal, cancel.signal]),
      attempt: begun.attempt,
      workspaceDir,
      artifacts,
    });
    // Moved before the transition commits: the next step may start at once.
    if (outcome.handOffWorkspace) {
      await handOffWorkspace(workspaceDir, handOffDir(config.workDir, runId, step)).catch((error: unknown) =>
        log.warn({ err: error }, 'could not hand the workspace to the next step'),
      );
    }
    const run = await commitTransition(prisma, boss, begun, outcome);
    const seconds = (performance.now() - started) / 1000;
    if (!run) {
      deps.metrics?.stepDuration(step, seconds, 'superseded');
      log.warn('attempt superseded by a takeover; its result is discarded');
      return;
    }
    deps.metrics?.stepDuration(step, seconds, 'succeeded');
    recordCodexTokens(deps, outcome.output?.usage);
    if (run.finishedAt !== null) deps.metrics?.runFinished(run.status, run.conclusion);
    log.info({ next: run.currentStep, status: run.status }, 'step succeeded');
    // A workspace is kept after a failure, for inspection.
    await rm(workspaceDir, { recursive: true, force: true });
    // One the step before left and this step did not take (it needed another commit) is of no use now.
    const before = STEPS[STEPS.indexOf(step) - 1];
    if (before) await rm(handOffDir(config.workDir, runId, before), { recursive: true, force: true });
    // Reporting is best effort here: the transition is committed, and the
    // next report (at the latest finalize's) shows the stored state anyway.
    if (deps.onRunChanged) {
      afterCommit(
        deps.onRunChanged(run).catch((error: unknown) => log.warn({ err: error }, 'progress report failed')),
      );
    }
  } catch (error) {
    const gone = isInstallationGone(error);
    const permanent = gone || isPermanent(error) || job.retryCount >= RETRY_LIMIT;
    const failure = gone
      ? {
          code: 'installation_gone',
          message:
            `GitHub refused a token for installation ${begun.run.installationId} (the app was uninstalled, suspended ` +
            `or lost access to ${begun.run.repository}). Reinstall the app on the repository, then run again.`,
        }
      : { code: errorCode(error), message: errorMessage(error) };
    log.error({ err: error, permanent, retryCount: job.retryCount }, 'step failed');
    deps.metrics?.stepDuration(step, (performance.now() - started) / 1000, 'failed');
    const settled = await recordFailure(prisma, boss, begun, failure, permanent);
    if (!settled) throw error;
  } finally {
    if (ticker) clearInterval(ticker); // issue #7
    cancel.release();
  }
}

/**
 * A step job that pg-boss gave up on without our handler deciding (its
 * worker kept dying, or it expired every time). Settle the run so that it
 * never stays "in progress": it fails at that step and finalize reports it.
 */
async function settleDeadLetter(deps: WorkerDeps, job: JobWithMetadata<unknown>): Promise<void> {
  const source = job.sourceName?.replace(/^speckit\./, '') ?? '';
  if (!isStep(source)) return;
  const stepData = stepJobData.safeParse(job.data);
  const intakeData = intakeJobData.safeParse(job.data);
  const runId = stepData.success
    ? stepData.data.runId
    : intakeData.success
      ? 'runId' in intakeData.data
        ? intakeData.data.runId
        : runIdForTrigger(intakeData.data.deliveryId)
      : null;
  if (!runId) return;
  await deps.prisma.$transaction(async (tx) => {
    const run = await tx.specWorkflowRun.findUnique({ where: { id: runId } });
    if (!run || run.currentStep !== source || !['pending', 'running', 'cancelling'].includes(run.status))
      return;
    const message = `Step ${source} was abandoned after ${RETRY_LIMIT + 1} attempts (the worker stopped or timed out each time).`;
    await tx.specWorkflowTaskState.updateMany({
      where: { runId, taskName: source, status: 'running' },
      data: { status: 'failed', finishedAt: new Date(), payload: { error_code: 'abandoned', message } },
    });
    await failRun(tx, deps.boss, run, source, { code: 'abandoned', message });
  });
}

function recordCodexTokens(deps: WorkerDeps, usage: unknown): void {
  if (!deps.metrics || !usage || typeof usage !== 'object') return;
  const u = usage as Record<string, unknown>;
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  deps.metrics.codexTokens({
    input: count(u.inputTokens),
    cachedInput: count(u.cachedInputTokens),
    output: count(u.outputTokens),
    reasoning: count(u.reasoningTokens),
  });
}
