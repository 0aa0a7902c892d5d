// One pull request per feature branch: found by its head branch before one is
// created, so a repeated publish step updates the PR instead of adding one.
import { type Octokit, type Repo, repoParams } from './octokit.ts';

export interface PullRequestRef {
  number: number;
  url: string;
  created: boolean;
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
  return pr ? { number: pr.number, url: pr.html_url, created: false } : null;
}

export async function findOrCreatePullRequest(
  octokit: Octokit,
  repo: Repo,
  params: { head: string; base: string; title: string; body: string },
): Promise<PullRequestRef> {
  const existing = await findOpenPullRequest(octokit, repo, params.head);
  if (existing) {
    await octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
      ...repoParams(repo),
      pull_number: existing.number,
      body: params.body,
    });
    return existing;
  }
  try {
    const response = await octokit.request('POST /repos/{owner}/{repo}/pulls', {
      ...repoParams(repo),
      head: params.head,
      base: params.base,
      title: params.title,
      body: params.body,
    });
    return { number: response.data.number, url: response.data.html_url, created: true };
  } catch (error) {
    // Another worker created it between our lookup and our create.
    const raced =
      (error as { status?: number }).status === 422
        ? await findOpenPullRequest(octokit, repo, params.head)
        : null;
    if (raced) return raced;
    throw error;
  }
}
