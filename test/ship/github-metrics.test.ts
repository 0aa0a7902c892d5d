// speckit_github_requests_total / _errors_total count every attempt, also the
// 403s and 429s that withSecondaryRateLimitRetry waits out and retries inside
// the request (the metrics plugin wraps outermost, as in speckit-app.ts).
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withSecondaryRateLimitRetry } from '../../src/github/secondary-rate-limit.ts';
import { withGitHubMetrics } from '../../src/metrics/github-metrics.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';

const api = 'https://api.github.com';
const ROUTE = 'route="GET /repos/{owner}/{repo}/pulls"';

function client() {
  const metrics = createMetrics({ defaultMetrics: false });
  const Base = ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } } as never);
  // The app's composition: the retry inside, metrics around it.
  const Octokit = withGitHubMetrics(withSecondaryRateLimitRetry(Base), metrics);
  return { metrics, octokit: new Octokit({ auth: 'test-token' } as never) };
}

const lines = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.render()).body.split('\n').filter((line) => line.includes(ROUTE));

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('GitHub request metrics', () => {
  it('counts a secondary rate limit that was retried, and the answer after it', async () => {
    const { metrics, octokit } = client();
    nock(api)
      .get('/repos/octo/hello/pulls')
      .reply(
        403,
        {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
        { 'retry-after': '0' },
      )
      .get('/repos/octo/hello/pulls')
      .reply(429, { message: 'Too many requests' }, { 'retry-after': '0' })
      .get('/repos/octo/hello/pulls')
      .reply(200, []);
    const response = await octokit.request('GET /repos/{owner}/{repo}/pulls', {
      owner: 'octo',
      repo: 'hello',
    });
    expect(response.status).toBe(200);
    expect(nock.isDone()).toBe(true);
    const found = await lines(metrics);
    console.log(found.join('\n'));
    expect(found).toEqual(
      expect.arrayContaining([
        `speckit_github_requests_total{${ROUTE},status="403"} 1`,
        `speckit_github_requests_total{${ROUTE},status="429"} 1`,
        `speckit_github_requests_total{${ROUTE},status="200"} 1`,
        `speckit_github_request_errors_total{${ROUTE},status="403"} 1`,
        `speckit_github_request_errors_total{${ROUTE},status="429"} 1`,
      ]),
    );
    expect(found.filter((line) => line.startsWith('speckit_github_request_errors_total'))).toHaveLength(2);
  });

  it('counts a request that got no answer as status 0, once', async () => {
    const { metrics, octokit } = client();
    nock(api).get('/repos/octo/hello/pulls').replyWithError('socket hang up');
    await expect(
      octokit.request('GET /repos/{owner}/{repo}/pulls', { owner: 'octo', repo: 'hello' }),
    ).rejects.toThrow();
    expect(await lines(metrics)).toEqual([
      `speckit_github_requests_total{${ROUTE},status="0"} 1`,
      `speckit_github_request_errors_total{${ROUTE},status="0"} 1`,
    ]);
  });
});
