// Reporting follows stored state: these functions read the run, its attempts
// and its steps' stored outputs from the database and show them on GitHub.
// They never decide anything, so calling one twice is harmless.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCodexEventLine } from '../codex/codex-events.ts';
import type { PrismaClient } from '../db/prisma.ts';
import {
  type CheckRunAction,
  type CheckRunAnnotation,
  type CheckRunUpdate,
  checkRunName,
  createCompletedCheckRun,
  updateCheckRun,
} from '../github/check-runs.ts';
import { updateComment } from '../github/comments.ts';
import { getFileText } from '../github/contents.ts';
import { type GitHubAuth, type Octokit, parseRepository, type Repo } from '../github/octokit.ts';
import {
  checkRunTitle,
  type ReportDetails,
  renderCheckRunSummary,
  renderProgressComment,
} from '../github/render/run-report.ts';
import { findNextPhase } from '../spec-kit/find-next-phase.ts';
import { parseTasks } from '../spec-kit/parse-tasks.ts';
import { type Conclusion, statusForConclusion } from './chain.ts';
import { repositoryHtmlUrl } from './next-phase.ts';
import { loadStepOutput, type Run } from './runs.ts';

/** Check-run action identifiers (≤ 20 characters): see admit-trigger's checkRunIntent. */
export const ACTIONS = {
  retry: { label: 'Retry', identifier: 'retry', description: 'Resume from the failed step' },
  next: { label: 'Next phase', identifier: 'next_phase', description: 'Implement the next phase' },
  all: { label: 'Run all', identifier: 'run_all', description: 'Implement every remaining phase' },
} as const satisfies Record<string, CheckRunAction>;

export interface ReportDeps {
  prisma: PrismaClient;
  github: GitHubAuth;
  /**
   * For links (SPECKIT_PUBLIC_URL), live Codex activity (ARTIFACTS_DIR) and
   * the "waiting for a Codex slot" note (SPECKIT_INSTALLATION_CONCURRENCY); optional.
   */
  config?: { publicUrl?: string | undefined; artifactsDir?: string; installationConcurrency?: number };
}

export interface FinalReport {
  conclusion: Conclusion;
  /** Also give the pushed head commit of the PR a completed Spec Kit check run. */
  onPullRequestHead?: boolean;
}

export async function loadAttempts(prisma: PrismaClient, runId: string) {
  return prisma.specWorkflowTaskState.findMany({
    where: { runId },
    orderBy: [{ id: 'asc' }],
    select: { taskName: true, status: true, attempt: true, startedAt: true, finishedAt: true },
  });
}

const brief = (value: unknown): { id: string; description: string }[] =>
  Array.isArray(value)
    ? value.filter((t): t is { id: string; description: string } => typeof t?.id === 'string')
    : [];

/** Links, the phase's tasks, token usage and live Codex activity, from what the steps stored. */
export async function loadReportDetails(deps: ReportDeps, run: Run): Promise<ReportDetails> {
  const [discover, codex, apply] = await Promise.all([
    loadStepOutput(deps.prisma, run.id, 'discover'),
    loadStepOutput(deps.prisma, run.id, 'codex'),
    loadStepOutput(deps.prisma, run.id, 'apply'),
  ]);
  const publicUrl = deps.config?.publicUrl;
  const details: ReportDetails = {
    links: {
      checkRun: run.checkRunId !== null ? `${repositoryHtmlUrl(run)}/runs/${run.checkRunId}` : null,
      dashboard: publicUrl ? `${publicUrl}/runs/${run.id}` : null,
      log: publicUrl ? `${publicUrl}/runs/${run.id}` : null,
    },
  };
  const verified = brief(apply?.data.verified);
  const unverified = brief(apply?.data.unverified);
  if (verified.length + unverified.length > 0) {
    details.tasks = [
      ...verified.map((task) => ({ ...task, state: 'done' as const })),
      ...unverified.map((task) => ({ ...task, state: 'unverified' as const })),
    ];
  } else if (Array.isArray(discover?.data.taskIds)) {
    details.tasks = (discover.data.taskIds as unknown[])
      .filter((id): id is string => typeof id === 'string')
      .map((id) => ({ id, state: 'pending' as const }));
  }
  const usage = codex?.data.usage as
    | { totalTokens: number; inputTokens: number; outputTokens: number; cachedInputTokens?: number }
    | null
    | undefined;
  if (usage && typeof usage.totalTokens === 'number') {
    details.usage = `${usage.totalTokens} tokens (${usage.inputTokens} input, ${usage.outputTokens} output)`;
  }
  if (run.currentStep === 'codex' && !codex && deps.config?.installationConcurrency) {
    details.waiting = await codexSlotWait(deps.prisma, run, deps.config.installationConcurrency);
  }
  if (run.currentStep === 'codex' && !codex && deps.config?.artifactsDir) {
    const live = await liveCodexActivity(deps.prisma, deps.config.artifactsDir, run.id);
    details.activity = live.activity;
    if (live.usage) details.usage = live.usage;
  }
  return details;
}

