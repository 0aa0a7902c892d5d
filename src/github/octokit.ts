// The GitHub client type the app uses: Probot's Octokit, authenticated as an
// installation. Workers ask for one right before they need it (tokens live
// an hour), never store it, and never put a token in a job payload.
import type { ProbotOctokit } from 'probot';
import type { RepositoryRef } from '../webhooks/trigger.ts';

export type Octokit = InstanceType<typeof ProbotOctokit>;

/** Gives an installation-authenticated client and a fresh token for git. */
export interface GitHubAuth {
  /** Authenticated as the app itself (JWT): installations, tokens. */
  app(): Promise<Octokit>;
  octokit(installationId: number): Promise<Octokit>;
  installationToken(installationId: number): Promise<string>;
}

export type Repo = Pick<RepositoryRef, 'owner' | 'name'>;

export function repoParams(repo: Repo): { owner: string; repo: string } {
  return { owner: repo.owner, repo: repo.name };
}

/** `owner/name` → parts. */
export function parseRepository(fullName: string): Repo {
  const [owner, name] = fullName.split('/');
  if (!owner || !name) throw new Error(`not a repository full name: ${fullName}`);
  return { owner, name };
}

/**
 * Request options for a create that GitHub does not deduplicate (a check run,
 * a comment): Octokit's retry plugin would send it again after a 5xx, and a
 * 502 whose write took effect would then make two. The step's own retry
 * looks for what was made first (by external_id, by the run id it names).
 */
export const NOT_RETRIED_IN_REQUEST = { retries: 0 } as const;

export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { status?: number }).status === 404;
}

/**
 * True when GitHub refused to create an installation token (401/404): the app
 * was uninstalled, suspended or lost the repository. Retrying cannot help.
 */
export function isInstallationGone(error: unknown): boolean {
  const e = error as { status?: number; request?: { url?: string }; response?: { url?: string } };
  const url = e?.request?.url ?? e?.response?.url ?? '';
  return (e?.status === 401 || e?.status === 404) && /\/app\/installations\/\d+\/access_tokens/.test(url);
}
