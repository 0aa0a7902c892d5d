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
export async function resolveSourceBranch(run: Run, auth: GitAuth): Promise<SourceBranch> {
  const own = await lsRemoteBranch(run.cloneUrl, run.branchName, auth);
  if (own) return { branch: run.branchName, sha: own, continuing: true };
  if (run.featureKey !== run.defaultBranch) {
    const specBranch = await lsRemoteBranch(run.cloneUrl, run.featureKey, auth);
    if (specBranch) return { branch: run.featureKey, sha: specBranch, continuing: false };
  }
  const base = await lsRemoteBranch(run.cloneUrl, run.defaultBranch, auth);
  return { branch: run.defaultBranch, sha: base, continuing: false };
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
