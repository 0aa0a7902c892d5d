// Who may start runs: collaborators with write, maintain or admin access.
import { type Octokit, type Repo, repoParams } from './octokit.ts';

const ALLOWED_ROLES = new Set(['admin', 'maintain', 'write']);

/** The user's role on the repository (`role_name` distinguishes maintain from write). */
export async function getRepositoryRole(octokit: Octokit, repo: Repo, username: string): Promise<string> {
  const response = await octokit.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {
    ...repoParams(repo),
    username,
  });
  return response.data.role_name || response.data.permission;
}

export function mayRun(role: string): boolean {
  return ALLOWED_ROLES.has(role);
}