/**
 * Why a run whose Codex step has not started waits: its installation already
 * has as many runs ahead of it in the Codex step as SPECKIT_INSTALLATION_CONCURRENCY
 * lets run at once (pg-boss holds its job until one ends). Runs are ahead when
 * they are in Codex now, or reached the Codex step first (their discover finished
 * earlier, the order pg-boss mostly hands the jobs out in; a run that reached it
 * later can still win the slot, and is then counted by its Codex attempt). Null
 * when it is not held back.
 */
async function codexSlotWait(prisma: PrismaClient, run: Run, limit: number): Promise<string | null> {
  const [ownCodex, discovered] = await Promise.all([
    prisma.specWorkflowTaskState.count({ where: { runId: run.id, taskName: 'codex' } }),
    prisma.specWorkflowTaskState.findFirst({
      where: { runId: run.id, taskName: 'discover', status: 'succeeded' },
      orderBy: { attempt: 'desc' },
      select: { finishedAt: true },
    }),
  ]);
  if (ownCodex > 0 || !discovered?.finishedAt) return null;
  const ahead = await prisma.specWorkflowRun.count({
    where: {
      installationId: run.installationId,
      id: { not: run.id },
      status: { in: ['running', 'cancelling'] },
      currentStep: 'codex',
      OR: [
        { tasks: { some: { taskName: 'codex', status: 'running' } } },
        {
          tasks: {
            some: { taskName: 'discover', status: 'succeeded', finishedAt: { lt: discovered.finishedAt } },
          },
        },
      ],
    },
  });
  if (ahead < limit) return null;
  return (
    `Waiting for a Codex slot: ${ahead} ${ahead === 1 ? 'run' : 'runs'} of this installation ${ahead === 1 ? 'is' : 'are'} ahead in the Codex step, ` +
    `and it runs at most ${limit} at once (SPECKIT_INSTALLATION_CONCURRENCY). This run starts Codex when one ends.`
  );
}

