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
    async app() {
      return (await probot.auth()) as Octokit;
    },
    async octokit(installationId) {
      return (await probot.auth(installationId)) as Octokit;
    },
    // A fresh token through the app-authenticated client, which honours the
    // GitHub Enterprise base URL (octokit.auth({type:'installation'}) in
    // @octokit/auth-app does not: it always asks api.github.com).
    async installationToken(installationId) {
      const app = await this.app();
      const response = await app.request('POST /app/installations/{installation_id}/access_tokens', {
        installation_id: installationId,
      });
      return response.data.token;
    },
  };
}
