// Which branch a run reads from and builds on. Issue-triggered runs continue
// `speckit/<feature>` when it exists (earlier phases are ticked there), else
// start from the base: the Spec Kit feature branch `<feature>` when it exists,
// else the default branch.

import { featureBranchName } from '../../git/branch-name.ts';
import { type CloneWorkspaceOptions, cloneWorkspace } from '../../git/clone-workspace.ts';
import { type GitAuth, lsRemoteBranches } from '../../git/workspace.ts';
import { loadStepOutput, type Run } from '../runs.ts';
import type { StepContext } from '../step-context.ts';

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
export async function resolveSourceBranch(
  run: Run,
  auth: GitAuth,
  options: { startAfresh?: boolean } = {},
): Promise<SourceBranch> {
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
  if (own && !options.startAfresh)
    return { branch: run.branchName, sha: own, continuing: true, replacesSha: null, base };
  return { branch: base.branch, sha: base.sha, continuing: false, replacesSha: own, base };
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

/** The tasks.md warnings discover stored (shown in the PR body and the check run). */
export async function loadWarnings(
  ctx: StepContext,
  runId: string,
): Promise<{ line: number; message: string }[]> {
  const stored = await loadStepOutput(ctx.prisma, runId, 'discover');
  const warnings = stored?.data.warnings;
  return Array.isArray(warnings) ? (warnings as { line: number; message: string }[]) : [];
}
