// Reporting follows stored state: these functions read the run and its
// attempts from the database and show them on GitHub. They never decide
// anything, so calling one twice is harmless.
import type { PrismaClient } from '../db/prisma.ts';
import { type CheckRunUpdate, checkRunName, updateCheckRun } from '../github/check-runs.ts';
import { updateComment } from '../github/comments.ts';
import { type GitHubAuth, parseRepository } from '../github/octokit.ts';
import { checkRunTitle, renderCheckRunSummary, renderProgressComment } from '../github/render/run-report.ts';
import { type Conclusion, statusForConclusion } from './chain.ts';
import type { Run } from './runs.ts';

export async function loadAttempts(prisma: PrismaClient, runId: string) {
  return prisma.specWorkflowTaskState.findMany({
    where: { runId },
    orderBy: [{ id: 'asc' }],
    select: { taskName: true, status: true, attempt: true, startedAt: true, finishedAt: true },
  });
}

/** Brings the check run and the progress comment in line with the stored run. */
export async function reportRun(
  deps: { prisma: PrismaClient; github: GitHubAuth },
  run: Run,
  final?: { conclusion: Conclusion },
): Promise<void> {
  if (run.checkRunId === null && run.progressCommentId === null) return;
  const attempts = await loadAttempts(deps.prisma, run.id);
  const octokit = await deps.github.octokit(Number(run.installationId));
  const repo = parseRepository(run.repository);
  // A final report is made just before the run is settled: show it settled.
  const view = final
    ? { ...run, conclusion: final.conclusion, status: statusForConclusion(final.conclusion) }
    : run;
  if (run.checkRunId !== null) {
    const output = { title: checkRunTitle(view), summary: renderCheckRunSummary(view, attempts) };
    const name = checkRunName(run.featureKey, run.phaseNumber);
    const update: CheckRunUpdate = final
      ? { status: 'completed', name, conclusion: final.conclusion, output }
      : { status: 'in_progress', name, output };
    await updateCheckRun(octokit, repo, Number(run.checkRunId), update);
  }
  if (run.progressCommentId !== null) {
    await updateComment(octokit, repo, Number(run.progressCommentId), renderProgressComment(view, attempts));
  }
}
