// Who may do what: run, retry and cancel need write, maintain or admin access;
// plan, status and help are open to anyone who can comment.
import type { CommandName } from '../commands/parse-command.ts';
import { COMMAND_ACCESS } from '../commands/parse-command.ts';
import { UserError } from '../errors.ts';
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
 * GitHub's answer when the installation lacks a permission the request needs:
 * 403 "Resource not accessible by integration", naming the permission it
 * would take in `x-accepted-github-permissions` (a rate limit is a 403 too).
 */
function isMissingPermission(error: unknown): boolean {
  const e = error as { status?: number; message?: string; response?: { headers?: Record<string, string> } };
  return (
    e?.status === 403 &&
    (/resource not accessible by integration/i.test(e.message ?? '') ||
      /members=/.test(e.response?.headers?.['x-accepted-github-permissions'] ?? ''))
  );
}

/**
 * Whether `username` is one of `allowed` (logins, or `org/team` slugs checked
 * through team membership). An empty list allows everyone with write access.
 * Team membership needs the App's opt-in organization permission Members: read;
 * without it no team entry can be checked, and a UserError says how to grant
 * it (unless another entry already lets the user in).
 */
export async function isAllowedRunner(
  octokit: Octokit,
  allowed: readonly string[],
  username: string,
): Promise<boolean> {
  if (allowed.length === 0) return true;
  const login = username.toLowerCase();
  if (allowed.some((entry) => !entry.includes('/') && entry.toLowerCase() === login)) return true;
  const unreadable: string[] = [];
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
      if (isMissingPermission(error)) unreadable.push(entry);
      // 404: not a member (or the team is not visible to the app).
      else if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  if (unreadable.length > 0) {
    throw new UserError(
      `\`allowed_runners\` in \`.github/speckit.yml\` lists ${unreadable.map((entry) => `\`${entry}\``).join(', ')}, ` +
        'but this installation of the App cannot read team membership: `org/team` entries need the ' +
        "App's organization permission **Members: read**. An organization owner can add it in the App's " +
        'settings (Permissions → Organization permissions → Members: read; see the speckit-bot README, ' +
        '"Register the GitHub App") and approve the change on the installation, or list logins instead of teams.',
      { code: 'allowed_runners_members_permission' },
    );
  }
  return false;
}
