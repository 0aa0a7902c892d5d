// `/speckit plan <feature>`: what a run would do next, without starting one.
// Reads `<specs_dir>/<feature>/tasks.md` through the contents API from the
// branch a run would use (`<branch_prefix><feature>`, the feature branch, the
// default branch), as .github/speckit.yml configures them.

import { featureBranchName } from '../git/branch-name.ts';
import { getBranchSha } from '../github/branches.ts';
import { getFileText } from '../github/contents.ts';
import type { Octokit, Repo } from '../github/octokit.ts';
import { renderPlan } from '../github/render/plan.ts';
import type { RepoConfig } from '../repo-config/index.ts';
import { findNextPhase, pendingTasks } from '../spec-kit/find-next-phase.ts';
import { parseTasks } from '../spec-kit/parse-tasks.ts';
import { tasksPath } from './steps/discover.ts';

export async function buildPlanReply(
  octokit: Octokit,
  repo: Repo & { defaultBranch: string },
  featureKey: string,
  config: Pick<RepoConfig, 'specsDir' | 'branchPrefix'>,
): Promise<string> {
  const candidates = [featureBranchName(featureKey, config.branchPrefix), featureKey, repo.defaultBranch];
  let branch: string | null = null;
  for (const candidate of candidates) {
    if (await getBranchSha(octokit, repo, candidate)) {
      branch = candidate;
      break;
    }
  }
  const path = tasksPath(featureKey, config.specsDir);
  const text = branch ? await getFileText(octokit, repo, path, branch) : null;
  if (text === null || branch === null) {
    return `\`${path}\` was not found on \`${branch ?? repo.defaultBranch}\`. Create it with Spec Kit's /tasks command, or name an existing feature.`;
  }
  const doc = parseTasks(text);
  const next = findNextPhase(doc);
  const remaining = doc.phases.filter((phase) => pendingTasks(phase).length > 0).length;
  return renderPlan({
    featureKey,
    path,
    branch,
    next,
    tasks: next ? pendingTasks(next) : [],
    remaining,
    warnings: doc.warnings,
  });
}
