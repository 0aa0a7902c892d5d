// Which branch a run reads from and builds on. Issue-triggered runs continue
// `speckit/<feature>` when it exists (earlier phases are ticked there), else
// start from the default branch.
import { type GitAuth, lsRemoteBranch } from '../../git/workspace.ts';
import { loadStepOutput, type Run } from '../runs.ts';
import type { StepContext } from '../step-context.ts';

export interface SourceBranch {
  branch: string;
  sha: string | null;
  /** True when the run's own branch exists and is built upon. */
  continuing: boolean;
  /** The run's own branch when it exists but is replaced (its PR was closed): pushed over with a lease. */
  replacesSha: string | null;
}

export async function gitAuth(run: Run, ctx: StepContext): Promise<GitAuth> {
  // Asked for right before each remote operation: tokens live one hour.
  return { token: await ctx.github.installationToken(Number(run.installationId)) };
}

/**
 * `speckit/<feature>` when it exists (earlier phases are ticked there); else
 * the Spec Kit feature branch `<feature>` (Spec Kit keeps a spec on its own
 * branch until it is merged); else the default branch.
 */
export async function resolveSourceBranch(
  run: Run,
  auth: GitAuth,
  options: { startAfresh?: boolean } = {},
): Promise<SourceBranch> {
  const own = await lsRemoteBranch(run.cloneUrl, run.branchName, auth);
  if (own && !options.startAfresh)
    return { branch: run.branchName, sha: own, continuing: true, replacesSha: null };
  const replacesSha = own;
  if (run.featureKey !== run.defaultBranch) {
    const specBranch = await lsRemoteBranch(run.cloneUrl, run.featureKey, auth);
    if (specBranch) return { branch: run.featureKey, sha: specBranch, continuing: false, replacesSha };
  }
  const base = await lsRemoteBranch(run.cloneUrl, run.defaultBranch, auth);
  return { branch: run.defaultBranch, sha: base, continuing: false, replacesSha };
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
