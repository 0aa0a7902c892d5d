// Who may do what: run, retry and cancel need write, maintain or admin access;
// plan, status and help are open to anyone who can comment.
import type { CommandName } from '../commands/parse-command.ts';
import { COMMAND_ACCESS } from '../commands/parse-command.ts';
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

/** Whether `role` may start, retry or cancel runs. */
export function mayRun(role: string): boolean {
  return ALLOWED_ROLES.has(role);
}

/** Whether `command` needs write access (then ask GitHub for the role). */
export function needsWriteAccess(command: CommandName): boolean {
  return COMMAND_ACCESS[command] === 'write';
}
