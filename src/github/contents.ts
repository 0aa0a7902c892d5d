import { isNotFound, type Octokit, type Repo, repoParams } from './octokit.ts';

/** A file's text at `ref`, or null when the file (or the ref) does not exist. */
export async function getFileText(
  octokit: Octokit,
  repo: Repo,
  path: string,
  ref: string,
): Promise<string | null> {
  try {
    const response = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
      ...repoParams(repo),
      path,
      ref,
    });
    const data = response.data;
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return null;
    return Buffer.from(data.content, 'base64').toString('utf8');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}
