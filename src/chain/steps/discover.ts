// discover: read specs/<feature>/tasks.md from a fresh clone and pick the
// first phase with pending tasks; nothing left ends the run as neutral.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { cloneRepository, headSha } from '../../git/workspace.ts';
import { parseRepository } from '../../github/octokit.ts';
import { findLatestPullRequest } from '../../github/pull-requests.ts';
import { loadRepoConfig } from '../../repo-config/index.ts';
import { findNextPhase, pendingTasks } from '../../spec-kit/find-next-phase.ts';
import { parseTasks } from '../../spec-kit/parse-tasks.ts';
import type { Phase, TasksDocument } from '../../spec-kit/types.ts';
import { assertHasTasks, assertTasksSize } from '../../spec-kit/validate-tasks.ts';
import type { StepHandler } from '../step-context.ts';
import { gitAuth, resolveSourceBranch } from './workspace-source.ts';

export const SPECS_DIR = 'specs';

export function tasksPath(featureKey: string, specsDir = SPECS_DIR): string {
  return `${specsDir.replace(/\/+$/, '')}/${featureKey}/tasks.md`;
}

export const discoverStep: StepHandler = async (run, ctx) => {
  const auth = await gitAuth(run, ctx);
  const octokit = await ctx.github.octokit(Number(run.installationId));
  const repo = parseRepository(run.repository);
  // An invalid .github/speckit.yml fails the run here, naming the field and the problem.
  const repoConfig = await loadRepoConfig(octokit, repo, run.defaultBranch);
  const latestPr = await findLatestPullRequest(octokit, repo, run.branchName);
  // The feature's last PR was closed (merged or not) and none is open: start
  // afresh from the base instead of building on the old commits.
  const startAfresh = latestPr !== null && latestPr.state === 'closed';
  const source = await resolveSourceBranch(run, auth, { startAfresh });
  await cloneRepository({ cloneUrl: run.cloneUrl, dir: ctx.workspaceDir, branch: source.branch, auth });
  const baseSha = await headSha(ctx.workspaceDir);
  const relative = tasksPath(run.featureKey, repoConfig.specsDir);
  const file = path.join(ctx.workspaceDir, relative);
  const text = await readTasksFile(ctx.workspaceDir, file, relative, source.branch, repoConfig.specsDir);
  const doc = parseTasks(text);
  assertHasTasks(doc, relative);
  // A phase forced through the API is kept; otherwise the first with pending tasks.
  const phase = run.phaseNumber === null ? findNextPhase(doc) : forcedPhase(doc, run.phaseNumber, relative);
  const output = {
    sourceBranch: source.branch,
    continuing: source.continuing,
    replacesSha: source.replacesSha,
    baseSha,
    featureTitle: doc.title?.replace(/^Tasks:\s*/i, '').trim() || null,
    warnings: doc.warnings,
    tasksPath: relative,
    repoConfig: {
      draft: repoConfig.pullRequest.draft,
      labels: [...repoConfig.pullRequest.labels],
      maxFiles: repoConfig.diffLimits.maxFiles,
      maxLines: repoConfig.diffLimits.maxLines,
      allowWorkflowChanges: repoConfig.allowWorkflowChanges,
      codexMode: repoConfig.codex.mode ?? null,
      codexModel: repoConfig.codex.model ?? null,
      cloudEnv: repoConfig.codex.cloudEnv ?? null,
      setup: [...repoConfig.commands.setup],
      verify: [...repoConfig.commands.verify],
      onVerifyFailure: repoConfig.commands.onVerifyFailure,
    },
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

function forcedPhase(doc: TasksDocument, number: string, relative: string): Phase {
  const phase = doc.phases.find((candidate) => candidate.number === number);
  const known = doc.phases.map((candidate) => candidate.number ?? candidate.title).join(', ');
  if (!phase) throw new UserError(`Phase ${number} is not in \`${relative}\` (phases: ${known}).`);
  if (pendingTasks(phase).length === 0) {
    throw new UserError(`Phase ${number} of \`${relative}\` has no pending tasks; nothing to do.`);
  }
  return phase;
}

async function readTasksFile(
  root: string,
  file: string,
  relative: string,
  branch: string,
  specsDir: string,
): Promise<string> {
  const info = await stat(file).catch(() => null);
  // specs/<feature> must not lead outside the repository through a symlink.
  const real = info ? await realpath(file) : null;
  if (real && !real.startsWith(`${await realpath(root)}${path.sep}`)) {
    throw new UserError(`\`${relative}\` resolves outside the repository (a symlink); refusing to read it.`);
  }
  if (!info?.isFile()) {
    const features = await readdir(path.join(root, specsDir), { withFileTypes: true }).catch(() => []);
    const names = features.filter((entry) => entry.isDirectory()).map((entry) => `\`${entry.name}\``);
    const known =
      names.length > 0
        ? `Features on \`${branch}\`: ${names.join(', ')}.`
        : `\`${specsDir}/\` is empty or missing on \`${branch}\`.`;
    throw new UserError(
      `\`${relative}\` was not found on \`${branch}\`. ${known} Create it with Spec Kit's /tasks command, or name an existing feature.`,
    );
  }
  assertTasksSize(info.size, relative);
  return readFile(file, 'utf8');
}
