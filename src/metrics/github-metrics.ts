// Counts GitHub REST calls by route and status through an Octokit plugin, so
// every client Probot makes (app JWT and installation clients) is measured
// without touching the code that calls GitHub. Each attempt counts: retries
// made inside the request are calls GitHub answered too.
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

/**
 * The Octokit class Probot should use, with every HTTP exchange with GitHub
 * counted in `metrics`. The count sits in the fetch the request finally makes,
 * not around the request: plugins inside this one (the secondary-rate-limit
 * retry, Octokit's own retry, the installation-token refresh) may send a
 * request several times, and a 403 or 429 they wait out and retry is still a
 * GitHub error worth seeing. A request that never got an answer counts as 0.
 */
export function withGitHubMetrics<T extends typeof ProbotOctokit>(Octokit: T, metrics: Metrics): T {
  return Octokit.plugin((octokit) => {
    octokit.hook.wrap('request', (request, options) => {
      const route = routeLabel(options as RequestOptions);
      const given = (options.request as { fetch?: typeof fetch } | undefined)?.fetch;
      const countingFetch: typeof fetch = async (input, init) => {
        try {
          // globalThis.fetch is read per call: test doubles patch it after clients exist.
          const response = await (given ?? globalThis.fetch)(input, init);
          metrics.githubCall(route, response.status);
          return response;
        } catch (error) {
          metrics.githubCall(route, 0);
          throw error;
        }
      };
      // Set on this request's own options object: every hook of a request gets that
      // same object (before-after-hook binds it), whatever a hook passes inward.
      // `options.request` itself may be the client's shared defaults: replaced, not written to.
      options.request = { ...options.request, fetch: countingFetch };
      return request(options);
    });
    return {};
  }) as T;
}
