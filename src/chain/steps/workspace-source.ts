// Which branch a run reads from and builds on. Issue-triggered runs continue
// `speckit/<feature>` when it exists (earlier phases are ticked there), else
// start from the base: the Spec Kit feature branch `<feature>` when it exists,
// else the default branch.

import { featureBranchName } from '../../git/branch-name.ts';
import { type CloneWorkspaceOptions, cloneWorkspace } from '../../git/clone-workspace.ts';
import { type GitAuth, lsRemoteBranches } from '../../git/workspace.ts';
import type { PullRequestSummary } from '../../github/pull-requests.ts';
import type { Step } from '../chain.ts';
import { loadStepOutput, type Run } from '../runs.ts';
import type { StepContext } from '../step-context.ts';
import { handOffDir, takeWorkspace } from '../workspace-handoff.ts';

export interface SourceBranch {
  branch: string;
  sha: string | null;
  /** True when the run's own branch exists and is built upon. */
  continuing: boolean;
  /** The run's own branch when it exists but is replaced (its PR was closed): pushed over with a lease. */
  replacesSha: string | null;
  /**
   * What the run's branch is built from: the Spec Kit feature branch
   * `<feature>` when the remote has it, else the default branch.
   */
  base: { branch: string; sha: string | null };
}

export async function gitAuth(run: Run, ctx: StepContext): Promise<GitAuth> {
  // Asked for right before each remote operation: tokens live one hour.
  return { token: await ctx.github.installationToken(Number(run.installationId)) };
}

/**
 * Whether the run's branch is the bot's own `speckit/<feature>`, which it may
 * update and whose pull request it may retarget; a labelled pull request's own
 * head branch belongs to its author.
 */
export function ownsBranch(
  run: Pick<Run, 'branchName' | 'featureKey' | 'defaultBranch'>,
  branchPrefix?: string,
): boolean {
  if (run.branchName === run.featureKey || run.branchName === run.defaultBranch) return false;
  try {
    // The configured prefix names new runs' branches; `speckit/` is what runs
    // made before a repository changed it used.
    const names = [featureBranchName(run.featureKey)];
    if (branchPrefix) names.push(featureBranchName(run.featureKey, branchPrefix));
    return names.includes(run.branchName);
  } catch {
    return false;
  }
}

/**
 * `speckit/<feature>` when it exists (earlier phases are ticked there); else
 * the base: the Spec Kit feature branch `<feature>` (Spec Kit keeps a spec on
 * its own branch until it is merged), else the default branch. One ls-remote.
 */
export async function resolveSourceBranch(run: Run, auth: GitAuth): Promise<SourceBranch> {
  const specBranch =
    run.featureKey !== run.defaultBranch && run.featureKey !== run.branchName ? run.featureKey : null;
  const shas = await lsRemoteBranches(
    run.cloneUrl,
    [run.branchName, ...(specBranch ? [specBranch] : []), run.defaultBranch],
    auth,
  );
  const own = shas.get(run.branchName) ?? null;
  const spec = specBranch ? (shas.get(specBranch) ?? null) : null;
  const base =
    specBranch && spec
      ? { branch: specBranch, sha: spec }
      : { branch: run.defaultBranch, sha: shas.get(run.defaultBranch) ?? null };
  if (own) return { branch: run.branchName, sha: own, continuing: true, replacesSha: null, base };
  return { branch: base.branch, sha: base.sha, continuing: false, replacesSha: null, base };
}

/** The run's own branch (a continuing source) set aside: the run builds from the base and replaces the branch. */
export function startFromBase(source: SourceBranch): SourceBranch {
  return {
    branch: source.base.branch,
    sha: source.base.sha,
    continuing: false,
    replacesSha: source.sha,
    base: source.base,
  };
}

/**
 * What the feature's earlier pull requests say about its existing branch:
 * - `continue`: no PR yet, or one is open — build on the branch;
 * - `start_afresh`: the newest PR was closed (merged or rejected) at exactly
 *   the branch's current commit — the next phase starts a new branch from the
 *   base instead of building on commits that were merged or turned down;
 * - `build_on_later_commits`: that PR was closed, but the branch got commits
 *   since (or GitHub did not say at which commit). Someone went on working on
 *   the branch after the review ended; replacing it would throw their work
 *   away, so the run builds on it like on an open PR's branch (and opens a new
 *   PR). Deleting the branch is how a person asks for a fresh start.
 * Only the bot's own branch is ever replaced; a person's branch is theirs.
 */
export function previousPullRequestVerdict(input: {
  owned: boolean;
  /** The branch's current sha; null when it does not exist. */
  branchSha: string | null;
  /** The PRs from the branch, newest first. */
  pulls: readonly PullRequestSummary[];
}): { kind: 'continue' } | { kind: 'start_afresh' | 'build_on_later_commits'; pr: PullRequestSummary } {
  const newest = input.pulls[0];
  if (!input.owned || input.branchSha === null || !newest) return { kind: 'continue' };
  if (input.pulls.some((pr) => pr.state === 'open')) return { kind: 'continue' };
  return {
    kind: newest.headSha === input.branchSha ? 'start_afresh' : 'build_on_later_commits',
    pr: newest,
  };
}

/** Clones a step's workspace through the repository mirror of this machine (MIRROR_DIR). */
export function cloneStepWorkspace(
  run: Run,
  ctx: StepContext,
  options: Pick<CloneWorkspaceOptions, 'branch' | 'at' | 'alsoFetch' | 'auth'>,
) {
  return cloneWorkspace({
    mirrorDir: ctx.config.mirrorDir,
    cloneUrl: run.cloneUrl,
    dir: ctx.workspaceDir,
    signal: ctx.signal,
    log: ctx.log,
    ...options,
  });
}

/**
 * The workspace step `from` left on this machine when it holds `branch` at
 * `at`; else a clone of exactly that (workspace-handoff.ts). Returns HEAD.
 */
export async function handedOffOrCloned(
  run: Run,
  ctx: StepContext,
  from: Step,
  options: { branch: string; at: string; auth: GitAuth },
): Promise<{ head: string; handedOff: boolean }> {
  const handOff = handOffDir(ctx.config.workDir, run.id, from);
  if (await takeWorkspace(handOff, ctx.workspaceDir, { branch: options.branch, head: options.at }, ctx.log)) {
    return { head: options.at, handedOff: true };
  }
  const { head } = await cloneStepWorkspace(run, ctx, options);
  return { head, handedOff: false };
}

/** The tasks.md warnings discover stored (shown in the PR body and the check run). */
export async function loadWarnings(
  ctx: StepContext,
  runId: string,
): Promise<{ line: number; message: string }[]> {
  const stored = await loadStepOutput(ctx.prisma, runId, 'discover');
  const warnings = stored?.data.warnings;
  return Array.isArray(warnings) ? (warnings as { line: number; message: string }[]) : [];
}
