// GitHub writes are paced per installation as a token bucket: a burst goes at
// once, then one write per interval; writes that notify people are paced
// again on top; progress reports (background) wait behind the writes a run
// waits for; and processes sharing the database share one pace.
// Real Probot and Octokit (throttling plugin on), GitHub answered by nock,
// the shared buckets in real PostgreSQL.
import { generateKeyPairSync } from 'node:crypto';
import nock from 'nock';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { inBackground, type WritePacing, withWritePacing, writeKind } from '../../src/github/write-pacing.ts';
import { createDatabaseSlots, createLocalSlots, type TakeSlot } from '../../src/github/write-slots.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';

const API = 'https://api.github.com';
let privateKey: string;
let prisma: PrismaClient;
let database: TestDatabase;

beforeAll(async () => {
  privateKey = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  nock.disableNetConnect();
  ({ prisma, database } = await createTestPrisma());
});

afterAll(async () => {
  await prisma.$disconnect();
  await database.drop();
});

afterEach(() => {
  nock.cleanAll();
});

const PACED: WritePacing = { intervalMs: 1000, burst: 3, notifyIntervalMs: 0 };

function probotWith(pacing: WritePacing, slots: TakeSlot = createLocalSlots()): Probot {
  const Octokit = withWritePacing(
    ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, retry: { enabled: false } })),
    pacing,
    slots,
  );
  return new Probot({ appId: 1, privateKey, Octokit, log: pino({ level: 'silent' }) });
}

