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
  /** The head commit GitHub last saw (for a closed PR: the commit it was closed at). */
  headSha: string | null;
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

/** Every pull request from `head` in any state, newest first (all pages). */
export async function listPullRequests(
  octokit: Octokit,
  repo: Repo,
  head: string,
): Promise<PullRequestSummary[]> {
  const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/pulls', {
    ...repoParams(repo),
    head: `${repo.owner}:${head}`,
    state: 'all',
    sort: 'created',
    direction: 'desc',
    per_page: 100,
  });
  return pulls.map((pr) => ({
    number: pr.number,
    state: pr.state as 'open' | 'closed',
    merged: pr.merged_at !== null && pr.merged_at !== undefined,
    headSha: pr.head?.sha ?? null,
  }));
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
  if (existing) return updatePullRequest(octokit, repo, existing, content);
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
    // Another worker created it between our lookup and our create: this
    // phase's body and labels go on it as on any existing PR.
    const raced = await findOpenPullRequest(octokit, repo, content.head);
    if (raced) return updatePullRequest(octokit, repo, raced, content);
    throw new NonRetryableError(pullRequestRefusal(content, validationMessage(error)), {
      code: 'pull_request_refused',
      cause: error,
    });
  }
  await addLabels(octokit, repo, created.number, content.labels);
  return { ...created, body: content.body, created: true };
}

/** Rewrites an open PR's body (only what `updateBody` changes) and adds the labels. */
async function updatePullRequest(
  octokit: Octokit,
  repo: Repo,
  pr: PullRequestRef,
  content: PullRequestContent,
): Promise<PullRequestRef & { response: unknown }> {
  const body = content.updateBody(pr.body);
  const response = await octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
    ...repoParams(repo),
    pull_number: pr.number,
    body,
  });
  await addLabels(octokit, repo, pr.number, content.labels);
  return { ...pr, body, response: response.data };
}

/** Why GitHub would not open the pull request, and what to do (pure). */
export function pullRequestRefusal(
  content: Pick<PullRequestContent, 'head' | 'base'>,
  reason: string,
): string {
  const refused = `GitHub refused to open a pull request from \`${content.head}\` into \`${content.base}\``;
  if (/no commits between/i.test(reason)) {
    return (
      `${refused}: \`${content.head}\` has no commits that \`${content.base}\` lacks (${reason}), so there is nothing to review. ` +
      `The phase's changes are already on \`${content.base}\`, or the branch was reset: check \`${content.head}\`, then run the next phase.`
    );
  }
  return `${refused}: ${reason}. Fix what GitHub names, then retry the run.`;
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
