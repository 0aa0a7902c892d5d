import { isNotFound, type Octokit, type Repo, repoParams } from './octokit.ts';

export interface InstalledRepository {
  installationId: number;
  owner: string;
  name: string;
  fullName: string;
  cloneUrl: string;
  defaultBranch: string;
  htmlUrl: string;
}

/** The app's installation on `repo` with the repository's details, or null when the app is not installed there. */
export async function findInstalledRepository(
  app: Octokit,
  installationOctokit: (installationId: number) => Promise<Octokit>,
  repo: Repo,
): Promise<InstalledRepository | null> {
  let installationId: number;
  try {
    const response = await app.request('GET /repos/{owner}/{repo}/installation', repoParams(repo));
    installationId = response.data.id;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  const octokit = await installationOctokit(installationId);
  const { data } = await octokit.request('GET /repos/{owner}/{repo}', repoParams(repo));
  return {
    installationId,
    owner: data.owner.login,
    name: data.name,
    fullName: data.full_name,
    cloneUrl: data.clone_url,
    defaultBranch: data.default_branch,
    htmlUrl: data.html_url,
  };
}
