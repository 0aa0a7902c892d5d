// The GitHub App identity: a Probot instance (webhook verification, JWT and
// installation tokens) and the GitHubAuth port the workers use.
import { Probot, ProbotOctokit } from 'probot';
import type { Config } from '../config.ts';
import { requireGitHubApp } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { GitHubAuth, Octokit } from './octokit.ts';

export function createProbot(
  config: Config,
  log: Logger,
  Octokit: typeof ProbotOctokit = ProbotOctokit,
): Probot {
  const { appId, privateKey, webhookSecret } = requireGitHubApp(config);
  return new Probot({
    appId,
    privateKey,
    secret: webhookSecret,
    baseUrl: config.github.apiBaseUrl,
    Octokit,
    log: log.child({ name: 'probot' }),
  });
}

export function createGitHubAuth(probot: Probot): GitHubAuth {
  return {
    async octokit(installationId) {
      return (await probot.auth(installationId)) as Octokit;
    },
    async installationToken(installationId) {
      const octokit = await probot.auth(installationId);
      const auth = (await octokit.auth({ type: 'installation' })) as { token: string };
      return auth.token;
    },
  };
}
