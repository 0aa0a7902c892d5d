// The Codex slot guard makes SPECKIT_INSTALLATION_CONCURRENCY strict across
// concurrent fetches. First, deterministically: while one claim of a group is
// uncommitted, a second claim of the same group waits for it and then finds
// the group full, so its job stays queued; another group is not held up.
// Then as the workers use it: two pg-boss instances with three fetchers each,
// woken together by one batch of sends, never run more than the cap of one
// group at once. Real PostgreSQL and pg-boss.
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName } from '../../src/chain/chain.ts';
import { codexSlotGuardBody, installCodexSlotGuard } from '../../src/chain/codex-slot-guard.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';

const QUEUE = queueName('codex');
let prisma: PrismaClient;
let database: TestDatabase;
let boss: PgBoss;

beforeAll(async () => {
  ({ prisma, database } = await createTestPrisma());
  boss = new PgBoss({ connectionString: database.url, supervise: false, schedule: false, max: 4 });
  await boss.start();
  await boss.createQueue(QUEUE);
});

afterAll(async () => {
  await boss?.stop({ graceful: false });
  await prisma?.$disconnect();
  await database?.drop();
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: database.url });
  await c.connect();
  return c;
}

/** What a fetch does to one job: the claim the guard watches. */
const CLAIM = `UPDATE pgboss.job SET state = 'active', started_on = now() WHERE id = $1 AND state < 'active' RETURNING id`;

describe('the Codex slot guard', () => {
  it('refuses a bad limit', () => {
    expect(() => codexSlotGuardBody(0)).toThrow(/positive integer/);
    expect(codexSlotGuardBody(3)).toContain('>= 3');
  });

  it('holds a second claim of a full group until the first commits, then leaves its job queued', async () => {
    await installCodexSlotGuard(prisma, 1);
    await installCodexSlotGuard(prisma, 1); // idempotent: a second start changes nothing
    const [a1, a2, b1] = await Promise.all([
      boss.send(QUEUE, { n: 1 }, { group: { id: 'inst-a' } }),
      boss.send(QUEUE, { n: 2 }, { group: { id: 'inst-a' } }),
      boss.send(QUEUE, { n: 3 }, { group: { id: 'inst-b' } }),
    ]);
    const first = await client();
    const second = await client();
    try {
      await first.query('BEGIN');
      expect((await first.query(CLAIM, [a1])).rowCount).toBe(1);
      // The second claim of group inst-a waits on the first (still uncommitted)…
      let secondDone = false;
      const secondClaim = second.query(CLAIM, [a2]).then((result) => {
        secondDone = true;
        return result;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(secondDone).toBe(false);
      // …while another installation's claim goes through at once.
      const other = await client();
      const otherClaim = await other.query(CLAIM, [b1]);
      await other.end();
      await first.query('COMMIT');
      const result = await secondClaim;
      console.log(
        `injected: two claims of installation inst-a (cap 1), the first held open 300 ms, and one of inst-b; ` +
          `observed: the second waited and claimed ${result.rowCount} job(s); inst-b's claimed ${otherClaim.rowCount} at once`,
      );
      expect(otherClaim.rowCount).toBe(1);
      expect(result.rowCount).toBe(0);
      const { rows } = await first.query<{ id: string; state: string }>(
        'SELECT id, state FROM pgboss.job WHERE name = $1 ORDER BY (data->>$2)::int',
        [QUEUE, 'n'],
      );
      expect(rows.map((r) => r.state)).toEqual(['active', 'created', 'active']);
    } finally {
      await first.end();
      await second.end();
    }
  });

  it('raises and lowers with the configured limit', async () => {
    await installCodexSlotGuard(prisma, 2);
    const [c1, c2, c3] = await Promise.all(
      [1, 2, 3].map((n) => boss.send(QUEUE, { n }, { group: { id: 'inst-c' } })),
    );
    const c = await client();
    try {
      const claimed = [];
      for (const id of [c1, c2, c3]) claimed.push((await c.query(CLAIM, [id])).rowCount);
      expect(claimed).toEqual([1, 1, 0]);
    } finally {
      await c.end();
    }
  });

  it('keeps the cap when workers of two processes fetch at the same moment', async () => {
    await installCodexSlotGuard(prisma, 1);
    const bosses = [0, 1].map(
      () =>
        new PgBoss({
          connectionString: database.url,
          useListenNotify: true,
          supervise: false,
          schedule: false,
          max: 4,
        }),
    );
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    let done = 0;
    try {
      for (const b of bosses) {
        await b.start();
        await b.work(
          QUEUE,
          { batchSize: 1, localConcurrency: 3, groupConcurrency: 1, pollingIntervalSeconds: 0.5 },
          async ([job]) => {
            const group = (job!.data as { group: string }).group;
            running.set(group, (running.get(group) ?? 0) + 1);
            most.set(group, Math.max(most.get(group) ?? 0, running.get(group)!));
            await new Promise((resolve) => setTimeout(resolve, 150));
            running.set(group, running.get(group)! - 1);
            done += 1;
          },
        );
      }
      // One batch: every fetcher is woken by the same notification.
      const jobs = ['inst-d', 'inst-e'].flatMap((group) =>
        Array.from({ length: 6 }, () => ({ data: { group }, group: { id: group } })),
      );
      await boss.insert(QUEUE, jobs);
      const deadline = Date.now() + 30_000;
      while (done < jobs.length && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      console.log(
        `injected: 12 jobs of 2 installations (cap 1) at once to 2 pg-boss instances × 3 fetchers; ` +
          `observed: ${done} done, most running at once per installation: ${[...most].map(([g, n]) => `${g} ${n}`).join(', ')}`,
      );
      expect(done).toBe(jobs.length);
      expect(most.get('inst-d')).toBe(1);
      expect(most.get('inst-e')).toBe(1);
    } finally {
      await Promise.all(bosses.map((b) => b.stop({ graceful: false })));
    }
  }, 60_000);
});
