// discover: read specs/<feature>/tasks.md from a fresh clone and pick the
// first phase with pending tasks; nothing left ends the run as neutral.
// It decides the PR's base first; a run continuing its own branch then brings
// it up to date with that base (merge, or rebase per .github/speckit.yml) and
// pushes that right away, so Codex starts from what the PR will merge into.
// When the branch's last PR was closed at its tip, the run starts afresh
// from the base instead (see previousPullRequestVerdict).
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { NonRetryableError, SpeckitError, UserError } from '../../errors.ts';
import { GitError } from '../../git/git-error.ts';
import { workflowPermissionRefusal } from '../../git/push-refusal.ts';
import { type BranchUpdateMode, type BranchUpdateResult, updateBranch } from '../../git/update-branch.ts';
import { pushBranch } from '../../git/workspace.ts';
import { type Octokit, parseRepository, type Repo } from '../../github/octokit.ts';
import { findOpenPullRequest, listPullRequests } from '../../github/pull-requests.ts';
import { loadRepoConfig } from '../../repo-config/index.ts';
import { findNextPhase, pendingTasks } from '../../spec-kit/find-next-phase.ts';
import { parseTasks } from '../../spec-kit/parse-tasks.ts';
import type { Phase, TasksDocument } from '../../spec-kit/types.ts';
import { assertHasTasks, assertTasksSize } from '../../spec-kit/validate-tasks.ts';
import type { Run } from '../runs.ts';
import type { StepContext, StepHandler } from '../step-context.ts';
import { BOT_IDENTITY } from './commit-spec.ts';
import type { DiscoverOutput } from './discover-output.ts';
import {
  cloneStepWorkspace,
  gitAuth,
  ownsBranch,
  previousPullRequestVerdict,
  resolveSourceBranch,
  type SourceBranch,
  startFromBase,
} from './workspace-source.ts';

export const SPECS_DIR = 'specs';

export function tasksPath(featureKey: string, specsDir = SPECS_DIR): string {
  return `${specsDir.replace(/\/+$/, '')}/${featureKey}/tasks.md`;
}

export const discoverStep: StepHandler = async (run, ctx) => {
  const auth = await gitAuth(run, ctx);
  const octokit = await ctx.github.octokit(Number(run.installationId));
  const repo = parseRepository(run.repository);
  // An invalid .github/speckit.yml fails the run here, naming the field and the
  // problem. The branches are looked up meanwhile (one ls-remote).
  const [repoConfig, found] = await Promise.all([
    loadRepoConfig(octokit, repo, run.defaultBranch),
    resolveSourceBranch(run, auth),
  ]);
  const owned = ownsBranch(run, repoConfig.branchPrefix);
  // The branch's earlier PRs decide whether the run builds on it or starts afresh.
  const pulls = owned ? await listPullRequests(octokit, repo, run.branchName) : [];
  const verdict = previousPullRequestVerdict({
    owned,
    branchSha: found.continuing ? found.sha : null,
    pulls,
  });
  if (verdict.kind !== 'continue') {
    ctx.log.info(
      { branch: run.branchName, pr: verdict.pr.number, merged: verdict.pr.merged, verdict: verdict.kind },
      verdict.kind === 'start_afresh'
        ? 'the previous pull request was closed at the branch tip: starting afresh from the base'
        : 'the branch has commits after its pull request was closed: building on them',
    );
  }
  const source = verdict.kind === 'start_afresh' ? startFromBase(found) : found;
  // The PR's base first: the branch is brought up to date with what it will be merged into.
  const prBase = await pullRequestBase(octokit, repo, run, source, owned);
  // Only the bot's own branch is brought up to date; a PR author's branch is theirs.
  const mayUpdate = source.continuing && owned && source.base.sha !== null && prBase !== source.branch;
  const cloned = await cloneStepWorkspace(run, ctx, {
    branch: source.branch,
    auth,
    alsoFetch: mayUpdate ? [prBase] : [],
  });
  const update = mayUpdate ? await bringUpToDate(run, ctx, source, prBase, repoConfig.branchUpdate) : null;
  const headAfterUpdate = update?.after ?? cloned.head;
  const relative = tasksPath(run.featureKey, repoConfig.specsDir);
  const file = path.join(ctx.workspaceDir, relative);
  const text = await readTasksFile(ctx.workspaceDir, file, relative, source.branch, repoConfig.specsDir);
  const doc = parseTasks(text);
  assertHasTasks(doc, relative);
  // A phase forced through the API is kept; otherwise the first with pending tasks.
  const phase = run.phaseNumber === null ? findNextPhase(doc) : forcedPhase(doc, run.phaseNumber, relative);
  const output: Omit<DiscoverOutput, 'phase' | 'taskIds'> = {
    sourceBranch: source.branch,
    continuing: source.continuing,
    replacesSha: source.replacesSha,
    baseSha: headAfterUpdate,
    baseBranch: source.base.branch,
    prBase,
    ownsBranch: owned,
    branchUpdate: null,
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
    // Nothing for Codex to do: the update is not pushed, the branch stays as it was.
    const baseSha = update?.before ?? headAfterUpdate;
    return {
      result: {
        kind: 'finish',
        conclusion: 'neutral',
        summary: `No remaining phases: every task in \`${relative}\` on \`${source.branch}\` is done.`,
      },
      output: { ...output, baseSha },
      runUpdate: { baseSha },
    };
  }
  if (update) await pushUpdate(run, ctx, source, update);
  const tasks = pendingTasks(phase);
  return {
    result: { kind: 'continue' },
    output: {
      ...output,
      branchUpdate: update,
      phase: { number: phase.number, title: phase.title },
      taskIds: tasks.map((task) => task.id),
    },
    runUpdate: { baseSha: headAfterUpdate, phaseNumber: phase.number, phaseTitle: phase.title },
    // The clone at baseSha is the tree Codex starts from.
    handOffWorkspace: true,
  };
};

