// discover: read specs/<feature>/tasks.md from a fresh clone and pick the
// first phase with pending tasks; nothing left ends the run as neutral.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { cloneRepository, headSha } from '../../git/workspace.ts';
import { findNextPhase, pendingTasks } from '../../spec-kit/find-next-phase.ts';
import { parseTasks } from '../../spec-kit/parse-tasks.ts';
import { assertHasTasks, assertTasksSize } from '../../spec-kit/validate-tasks.ts';
import { reportRun } from '../report-run.ts';
import type { StepHandler } from '../step-context.ts';
import { gitAuth, resolveSourceBranch } from './workspace-source.ts';

export const SPECS_DIR = 'specs';

export function tasksPath(featureKey: string): string {
  return `${SPECS_DIR}/${featureKey}/tasks.md`;
}

export const discoverStep: StepHandler = async (run, ctx) => {
  // The check run turns in_progress as soon as a worker starts on the run.
  await reportRun(ctx, run);
  const auth = await gitAuth(run, ctx);
  const source = await resolveSourceBranch(run, auth);
  await cloneRepository({ cloneUrl: run.cloneUrl, dir: ctx.workspaceDir, branch: source.branch, auth });
  const baseSha = await headSha(ctx.workspaceDir);
  const relative = tasksPath(run.featureKey);
  const file = path.join(ctx.workspaceDir, relative);
  const text = await readTasksFile(ctx.workspaceDir, file, relative, source.branch);
  const doc = parseTasks(text);
  assertHasTasks(doc, relative);
  const phase = findNextPhase(doc);
  const output = {
    sourceBranch: source.branch,
    continuing: source.continuing,
    baseSha,
    warnings: doc.warnings,
  };
  if (!phase) {
    return {
      result: {
        kind: 'finish',
        conclusion: 'neutral',
        summary: `No remaining phases: every task in \`${relative}\` on \`${source.branch}\` is done.`,
      },
      output,
      runUpdate: { baseSha },
    };
  }
  const tasks = pendingTasks(phase);
  return {
    result: { kind: 'continue' },
    output: {
      ...output,
      phase: { number: phase.number, title: phase.title },
      taskIds: tasks.map((task) => task.id),
    },
    runUpdate: { baseSha, phaseNumber: phase.number, phaseTitle: phase.title },
  };
};

async function readTasksFile(root: string, file: string, relative: string, branch: string): Promise<string> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    const features = await readdir(path.join(root, SPECS_DIR), { withFileTypes: true }).catch(() => []);
    const names = features.filter((entry) => entry.isDirectory()).map((entry) => `\`${entry.name}\``);
    const known =
      names.length > 0
        ? `Features on \`${branch}\`: ${names.join(', ')}.`
        : `\`${SPECS_DIR}/\` is empty or missing on \`${branch}\`.`;
    throw new UserError(
      `\`${relative}\` was not found on \`${branch}\`. ${known} Create it with Spec Kit's /tasks command, or name an existing feature.`,
    );
  }
  assertTasksSize(info.size, relative);
  return readFile(file, 'utf8');
}
