// One pull request per feature branch: found by its head branch before one is
// created, so a repeated publish step updates the PR instead of adding one.
import { NonRetryableError } from '../errors.ts';
import { type Octokit, type Repo, repoParams } from './octokit.ts';

export interface PullRequestRef {
  number: number;
  url: string;
  body: string;
  created: boolean;
}

export interface PullRequestSummary {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
}

export async function findOpenPullRequest(
  octokit: Octokit,
  repo: Repo,
  head: string,
): Promise<PullRequestRef | null> {
  const response = await octokit.request('GET /repos/{owner}/{repo}/pulls', {
    ...repoParams(repo),
    head: `${repo.owner}:${head}`,
    state: 'open',
    per_page: 10,
  });
  const pr = response.data[0];
  return pr ? { number: pr.number, url: pr.html_url, body: pr.body ?? '', created: false } : null;
}

/** The most recent pull request from `head` in any state, or null. */
export async function findLatestPullRequest(
  octokit: Octokit,
  repo: Repo,
  head: string,
): Promise<PullRequestSummary | null> {
  const response = await octokit.request('GET /repos/{owner}/{repo}/pulls', {
    ...repoParams(repo),
    head: `${repo.owner}:${head}`,
    state: 'all',
    sort: 'created',
    direction: 'desc',
    per_page: 1,
  });
  const pr = response.data[0];
  return pr
    ? { number: pr.number, state: pr.state as 'open' | 'closed', merged: pr.merged_at !== null }
    : null;
}

export interface PullRequestContent {
  head: string;
  base: string;
  title: string;
  /** The body for a new PR; for an existing one, `updateBody` rewrites its current body. */
  body: string;
  updateBody: (current: string) => string;
  draft: boolean;
  labels: readonly string[];
}

export async function findOrCreatePullRequest(
  octokit: Octokit,
  repo: Repo,
  content: PullRequestContent,
): Promise<PullRequestRef & { response: unknown }> {
  const existing = await findOpenPullRequest(octokit, repo, content.head);
  if (existing) {
    const body = content.updateBody(existing.body);
    const response = await octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
      ...repoParams(repo),
      pull_number: existing.number,
      body,
    });
    await addLabels(octokit, repo, existing.number, content.labels);
    return { ...existing, body, response: response.data };
  }
  let created: { number: number; url: string; response: unknown };
  try {
    const response = await octokit.request('POST /repos/{owner}/{repo}/pulls', {
      ...repoParams(repo),
      head: content.head,
      base: content.base,
      title: content.title,
      body: content.body,
      draft: content.draft,
    });
    created = { number: response.data.number, url: response.data.html_url, response: response.data };
  } catch (error) {
    if ((error as { status?: number }).status !== 422) throw error;
    // Another worker created it between our lookup and our create.
    const raced = await findOpenPullRequest(octokit, repo, content.head);
    if (raced) return { ...raced, response: null };
    throw new NonRetryableError(
      `GitHub refused to open a pull request from \`${content.head}\` into \`${content.base}\`: ${validationMessage(error)}`,
      { cause: error },
    );
  }
  await addLabels(octokit, repo, created.number, content.labels);
  return { ...created, body: content.body, created: true };
}

async function addLabels(
  octokit: Octokit,
  repo: Repo,
  issueNumber: number,
  labels: readonly string[],
): Promise<void> {
  if (labels.length === 0) return;
  await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', {
    ...repoParams(repo),
    issue_number: issueNumber,
    labels: [...labels],
  });
}

function validationMessage(error: unknown): string {
  const data = (error as { response?: { data?: { message?: string; errors?: { message?: string }[] } } })
    .response?.data;
  const details = data?.errors?.map((e) => e.message).filter(Boolean) ?? [];
  return [data?.message, ...details].filter(Boolean).join(': ') || 'validation failed';
}
