export { createRepoConfigLoader, loadRepoConfig, type RepoConfigLoader } from './load-repo-config.ts';
export {
  DEFAULT_REPO_CONFIG,
  INSTALLATION_MAX_ACTIVE_RUNS,
  parseRepoConfig,
  REPO_CONFIG_FIELDS,
  REPO_CONFIG_PATH,
  type RepoConfig,
  RepoConfigError,
} from './repo-config.ts';
