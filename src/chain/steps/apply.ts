// apply: put the stored Codex patch on the run's branch, tick the phase's
// verified tasks in tasks.md, and commit with an explicit identity and date.
import { lstat, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NonRetryableError } from '../../errors.ts';
import { GitError } from '../../git/git-error.ts';
import { applyPatch, commitAllWithPatch, createBranch, stagedChanges } from '../../git/workspace.ts';
import { phaseLabel } from '../../github/render/run-report.ts';
import { pendingTasks } from '../../spec-kit/find-next-phase.ts';
import { parseTasks } from '../../spec-kit/parse-tasks.ts';
import { tickTasks, untickTasks, verifyTasks } from '../../spec-kit/tick-tasks.ts';
import type { TasksDocument } from '../../spec-kit/types.ts';
import { checkGuardrails, DEFAULT_GUARDRAILS, diffStats } from '../guardrails.ts';
import { loadStepOutput } from '../runs.ts';
import type { StepHandler } from '../step-context.ts';
import { runTriggerOptions } from '../trigger-options.ts';
import { BOT_IDENTITY, commitMessage, commitTrailers } from './commit-spec.ts';
import { tasksPath } from './discover.ts';
import { loadDiscoverOutput } from './discover-output.ts';
import { cloneStepWorkspace, gitAuth } from './workspace-source.ts';

export const applyStep: StepHandler = async (run, ctx) => {
  const discovered = await loadDiscoverOutput(ctx, run.id);
  const codex = await loadStepOutput(ctx.prisma, run.id, 'codex');
  if (!codex?.patch) throw new NonRetryableError(`run ${run.id} has no stored Codex patch; start a new run`);
  const changedPaths = (codex.data.changedPaths as string[] | undefined) ?? [];
  const auth = await gitAuth(run, ctx);
  const dir = ctx.workspaceDir;
  // The branch's current tip (always fetched): the patch goes on top of whatever is there now.
  const { head: parentSha } = await cloneStepWorkspace(run, ctx, { branch: discovered.sourceBranch, auth });
  // A new branch starts at that commit.
  if (!discovered.continuing) await createBranch(dir, run.branchName);
  try {
    await applyPatch(dir, codex.patch);
  } catch (error) {
    if (error instanceof GitError && error.kind === 'conflict') {
      throw new NonRetryableError(
        `\`${discovered.sourceBranch}\` changed while Codex worked and the phase no longer applies: ` +
          `${error.paths.join(', ') || 'see the patch'} conflict. The Codex patch is kept as the run's codex.patch artifact; ` +
          'resolve by hand or run the phase again.',
        { cause: error },
      );
    }
    throw error;
  }
  // Codex's changes alone (before tasks.md is ticked), the files as git names them.
  const stats = diffStats(await stagedChanges(dir), Buffer.byteLength(codex.patch));

  const relative = discovered.tasksPath ?? tasksPath(run.featureKey);
  const file = path.join(dir, relative);
  // The patch came from Codex: never follow a tasks.md it turned into a link.
  if (!(await lstat(file).catch(() => null))?.isFile()) {
    throw new NonRetryableError(
      `\`${relative}\` is missing or not a regular file after Codex's changes; the patch is kept as an artifact.`,
    );
  }
  const text = await readFile(file, 'utf8');
  // Codex may have ticked tasks itself: the phase's tasks are the ones
  // discover found pending, whatever their state in the patched file.
  const phase = parseTasks(text).phases.find(
    (p) => p.number === discovered.phase.number && p.title === discovered.phase.title,
  );
  const tasks = (phase?.tasks ?? []).filter((task) => discovered.taskIds.includes(task.id));
  const { verified, unverified } = verifyTasks(tasks, changedPaths);
  // Unverified tasks stay pending even when Codex ticked them itself.
  const onlyThisPhase = { phase: discovered.phase };
  const ticked = tickTasks(
    text,
    verified.map((task) => task.id),
    onlyThisPhase,
  );
  await writeFile(
    file,
    untickTasks(
      ticked,
      unverified.map((task) => task.id),
      onlyThisPhase,
    ),
  );

  const limits = discovered.repoConfig;
  const problems = checkGuardrails(
    stats,
    limits
      ? {
          ...DEFAULT_GUARDRAILS,
          maxFiles: limits.maxFiles,
          maxChangedLines: limits.maxLines,
          allowWorkflowChanges: limits.allowWorkflowChanges,
        }
      : DEFAULT_GUARDRAILS,
  );
  if (problems.length > 0) {
    throw new NonRetryableError(
      `${problems.join(' ')} The Codex patch is kept as the run's codex.patch artifact.`,
    );
  }
  const message = commitMessage(run.featureKey, discovered.phase, verified);
  // The account id (stored with the trigger) gives GitHub's noreply address.
  const { actorId } = await runTriggerOptions(ctx.prisma, run);
  const trailers = commitTrailers(run.id, { login: run.triggerActor, id: actorId });
  const commitDate = new Date().toISOString();
  // The commit and its patch (Codex's changes and the ticks), which publish
  // replays when it cannot take this workspace.
  const { commitSha, treeSha, patch } = await commitAllWithPatch(dir, {
    message,
    author: BOT_IDENTITY,
    trailers,
    date: commitDate,
  });
  const brief = (task: { id: string; description: string }) => ({
    id: task.id,
    description: task.description,
  });
  return {
    result: { kind: 'continue' },
    output: {
      parentSha,
      commitSha,
      treeSha,
      commitDate,
      message,
      trailers,
      branch: run.branchName,
      verified: verified.map(brief),
      unverified: unverified.map(brief),
      binaryFiles: stats.binaryFiles,
      phases: phaseProgress(parseTasks(await readFile(file, 'utf8')), discovered.phase),
    },
    patch,
    // Holds exactly the commit publish pushes.
    handOffWorkspace: true,
  };
};

/** Each phase of the ticked tasks.md: done, this run's, or remaining (for the PR body). */
function phaseProgress(
  doc: TasksDocument,
  current: { number: string | null; title: string },
): { label: string; state: 'done' | 'this run' | 'remaining' }[] {
  return doc.phases
    .filter((phase) => phase.tasks.length > 0)
    .map((phase) => ({
      label: phaseLabel({ phaseNumber: phase.number, phaseTitle: phase.title }),
      state:
        phase.number === current.number && phase.title === current.title
          ? 'this run'
          : pendingTasks(phase).length === 0
            ? 'done'
            : 'remaining',
    }));
}
