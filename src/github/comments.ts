// Issue comments, reactions and labels.
import { isNotFound, type Octokit, type Repo, repoParams } from './octokit.ts';

export async function addEyesReaction(octokit: Octokit, repo: Repo, commentId: number): Promise<void> {
  // GitHub answers 200 instead of 201 when the reaction exists: safe to repeat.
  await octokit.request('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
    ...repoParams(repo),
    comment_id: commentId,
    content: 'eyes',
  });
}

export async function createComment(
  octokit: Octokit,
  repo: Repo,
  issueNumber: number,
  body: string,
): Promise<number> {
  const response = await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...repoParams(repo),
    issue_number: issueNumber,
    body,
  });
  return Number(response.data.id);
}

/**
 * The app's comment on an issue that ends with `marker` (e.g. a run's
 * progress comment, which names its run id), among those updated since
 * `since`; null when there is none. A retried step uses it to find the
 * comment GitHub made although its answer was lost.
 */
export async function findBotComment(
  octokit: Octokit,
  repo: Repo,
  issueNumber: number,
  marker: string,
  since: Date,
): Promise<number | null> {
  const comments = await octokit.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...repoParams(repo),
    issue_number: issueNumber,
    since: since.toISOString(),
    per_page: 100,
  });
  const found = comments.find((c) => c.user?.type === 'Bot' && (c.body ?? '').includes(marker));
  return found ? Number(found.id) : null;
}

export async function updateComment(
  octokit: Octokit,
  repo: Repo,
  commentId: number,
  body: string,
): Promise<void> {
  await octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
    ...repoParams(repo),
    comment_id: commentId,
    body,
  });
}

/** Removes a label from an issue or pull request; a label already gone is fine. */
export async function removeLabel(
  octokit: Octokit,
  repo: Repo,
  issueNumber: number,
  name: string,
): Promise<void> {
  try {
    await octokit.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', {
      ...repoParams(repo),
      issue_number: issueNumber,
      name,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
