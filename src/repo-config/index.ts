export { createRepoConfigLoader, loadRepoConfig, type RepoConfigLoader } from './load-repo-config.ts';
export {
  DEFAULT_REPO_CONFIG,
  parseRepoConfig,
  REPO_CONFIG_FIELDS,
  REPO_CONFIG_PATH,
  type RepoConfig,
  RepoConfigError,
} from './repo-config.ts';
