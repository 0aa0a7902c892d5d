// Live reporting from a worker process: every step change is shown at once;
// while a step runs (Codex can take many minutes) the check run and the
// progress comment are refreshed at most once every few seconds. After a run
// ends, `--all` starts the next phase. Everything shown is read back from the
// database, so the report is right whichever process makes it.
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { PrismaClient } from '../db/prisma.ts';
import type { GitHubAuth } from '../github/octokit.ts';
import { inBackground } from '../github/write-pacing.ts';
import { isTerminal, type RunStatus, type Step } from './chain.ts';
import { createLatestReports } from './latest-reports.ts';
import { continueAfterSuccess } from './next-phase.ts';
import { type ReportDeps, reportRun } from './report-run.ts';
import { loadRun, type Run } from './runs.ts';

/** At most one in-progress update per run this often (step changes are always shown). */
export const PROGRESS_MIN_INTERVAL_MS = 5_000;

/**
 * How long a step change waits before it is reported. The short steps
 * (apply, publish) often end within it: the report then shows the step the
 * run is in by then, and a run racing to its end spends GitHub's write pace
 * on its pull request and final report rather than on states nobody would
 * have seen. The start of discover is reported at once: that is when the
 * check run turns in_progress.
 */
export const STEP_CHANGE_SETTLE_MS = 2_000;

export interface RunProgressDeps {
  prisma: PrismaClient;
  boss: PgBoss;
  github: GitHubAuth;
  log: Logger;
  config?: ReportDeps['config'];
}

export interface RunProgress {
  /** After a committed transition: report the new step now; after the end, continue `--all`. */
  onRunChanged(run: Run): Promise<void>;
  /** While `step` of `runId` runs: a throttled refresh (live Codex activity, tokens). */
  onStepTick(runId: string, step: Step): Promise<void>;
}

export function createRunProgress(
  deps: RunProgressDeps,
  minIntervalMs = PROGRESS_MIN_INTERVAL_MS,
  now: () => number = Date.now,
  settleMs = STEP_CHANGE_SETTLE_MS,
): RunProgress {
  const lastReport = new Map<string, number>();
  const reports = createLatestReports();
  const reportDeps = {
    prisma: deps.prisma,
    github: deps.github,
    ...(deps.config ? { config: deps.config } : {}),
  };

  return {
    async onRunChanged(run) {
      if (run.finishedAt !== null || isTerminal(run.status as RunStatus)) {
        lastReport.delete(run.id);
        // finalize reported the end itself; --all goes on with the next phase.
        const started = await continueAfterSuccess(deps, run);
        if (started === 'accepted') deps.log.info({ runId: run.id }, 'next phase started (--all)');
        return;
      }
      // finalize reports the end itself.
      if (run.currentStep === 'finalize') return;
      lastReport.set(run.id, now());
      if (run.currentStep !== 'discover') await new Promise((resolve) => setTimeout(resolve, settleMs));
      await reports.request(run.id, () => reportLatest(run.id));
    },
    async onStepTick(runId, step) {
      if (step !== 'codex' || reports.busy(runId)) return;
      const last = lastReport.get(runId) ?? 0;
      if (now() - last < minIntervalMs) return;
      lastReport.set(runId, now());
      await reports.request(runId, () => reportLatest(runId, step));
    },
  };

  /** Reports the run as it is stored now; an ended run, or one at finalize, is finalize's to report. */
  async function reportLatest(runId: string, step?: Step): Promise<void> {
    const run = await loadRun(deps.prisma, runId);
    if (!run || isTerminal(run.status as RunStatus) || run.currentStep === 'finalize') return;
    if (step && run.currentStep !== step) return;
    // Progress reports take the GitHub write pace that is left: a run's
    // check run, pull request and final report never wait behind them.
    await inBackground(() => reportRun(reportDeps, run));
  }
}