/** Answers installation tokens, 👀 reactions and new comments, recording when each write arrived (nock 15 hands reply functions the fetch Request). */
function fakeGitHub(installations: number[]): Map<number, { at: number; kind: string }[]> {
  const arrivals = new Map<number, { at: number; kind: string }[]>(installations.map((id) => [id, []]));
  for (const id of installations) {
    const record = (kind: string) => arrivals.get(id)?.push({ at: performance.now(), kind });
    nock(API)
      .post(`/app/installations/${id}/access_tokens`)
      .times(3)
      .reply(201, { token: `ghs_token${id}`, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    nock(API, { reqheaders: { authorization: `token ghs_token${id}` } })
      .post(/^\/repos\/octo\/repo\/issues\/comments\/\d+\/reactions$/, { content: 'eyes' })
      .times(20)
      .reply(201, (request: Request) => {
        record(`reaction ${new URL(request.url).pathname.split('/')[6]}`);
        return { id: 1, content: 'eyes' };
      });
    nock(API, { reqheaders: { authorization: `token ghs_token${id}` } })
      .post(/^\/repos\/octo\/repo\/issues\/\d+\/comments$/, (body) => typeof body.body === 'string')
      .times(10)
      .reply(201, (request: Request) => {
        record(`comment ${new URL(request.url).pathname.split('/')[5]}`);
        return { id: 2, body: 'hi' };
      });
  }
  return arrivals;
}

/** A 👀 on comment `id`: a plain (not notifying) write. */
function addReaction(octokit: Awaited<ReturnType<Probot['auth']>>, id: number) {
  return octokit.request('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
    owner: 'octo',
    repo: 'repo',
    comment_id: id,
    content: 'eyes',
  });
}

async function react(probot: Probot, installationId: number, ids: number[]): Promise<void> {
  const octokit = await probot.auth(installationId);
  await Promise.all(ids.map((id) => addReaction(octokit, id)));
}

const offsets = (times: { at: number }[], start: number) => times.map((t) => Math.round(t.at - start));
const gaps = (times: { at: number }[]) =>
  times.slice(1).map((t, i) => Math.round(t.at - (times[i]?.at ?? t.at)));

describe('GitHub write pacing', () => {
  it('lets a burst go at once, then one write per interval, per installation', async () => {
    const probot = probotWith(PACED);
    const arrivals = fakeGitHub([11, 12]);
    const start = performance.now();
    // Installation 11 sends 5 writes at once; installation 12 sends 3 while 11 waits.
    await Promise.all([
      react(probot, 11, [1, 2, 3, 4, 5]),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => react(probot, 12, [1, 2, 3])),
    ]);
    const first = arrivals.get(11) ?? [];
    const other = arrivals.get(12) ?? [];
    console.log(
      `installation 11: arrivals at ${offsets(first, start).join(', ')} ms (gaps ${gaps(first).join(', ')}); ` +
        `installation 12: ${offsets(other, start).join(', ')} ms`,
    );
    expect(first).toHaveLength(5);
    expect(other).toHaveLength(3);
    // The burst: three writes before the first refill could have happened.
    expect((first[2]?.at ?? 0) - start).toBeLessThan(1000);
    // After the burst, one write per interval (the bucket never holds more than it refilled).
    expect((first[4]?.at ?? 0) - (first[3]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((first[4]?.at ?? 0) - start).toBeGreaterThanOrEqual(1900);
    // Installation 12 did not queue behind installation 11's paced writes.
    expect(other[2]?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(first[3]?.at ?? 0);
  });

  it('does not pace at all with an interval of 0', async () => {
    const probot = probotWith({ intervalMs: 0, burst: 1, notifyIntervalMs: 3000 });
    const arrivals = fakeGitHub([21]);
    const start = performance.now();
    await react(probot, 21, [1, 2, 3, 4, 5, 6, 7, 8]);
    const times = arrivals.get(21) ?? [];
    console.log(`8 writes with pacing off: last arrived after ${Math.round((times[7]?.at ?? 0) - start)} ms`);
    expect(times).toHaveLength(8);
    // With a burst of 1 and any pacing (Octokit's own included), 8 writes would need 7 s.
    expect((times[7]?.at ?? 0) - start).toBeLessThan(3000);
  });

  it('paces writes that notify people again, on top of the write pace', async () => {
    const probot = probotWith({ intervalMs: 100, burst: 2, notifyIntervalMs: 1000 });
    const arrivals = fakeGitHub([31]);
    const octokit = await probot.auth(31);
    const start = performance.now();
    await Promise.all([
      ...[1, 2, 3].map((issue) =>
        octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
          owner: 'octo',
          repo: 'repo',
          issue_number: issue,
          body: 'hi',
        }),
      ),
      react(probot, 31, [7, 8, 9]),
    ]);
    const times = arrivals.get(31) ?? [];
    const comments = times.filter((t) => t.kind.startsWith('comment'));
    const reactions = times.filter((t) => t.kind.startsWith('reaction'));
    console.log(
      `comments at ${offsets(comments, start).join(', ')} ms; reactions at ${offsets(reactions, start).join(', ')} ms`,
    );
    expect(comments).toHaveLength(3);
    // Two notifying writes in the burst, the third a whole notify interval later.
    expect((comments[2]?.at ?? 0) - start).toBeGreaterThanOrEqual(950);
    // Plain writes are not held to the notify pace: all reactions went before the third comment.
    expect(Math.max(...reactions.map((r) => r.at))).toBeLessThan(comments[2]?.at ?? 0);
  });

  it('sends the writes a run waits for before queued progress reports', async () => {
    const probot = probotWith({ intervalMs: 400, burst: 1, notifyIntervalMs: 0 });
    const arrivals = fakeGitHub([41]);
    const octokit = await probot.auth(41);
    const reaction = (id: number) => addReaction(octokit, id);
    // Three background writes queue first; two foreground writes arrive after them.
    const backgroundWrites = inBackground(() => Promise.all([reaction(1), reaction(2), reaction(3)]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([reaction(100), reaction(101), backgroundWrites]);
    const order = (arrivals.get(41) ?? []).map((a) => a.kind.replace('reaction ', ''));
    console.log(`arrival order: ${order.join(', ')} (1–3 background, 100–101 foreground)`);
    // The first background write had the slot already; the foreground ones overtake the rest.
    expect(order).toEqual(['1', '100', '101', '2', '3']);
  });

  it('keeps the last slot of a burst for a foreground write', async () => {
    const probot = probotWith(PACED);
    const arrivals = fakeGitHub([45]);
    const octokit = await probot.auth(45);
    const reaction = (id: number) => addReaction(octokit, id);
    const start = performance.now();
    // Two foreground writes leave one slot; a background write must not take it.
    const first = Promise.all([reaction(1), reaction(2)]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const report = inBackground(() => reaction(3));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await Promise.all([first, report, reaction(4)]);
    const at = new Map((arrivals.get(45) ?? []).map((a) => [a.kind.replace('reaction ', ''), a.at - start]));
    console.log(
      `foreground 1, 2 at ${Math.round(at.get('1') ?? 0)}, ${Math.round(at.get('2') ?? 0)} ms; background 3 at ${Math.round(at.get('3') ?? 0)} ms; foreground 4 (sent at 230 ms) at ${Math.round(at.get('4') ?? 0)} ms`,
    );
    // The foreground write that came later found the slot the report left.
    expect(at.get('4')).toBeLessThan(700);
    // The report waited until the bucket had two slots again.
    expect(at.get('3')).toBeGreaterThanOrEqual(1900);
  });

  it('keeps one pace for two processes that share the database', async () => {
    // Two Probot instances with their own gates stand for two worker processes.
    const a = probotWith(PACED, createDatabaseSlots(prisma));
    const b = probotWith(PACED, createDatabaseSlots(prisma));
    const arrivals = fakeGitHub([51]);
    const start = performance.now();
    await Promise.all([react(a, 51, [1, 2, 3]), react(b, 51, [4, 5, 6])]);
    const times = arrivals.get(51) ?? [];
    console.log(
      `two processes, one installation, 6 writes: arrivals at ${offsets(times, start).join(', ')} ms`,
    );
    expect(times).toHaveLength(6);
    // Together one bucket: 3 at once, then one per second — not 3 + 3 at once.
    expect((times[3]?.at ?? 0) - start).toBeGreaterThanOrEqual(900);
    expect((times[5]?.at ?? 0) - start).toBeGreaterThanOrEqual(2800);
  });
});

describe('write buckets', () => {
  it('take a burst, then one slot per interval, the same in memory and in PostgreSQL', async () => {
    let clock = 1_000_000;
    const local = createLocalSlots(() => clock);
    const shared = createDatabaseSlots(prisma);
    // 3 at once, then the 4th is 1000 ms early.
    expect(await Promise.all([1, 2, 3, 4].map(() => local('k', 1000, 3)))).toEqual([0, 0, 0, 1000]);
    clock += 1000;
    expect(await local('k', 1000, 3)).toBe(0);
    expect(await local('k', 1000, 3)).toBe(1000);
    const key = `k-${Date.now()}`;
    const results: number[] = [];
    for (let i = 0; i < 4; i++) results.push(await shared(key, 1000, 3));
    console.log(`PostgreSQL bucket, 4 writes at once: ${results.join(', ')} ms to wait`);
    expect(results.slice(0, 3)).toEqual([0, 0, 0]);
    expect(results[3]).toBeGreaterThan(900);
    expect(results[3]).toBeLessThanOrEqual(1000);
  });

  it('fall back to the process alone when the database cannot answer', async () => {
    const errors: unknown[] = [];
    const broken = createDatabaseSlots(
      {
        $queryRaw: (() =>
          Promise.reject(new Error('connection refused'))) as unknown as PrismaClient['$queryRaw'],
      },
      (error) => errors.push(error),
    );
    expect(await broken('k', 1000, 1)).toBe(0);
    expect(await broken('k', 1000, 1)).toBeGreaterThan(0);
    expect(errors).toHaveLength(2);
  });

  it('know which requests are writes and which notify people', () => {
    expect(writeKind('GET', '/repos/{owner}/{repo}/pulls')).toBe('read');
    expect(writeKind('POST', '/repos/{owner}/{repo}/pulls')).toBe('notify');
    expect(writeKind('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments')).toBe('notify');
    expect(writeKind('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}')).toBe('write');
    expect(writeKind('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}')).toBe('write');
    expect(writeKind('POST', 'https://ghe.example.com/api/v3/repos/o/r/issues/3/comments')).toBe('notify');
    expect(writeKind('POST', '/app/installations/{installation_id}/access_tokens')).toBe('read');
  });
});
