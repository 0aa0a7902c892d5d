// GitHub answers 403 (or 429) with `retry-after` when a client exceeds a
// secondary rate limit, and asks it to wait that long and try again. Probot's
// throttle plugin only logs these, so this Octokit plugin retries them (twice
// at most, each wait capped) instead of failing the step.
import type { ProbotOctokit } from 'probot';

const MAX_RETRIES = 2;
const MAX_WAIT_SECONDS = 120;

export function isSecondaryRateLimit(error: unknown): number | null {
  const e = error as { status?: number; message?: string; response?: { headers?: Record<string, string> } };
  if (e?.status !== 403 && e?.status !== 429) return null;
  const retryAfter = Number(e.response?.headers?.['retry-after']);
  const secondary = /secondary rate limit/i.test(e.message ?? '') || Number.isFinite(retryAfter);
  if (!secondary) return null;
  return Math.min(Number.isFinite(retryAfter) ? retryAfter : 60, MAX_WAIT_SECONDS);
}

export function withSecondaryRateLimitRetry(Octokit: typeof ProbotOctokit): typeof ProbotOctokit {
  return Octokit.plugin((octokit) => {
    octokit.hook.wrap('request', async (request, options) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await request(options);
        } catch (error) {
          const waitSeconds = isSecondaryRateLimit(error);
          if (waitSeconds === null || attempt >= MAX_RETRIES) throw error;
          octokit.log.warn(
            `GitHub secondary rate limit on ${options.method} ${options.url}: retrying in ${waitSeconds} s`,
          );
          await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
        }
      }
    });
  }) as typeof ProbotOctokit;
}
