// Issue comments, reactions and labels.
import { isNotFound, NOT_RETRIED_IN_REQUEST, type Octokit, type Repo, repoParams } from './octokit.ts';

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
    request: NOT_RETRIED_IN_REQUEST,
  });
  return Number(response.data.id);
}

/**
 * This app's comment on an issue that ends with `marker` (a run's progress
 * comment ends with its run id), among those updated since `since`; null when
 * there is none. A retried step uses it to find the comment GitHub made
 * although its answer was lost. Only comments made through this App count
 * (`performed_via_github_app`), so another bot quoting the comment is never
 * taken for it.
 */
export async function findBotComment(
  octokit: Octokit,
  repo: Repo,
  issueNumber: number,
  match: { marker: string; appId: string | undefined; since: Date },
): Promise<number | null> {
  const comments = await octokit.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...repoParams(repo),
    issue_number: issueNumber,
    since: match.since.toISOString(),
    per_page: 100,
  });
  const found = comments.find(
    (c) =>
      c.performed_via_github_app != null &&
      String(c.performed_via_github_app.id) === match.appId &&
      (c.body ?? '').trimEnd().endsWith(match.marker),
  );
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