type BranchUpdate = BranchUpdateResult & { mode: BranchUpdateMode; base: string };

/** Merges (or rebases onto) `base` in the workspace; a conflict fails the run naming the files. */
async function bringUpToDate(
  run: Run,
  ctx: StepContext,
  source: SourceBranch,
  base: string,
  mode: BranchUpdateMode,
): Promise<BranchUpdate | null> {
  try {
    const result = await updateBranch(ctx.workspaceDir, {
      branch: source.branch,
      base,
      mode,
      identity: BOT_IDENTITY,
      date: new Date(),
      // Deepening a shallow workspace talks to the remote: a fresh token.
      auth: await gitAuth(run, ctx),
      signal: ctx.signal,
    });
    return result ? { ...result, mode, base } : null;
  } catch (error) {
    if (!(error instanceof GitError) || error.kind !== 'conflict') throw error;
    const how =
      mode === 'merge'
        ? `merge \`${base}\` into \`${source.branch}\` yourself, resolve the conflicts and push`
        : `rebase \`${source.branch}\` onto \`${base}\` yourself, resolve the conflicts and force-push`;
    const what =
      error.code === 'git_unrelated_histories'
        ? `\`${source.branch}\` and \`${base}\` share no history`
        : `${mode === 'merge' ? 'merging' : 'rebasing onto'} \`${base}\` conflicts in ${error.paths.map((p) => `\`${p}\``).join(', ')}`;
    throw new NonRetryableError(
      `\`${base}\` has commits that \`${source.branch}\` lacks, and bringing the branch up to date failed: ${what}. ` +
        `To continue, ${how}, then run the phase again.`,
      { code: 'branch_update_conflict', cause: error },
    );
  }
}

/** Pushes the updated branch with a lease on the sha discover saw, as the bot. */
async function pushUpdate(run: Run, ctx: StepContext, source: SourceBranch, update: BranchUpdate) {
  try {
    await pushBranch({
      dir: ctx.workspaceDir,
      cloneUrl: run.cloneUrl,
      branch: source.branch,
      head: update.after,
      auth: await gitAuth(run, ctx),
      expectedRemoteSha: source.sha,
      signal: ctx.signal,
    });
  } catch (error) {
    if (!(error instanceof GitError) || error.code !== 'git_push_rejected') {
      throw workflowPermissionRefusal(error, source.branch) ?? error;
    }
    // Someone pushed meanwhile: worth another try, which starts from their commit.
    throw new SpeckitError(
      `\`${source.branch}\` moved while it was being brought up to date with \`${update.base}\`; trying again.`,
      { code: 'branch_moved', cause: error },
    );
  }
  ctx.log.info(
    {
      branch: source.branch,
      base: update.base,
      mode: update.mode,
      before: update.before,
      after: update.after,
    },
    'brought the branch up to date with its base',
  );
}

/**
 * The pull request's base: the Spec Kit feature branch when the run builds on
 * it and its own (spec) pull request is open — a stacked PR — else the default
 * branch.
 */
async function pullRequestBase(
  octokit: Octokit,
  repo: Repo,
  run: Run,
  source: SourceBranch,
  owned: boolean,
): Promise<string> {
  if (!owned || source.base.branch !== run.featureKey || source.base.sha === null) return run.defaultBranch;
  const specPr = await findOpenPullRequest(octokit, repo, run.featureKey);
  return specPr ? run.featureKey : run.defaultBranch;
}

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
