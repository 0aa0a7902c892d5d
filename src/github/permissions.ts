// Who may do what: run, retry and cancel need write, maintain or admin access;
// plan, status and help are open to anyone who can comment.
import type { CommandName } from '../commands/parse-command.ts';
import { COMMAND_ACCESS } from '../commands/parse-command.ts';
import { isNotFound, type Octokit, type Repo, repoParams } from './octokit.ts';

const ALLOWED_ROLES = new Set(['admin', 'maintain', 'write']);

/**
 * The user's role on the repository (`role_name` distinguishes maintain from
 * write); `none` when GitHub answers 404 (not a collaborator, or no such user).
 */
export async function getRepositoryRole(octokit: Octokit, repo: Repo, username: string): Promise<string> {
  try {
    const response = await octokit.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {
      ...repoParams(repo),
      username,
    });
    return response.data.role_name || response.data.permission;
  } catch (error) {
    if (isNotFound(error)) return 'none';
    throw error;
  }
}

/** Whether `role` may start, retry or cancel runs. */
export function mayRun(role: string): boolean {
  return ALLOWED_ROLES.has(role);
}

/** Whether `command` needs write access (then ask GitHub for the role). */
export function needsWriteAccess(command: CommandName): boolean {
  return COMMAND_ACCESS[command] === 'write';
}

/**
 * Whether `username` is one of `allowed` (logins, or `org/team` slugs checked
 * through team membership). An empty list allows everyone with write access.
 */
export async function isAllowedRunner(
  octokit: Octokit,
  allowed: readonly string[],
  username: string,
): Promise<boolean> {
  if (allowed.length === 0) return true;
  const login = username.toLowerCase();
  if (allowed.some((entry) => !entry.includes('/') && entry.toLowerCase() === login)) return true;
  for (const entry of allowed) {
    const [org, team] = entry.split('/');
    if (!org || !team) continue;
    try {
      const { data } = await octokit.request('GET /orgs/{org}/teams/{team_slug}/memberships/{username}', {
        org,
        team_slug: team,
        username,
      });
      if (data.state === 'active') return true;
    } catch (error) {
      // 404: not a member (or the team is not visible to the app).
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  return false;
}
