// Loads `.github/speckit.yml` from a repository's default branch through the
// contents API, cached per commit sha: a new commit on the default branch is
// a new cache entry, so an edited file applies to the next command at once.
import { getBranchSha } from '../github/branches.ts';
import { getFileText } from '../github/contents.ts';
import type { Octokit, Repo } from '../github/octokit.ts';
import { DEFAULT_REPO_CONFIG, parseRepoConfig, REPO_CONFIG_PATH, type RepoConfig } from './repo-config.ts';

export interface RepoConfigLoader {
  load(octokit: Octokit, repo: Repo, defaultBranch: string): Promise<RepoConfig>;
  /** Entries held (for tests and metrics). */
  readonly size: number;
}

/**
 * A loader with its own cache of at most `maxEntries` commits (least recently
 * used first out). A valid or invalid file is cached (it cannot change at that
 * commit); a GitHub error is not, so the next command asks again.
 */
export function createRepoConfigLoader(options: { maxEntries?: number } = {}): RepoConfigLoader {
  const maxEntries = options.maxEntries ?? 500;
  const cache = new Map<string, Promise<RepoConfig>>();
  return {
    get size() {
      return cache.size;
    },
    async load(octokit, repo, defaultBranch) {
      const sha = await getBranchSha(octokit, repo, defaultBranch);
      // An empty repository (no default branch yet) has no configuration.
      if (!sha) return DEFAULT_REPO_CONFIG;
      const key = `${repo.owner}/${repo.name}@${sha}`.toLowerCase();
      const cached = cache.get(key);
      if (cached) {
        cache.delete(key);
        cache.set(key, cached);
        return cached;
      }
      const loading = getFileText(octokit, repo, REPO_CONFIG_PATH, sha).then((text) =>
        text === null ? DEFAULT_REPO_CONFIG : parseRepoConfig(text),
      );
      cache.set(key, loading);
      while (cache.size > maxEntries) {
        const oldest = cache.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
      }
      try {
        return await loading;
      } catch (error) {
        if (!(error instanceof Error && error.name === 'RepoConfigError')) cache.delete(key);
        throw error;
      }
    },
  };
}

const sharedLoader = createRepoConfigLoader();

/**
 * The configuration of `repo` at the head of `defaultBranch`: the defaults when
 * the file is absent; a RepoConfigError (a UserError naming the file, each
 * field and its problem) when it is invalid.
 */
export function loadRepoConfig(octokit: Octokit, repo: Repo, defaultBranch: string): Promise<RepoConfig> {
  return sharedLoader.load(octokit, repo, defaultBranch);
}
