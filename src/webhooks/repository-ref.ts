// The repository fields every trigger stores, from a webhook payload's `repository`.
import type { RepositoryRef } from './trigger.ts';

export function repositoryRefOf(repository: {
  owner: { login: string };
  name: string;
  full_name: string;
  clone_url: string;
  default_branch: string;
  html_url: string;
}): RepositoryRef {
  return {
    owner: repository.owner.login,
    name: repository.name,
    fullName: repository.full_name,
    cloneUrl: repository.clone_url,
    defaultBranch: repository.default_branch,
    htmlUrl: repository.html_url,
  };
}
