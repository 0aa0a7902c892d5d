// Counts GitHub REST calls by route and status through an Octokit plugin, so
// every client Probot makes (app JWT and installation clients) is measured
// without touching the code that calls GitHub.
import type { ProbotOctokit } from 'probot';
import type { Metrics } from './metrics.ts';

interface RequestOptions {
  method?: string;
  url?: string;
  baseUrl?: string;
}

/**
 * A bounded label for a request: the route template (`GET /repos/{owner}/{repo}`)
 * when Octokit still has it, else the path with owner, repository and numbers
 * replaced (pagination follows absolute `Link` URLs).
 */
export function routeLabel(options: RequestOptions): string {
  const method = (options.method ?? 'GET').toUpperCase();
  let url = options.url ?? '';
  if (!url.includes('{')) {
    try {
      url = new URL(url, options.baseUrl ?? 'https://api.github.com').pathname;
    } catch {
      url = '/unknown';
    }
    url = url
      .replace(/^\/api\/v3(?=\/)/, '')
      .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/{owner}/{repo}')
      .replace(/^\/(orgs|users)\/[^/]+/, '/$1/{name}')
      .replace(/\/\d+(?=\/|$)/g, '/{id}');
  }
  return `${method} ${url.split('?')[0]}`;
}

/** The Octokit class Probot should use, with every request counted in `metrics`. */
export function withGitHubMetrics<T extends typeof ProbotOctokit>(Octokit: T, metrics: Metrics): T {
  return Octokit.plugin((octokit) => {
    octokit.hook.after('request', (response, options) => {
      metrics.githubCall(routeLabel(options as RequestOptions), response.status);
    });
    octokit.hook.error('request', (error, options) => {
      const status = (error as { status?: number }).status ?? 0;
      metrics.githubCall(routeLabel(options as RequestOptions), status);
      throw error;
    });
    return {};
  }) as T;
}
