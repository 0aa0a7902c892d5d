import { isNotFound, type Octokit, type Repo, repoParams } from './octokit.ts';

/** The head commit of `branch`, or null when it does not exist. */
export async function getBranchSha(octokit: Octokit, repo: Repo, branch: string): Promise<string | null> {
  try {
    const response = await octokit.request('GET /repos/{owner}/{repo}/branches/{branch}', {
      ...repoParams(repo),
      branch,
    });
    return response.data.commit.sha;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}
