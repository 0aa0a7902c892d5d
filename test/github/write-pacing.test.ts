// GitHub writes are paced per installation as a token bucket: a burst goes at
// once, then one write per interval; another installation has its own bucket.
// Real Probot and Octokit (throttling plugin on), GitHub answered by nock.
import { generateKeyPairSync } from 'node:crypto';
import nock from 'nock';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withWritePacing } from '../../src/github/write-pacing.ts';

const API = 'https://api.github.com';
let privateKey: string;

beforeAll(() => {
  privateKey = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  nock.disableNetConnect();
});

afterEach(() => {
  nock.cleanAll();
});

function probotWith(pacing: { intervalMs: number; burst: number }): Probot {
  const Octokit = withWritePacing(
    ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, retry: { enabled: false } })),
    pacing,
  );
  return new Probot({ appId: 1, privateKey, Octokit, log: pino({ level: 'silent' }) });
}

/** Answers installation tokens and 👀 reactions, recording when each reaction arrived. */
function fakeGitHub(installations: number[]): Map<number, number[]> {
  const arrivals = new Map<number, number[]>(installations.map((id) => [id, []]));
  for (const id of installations) {
    nock(API)
      .post(`/app/installations/${id}/access_tokens`)
      .reply(201, { token: `ghs_token${id}`, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    nock(API, { reqheaders: { authorization: `token ghs_token${id}` } })
      .post(/^\/repos\/octo\/repo\/issues\/comments\/\d+\/reactions$/, { content: 'eyes' })
      .times(10)
      .reply(201, () => {
        arrivals.get(id)?.push(performance.now());
        return { id: 1, content: 'eyes' };
      });
  }
  return arrivals;
}

async function react(probot: Probot, installationId: number, count: number): Promise<void> {
  const octokit = await probot.auth(installationId);
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      octokit.request('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
        owner: 'octo',
        repo: 'repo',
        comment_id: i + 1,
        content: 'eyes',
      }),
    ),
  );
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => Math.round(t - (times[i] ?? t)));

describe('GitHub write pacing', () => {
  it('lets a burst go at once, then one write per interval, per installation', async () => {
    const probot = probotWith({ intervalMs: 1000, burst: 3 });
    const arrivals = fakeGitHub([11, 12]);
    const start = performance.now();
    // Installation 11 sends 5 writes at once; installation 12 sends 3 while 11 waits.
    await Promise.all([
      react(probot, 11, 5),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => react(probot, 12, 3)),
    ]);
    const first = arrivals.get(11) ?? [];
    const other = arrivals.get(12) ?? [];
    console.log(
      `installation 11: arrivals at ${first.map((t) => Math.round(t - start)).join(', ')} ms (gaps ${gaps(first).join(', ')}); ` +
        `installation 12: ${other.map((t) => Math.round(t - start)).join(', ')} ms`,
    );
    expect(first).toHaveLength(5);
    expect(other).toHaveLength(3);
    // The burst: three writes before the first refill could have happened.
    expect((first[2] ?? 0) - start).toBeLessThan(1000);
    // After the burst, one write per interval (the bucket never holds more than it refilled).
    expect((first[4] ?? 0) - (first[3] ?? 0)).toBeGreaterThanOrEqual(950);
    expect((first[4] ?? 0) - start).toBeGreaterThanOrEqual(1000);
    // Installation 12 did not queue behind installation 11's paced writes.
    expect(other[2] ?? Number.POSITIVE_INFINITY).toBeLessThan(first[3] ?? 0);
  });

  it('does not pace at all with an interval of 0', async () => {
    const probot = probotWith({ intervalMs: 0, burst: 1 });
    const arrivals = fakeGitHub([21]);
    const start = performance.now();
    await react(probot, 21, 8);
    const times = arrivals.get(21) ?? [];
    console.log(`8 writes with pacing off: last arrived after ${Math.round((times[7] ?? 0) - start)} ms`);
    expect(times).toHaveLength(8);
    // With a burst of 1 and any pacing, 8 writes would need 7 refills.
    expect((times[7] ?? 0) - start).toBeLessThan(5000);
  });
});
