// Which branch a run reads from and builds on. Issue-triggered runs continue
// `speckit/<feature>` when it exists (earlier phases are ticked there), else
// start from the default branch.
import { type GitAuth, lsRemoteBranch } from '../../git/workspace.ts';
import type { Run } from '../runs.ts';
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

export async function resolveSourceBranch(run: Run, auth: GitAuth): Promise<SourceBranch> {
  const own = await lsRemoteBranch(run.cloneUrl, run.branchName, auth);
  if (own) return { branch: run.branchName, sha: own, continuing: true };
  const base = await lsRemoteBranch(run.cloneUrl, run.defaultBranch, auth);
  return { branch: run.defaultBranch, sha: base, continuing: false };
}