/** The latest commands and file changes of the running Codex attempt, read from its JSONL log. */
async function liveCodexActivity(
  prisma: PrismaClient,
  artifactsDir: string,
  runId: string,
): Promise<{ activity: string[]; usage: string | null }> {
  const attempt = await prisma.specWorkflowTaskState.findFirst({
    where: { runId, taskName: 'codex' },
    orderBy: { attempt: 'desc' },
    select: { attempt: true },
  });
  if (!attempt) return { activity: [], usage: null };
  const file = path.join(artifactsDir, runId, `codex-${attempt.attempt}`, 'codex.jsonl');
  const text = await readFile(file, 'utf8').catch(() => '');
  const activity: string[] = [];
  let input = 0;
  let output = 0;
  for (const line of text.split('\n')) {
    const event = parseCodexEventLine(line);
    if (!event) continue;
    if (event.type === 'turn.completed' && event.usage) {
      input += event.usage.inputTokens;
      output += event.usage.outputTokens;
    }
    if (event.type !== 'item.completed') continue;
    const item = event.item;
    if (item.type === 'command_execution')
      activity.push(`ran \`${item.command}\` (exit ${item.exitCode ?? '?'})`);
    if (item.type === 'file_change')
      activity.push(`changed ${item.changes.map((c) => `\`${c.path}\` (${c.kind})`).join(', ')}`);
  }
  return {
    activity: activity.slice(-10),
    usage: input + output > 0 ? `${input + output} tokens so far (${input} input, ${output} output)` : null,
  };
}

/** The buttons of a completed check run. */
export function finalActions(
  conclusion: Conclusion,
  options: { phasesLeft: boolean | null; continuing: boolean },
) {
  if (conclusion === 'failure' || conclusion === 'timed_out') return [ACTIONS.retry];
  if (conclusion === 'success' && options.phasesLeft !== false && !options.continuing)
    return [ACTIONS.next, ACTIONS.all];
  return [];
}

/** tasks.md at `ref`: whether phases are left and annotations for unverified (or, on failure, pending) tasks. */
async function tasksReview(
  prisma: PrismaClient,
  octokit: Octokit,
  repo: Repo,
  run: Run,
  refs: { tasksAt: string | null; annotateAt: string | null },
  conclusion: Conclusion,
  details: ReportDetails,
): Promise<{ phasesLeft: boolean | null; annotations: CheckRunAnnotation[] }> {
  const discover = await loadStepOutput(prisma, run.id, 'discover');
  // The specs directory is configurable: discover stored where tasks.md is.
  const file =
    typeof discover?.data.tasksPath === 'string'
      ? discover.data.tasksPath
      : `specs/${run.featureKey}/tasks.md`;
  const read = async (ref: string | null) =>
    ref ? await getFileText(octokit, repo, file, ref).catch(() => null) : null;
  const after = await read(refs.tasksAt);
  const phasesLeft = after === null ? null : findNextPhase(parseTasks(after)) !== undefined;
  const flagged = (details.tasks ?? []).filter(
    (task) => task.state === 'unverified' || (conclusion === 'failure' && task.state === 'pending'),
  );
  if (flagged.length === 0) return { phasesLeft, annotations: [] };
  const source = refs.annotateAt === refs.tasksAt ? after : await read(refs.annotateAt);
  if (source === null) return { phasesLeft, annotations: [] };
  const lines = new Map<string, number>();
  for (const phase of parseTasks(source).phases)
    for (const task of phase.tasks) lines.set(task.id, task.line);
  const annotations = flagged.flatMap((task): CheckRunAnnotation[] => {
    const line = lines.get(task.id);
    if (line === undefined) return [];
    return [
      {
        path: file,
        start_line: line,
        end_line: line,
        annotation_level: task.state === 'unverified' ? 'warning' : 'failure',
        title: `${task.id} ${task.state === 'unverified' ? 'unverified' : 'not done'}`,
        message:
          task.state === 'unverified'
            ? `${task.id} was left pending: the diff does not touch the files it names.`
            : `${task.id} was not implemented: the run failed at step ${run.errorStep ?? run.currentStep}.`,
      },
    ];
  });
  return { phasesLeft, annotations };
}

/** Brings the check run and the progress comment in line with the stored run. */
export async function reportRun(deps: ReportDeps, run: Run, final?: FinalReport): Promise<void> {
  if (run.checkRunId === null && run.progressCommentId === null) return;
  const stored = await loadAttempts(deps.prisma, run.id);
  // A final report is made by finalize's own attempt, just before it settles the run: show it done.
  const attempts = final
    ? stored.map((a) =>
        a.taskName === 'finalize' && a.status === 'running'
          ? { ...a, status: 'succeeded', finishedAt: new Date() }
          : a,
      )
    : stored;
  const octokit = await deps.github.octokit(Number(run.installationId));
  const repo = parseRepository(run.repository);
  // A final report is made just before the run is settled: show it settled.
  const view = final
    ? { ...run, conclusion: final.conclusion, status: statusForConclusion(final.conclusion) }
    : run;
  const details = await loadReportDetails(deps, run);
  if (run.checkRunId !== null) {
    const output = {
      title: checkRunTitle(view, details),
      summary: renderCheckRunSummary(view, attempts, details),
    };
    const name = checkRunName(run.featureKey, run.phaseNumber);
    let update: CheckRunUpdate = { status: 'in_progress', name, output };
    if (final) {
      const intake = await loadStepOutput(deps.prisma, run.id, 'intake');
      const checkedSha = typeof intake?.data.headSha === 'string' ? intake.data.headSha : null;
      const review = await tasksReview(
        deps.prisma,
        octokit,
        repo,
        run,
        { tasksAt: run.prUrl ? run.headSha : null, annotateAt: checkedSha },
        final.conclusion,
        details,
      );
      const continuing = await continuesByItself(deps.prisma, run);
      const actions = finalActions(final.conclusion, { phasesLeft: review.phasesLeft, continuing });
      update = {
        status: 'completed',
        name,
        conclusion: final.conclusion,
        output,
        actions,
        annotations: review.annotations,
      };
      if (final.onPullRequestHead && run.prUrl && run.headSha && run.headSha !== checkedSha) {
        // Found by its external_id on that commit when a repeated finalize made it already.
        await createCompletedCheckRun(octokit, repo, {
          name,
          headSha: run.headSha,
          runId: run.id,
          ...(details.links?.dashboard ? { detailsUrl: details.links.dashboard } : {}),
          conclusion: final.conclusion,
          output,
          actions,
        });
      }
    }
    const checkRunId = Number(run.checkRunId);
    await unlessUnchanged(`${run.repository}:check-run:${checkRunId}`, update, () =>
      updateCheckRun(octokit, repo, checkRunId, update),
    );
  }
  if (run.progressCommentId !== null) {
    const commentId = Number(run.progressCommentId);
    const body = renderProgressComment(view, attempts, details);
    await unlessUnchanged(`${run.repository}:comment:${commentId}`, body, () =>
      updateComment(octokit, repo, commentId, body),
    );
  }
}

// What this process last sent to each check run and comment. GitHub writes are
// paced (src/github/write-pacing.ts), so a report that would not change what
// people see is not sent: the live refresh of a quiet Codex step, or a step
// change another process already reported, costs no write.
const lastSent = new Map<string, string>();
const LAST_SENT_MAX = 2_000;

async function unlessUnchanged(key: string, content: unknown, send: () => Promise<void>): Promise<void> {
  const text = JSON.stringify(content);
  if (lastSent.get(key) === text) return;
  await send();
  lastSent.delete(key);
  lastSent.set(key, text);
  if (lastSent.size > LAST_SENT_MAX) lastSent.delete(lastSent.keys().next().value as string);
}

/** True when the run's trigger said `--all`: the next phase starts without a button. */
async function continuesByItself(prisma: PrismaClient, run: Run): Promise<boolean> {
  if (!run.triggerDeliveryId) return false;
  const delivery = await prisma.webhookDelivery.findUnique({
    where: { id: run.triggerDeliveryId },
    select: { trigger: true },
  });
  return (delivery?.trigger as { all?: unknown } | null)?.all === true;
}
