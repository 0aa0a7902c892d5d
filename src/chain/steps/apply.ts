// apply: put the stored Codex patch on the run's branch, tick the phase's
// verified tasks in tasks.md, and commit with an explicit identity and date.
import { lstat, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NonRetryableError } from '../../errors.ts';
import {
  applyPatch,
  cloneRepository,
  commitAll,
  createBranch,
  diffWorkingTree,
  headSha,
} from '../../git/workspace.ts';
import { phaseLabel } from '../../github/render/run-report.ts';
import { parseTasks } from '../../spec-kit/parse-tasks.ts';
import { tickTasks, untickTasks, verifyTasks } from '../../spec-kit/tick-tasks.ts';
import { loadStepOutput } from '../runs.ts';
import type { StepHandler } from '../step-context.ts';
import { loadDiscoverOutput } from './codex.ts';
import { BOT_IDENTITY, commitMessage, RUN_TRAILER } from './commit-spec.ts';
import { tasksPath } from './discover.ts';
import { gitAuth } from './workspace-source.ts';

export const applyStep: StepHandler = async (run, ctx) => {
  const discovered = await loadDiscoverOutput(ctx, run.id);
  const codex = await loadStepOutput(ctx.prisma, run.id, 'codex');
  if (!codex?.patch) throw new NonRetryableError(`run ${run.id} has no stored Codex patch; start a new run`);
  const changedPaths = (codex.data.changedPaths as string[] | undefined) ?? [];
  const auth = await gitAuth(run, ctx);
  const dir = ctx.workspaceDir;
  await cloneRepository({ cloneUrl: run.cloneUrl, dir, branch: discovered.sourceBranch, auth });
  if (!discovered.continuing) await createBranch(dir, run.branchName);
  const parentSha = await headSha(dir);
  await applyPatch(dir, codex.patch);

  const relative = tasksPath(run.featureKey);
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

  const label = phaseLabel({ phaseNumber: discovered.phase.number, phaseTitle: discovered.phase.title });
  const message = commitMessage(run.featureKey, label, verified);
  const commitDate = new Date().toISOString();
  const { patch } = await diffWorkingTree(dir);
  const commitSha = await commitAll(dir, {
    message,
    author: BOT_IDENTITY,
    trailers: { [RUN_TRAILER]: run.id },
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
      commitDate,
      message,
      branch: run.branchName,
      verified: verified.map(brief),
      unverified: unverified.map(brief),
    },
    patch,
  };
};
