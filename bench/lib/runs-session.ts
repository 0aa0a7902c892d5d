// The sequential-runs session shared by `trigger-check-run`, `step-dispatch`
// and `run-overhead`: one world, one web process and one worker process;
// runs one at a time on an idle app (so each measures latency, not queueing),
// first with the app as it is, then with a worker whose GitHub write pacing
// is off (GITHUB_WRITE_INTERVAL_MS=0), then with the real Codex
// CLI against the fake model server; plus the floors those benchmarks need.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { createTestDatabase } from '../../test/support/database.ts';
import {
  applyPatchCall,
  finalMessage,
  isToolFollowUp,
  startFakeModelServer,
} from '../../test/support/fake-model-server.ts';
import type { BenchContext } from './bench.ts';
import { gitRunFloor, pgBossChainFloor } from './floors.ts';
import { type RunRecord, sequentialRuns } from './runs.ts';
import { now } from './stats.ts';
import { createWorld, featureKey, type World } from './world.ts';

/**
 * The worker environment of the "pacing off" rows: GitHub writes unpaced, as
 * on a GitHub Enterprise Server without rate limits. It shows what a run
 * costs apart from GitHub's requested write pace (src/github/write-pacing.ts).
 */
export const PACING_OFF = { GITHUB_WRITE_INTERVAL_MS: '0' } as const;

/** Sized for the 10-minute suite: an as-is run waits a few seconds on GitHub's write pace. */
export const SIZES = { asIs: 6, whatIf: 8, realCodex: 3, gitFloor: 10, chainFloor: 60, triggerFloor: 15 };

/**
 * Consecutive runs go to different installations, so each trigger finds its
 * installation's write bucket full, as a trigger on an idle app does (the
 * previous run's last writes emptied its own bucket).
 */
const INSTALLATIONS = 5;

export interface RunsSession {
  asIs: RunRecord[];
  whatIf: RunRecord[];
  realCodex: RunRecord[];
  gitFloor: { ms: number; commands: number }[];
  chainFloor: { hops: number[]; totals: number[] };
  triggerFloor: number[];
  /** Requests the app sent to GitHub before the check run (replayed by the trigger floor). */
  triggerRequests: string[];
  /** startedAt(N+1) − finishedAt(N) from the database (worker clocks), as-is runs. */
  dbHops: number[];
  repoBytes: number;
}

export function runsSession(ctx: BenchContext): Promise<RunsSession> {
  return ctx.shared('runs-session', () => measureRunsSession(ctx));
}

async function measureRunsSession(ctx: BenchContext): Promise<RunsSession> {
  ctx.log('floor: raw pg-boss 5-job chains');
  const chainFloor = await pgBossChainFloor(SIZES.chainFloor);
  const total = 1 + SIZES.asIs + 1 + SIZES.whatIf + SIZES.realCodex + SIZES.gitFloor + 2;
  let next = 1;
  const take = (count: number) => Array.from({ length: count }, () => featureKey(next++));
  const model = await startFakeModelServer(({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Implemented Phase 1.');
    const feature = /specs\/([A-Za-z0-9._-]+)\/tasks\.md/.exec(JSON.stringify(body))?.[1] ?? 'unknown';
    return applyPatchCall(
      `*** Begin Patch\n*** Add File: src/${feature}/hello.txt\n+Hello from ${feature}\n*** End Patch\n`,
    );
  });
  const world = await createWorld({ features: total, installations: INSTALLATIONS });
  try {
    await world.startWeb();
    await world.startWorker();
    ctx.log('as-is runs (one warm-up)');
    await sequentialRuns(world, take(1), { gapMs: 1200, timeoutMs: 120_000 });
    const asIs = await sequentialRuns(world, take(SIZES.asIs), { gapMs: 1200, timeoutMs: 120_000 });
    const triggerRequests = requestsBeforeCheckRun(world, asIs[0]!);
    const dbHops = await databaseHops(
      world,
      asIs.map((r) => r.delivery.runId),
    );
    await world.stopWorkers();

    ctx.log('runs with GitHub write pacing off (GITHUB_WRITE_INTERVAL_MS=0)');
    await world.startWorker(PACING_OFF);
    await sequentialRuns(world, take(1), { gapMs: 300, timeoutMs: 120_000 });
    const whatIf = await sequentialRuns(world, take(SIZES.whatIf), { gapMs: 300, timeoutMs: 120_000 });
    await world.stopWorkers();

    ctx.log('real Codex CLI runs against the fake model server (write pacing off)');
    const codexHome = path.join(world.root, 'real-codex-home');
    const { writeCodexHome, FAKE_API_KEY_ENV, FAKE_MODEL } = await import(
      '../../test/support/fake-model-server.ts'
    );
    await writeCodexHome(codexHome, model.url);
    await world.startWorker({
      CODEX_BIN: '',
      CODEX_HOME: codexHome,
      CODEX_MODEL: FAKE_MODEL,
      CODEX_ENV_PASSTHROUGH: FAKE_API_KEY_ENV,
      [FAKE_API_KEY_ENV]: 'fake-key',
      ...PACING_OFF,
    });
    const realCodex = await sequentialRuns(world, take(SIZES.realCodex), { gapMs: 300, timeoutMs: 120_000 });
    await world.stopWorkers();

    ctx.log('floor: the same git commands run directly');
    const gitFloor: { ms: number; commands: number }[] = [];
    for (const feature of take(SIZES.gitFloor))
      gitFloor.push(await gitRunFloor(world.repo.url, feature, path.join(world.root, 'git-floor')));

    ctx.log('floor: webhook → pg-boss → the same GitHub requests, unthrottled');
    const triggerFloor = await measureTriggerFloor(world, triggerRequests, SIZES.triggerFloor);
    return {
      asIs,
      whatIf,
      realCodex,
      gitFloor,
      chainFloor,
      triggerFloor,
      triggerRequests,
      dbHops,
      repoBytes: world.repo.sizeBytes,
    };
  } finally {
    await world.close();
    await model.close();
  }
}

function requestsBeforeCheckRun(world: World, record: RunRecord): string[] {
  const out: string[] = [];
  for (const r of world.github.timed) {
    if (r.at < record.delivery.sentAt) continue;
    out.push(`${r.method} ${r.path}`);
    if (r.method === 'POST' && r.path.endsWith('/check-runs')) break;
  }
  return out;
}

async function databaseHops(world: World, runIds: string[]): Promise<number[]> {
  const client = new pg.Client({ connectionString: world.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      run_id: string;
      task_name: string;
      started_at: Date;
      finished_at: Date;
    }>(
      'SELECT run_id, task_name, started_at, finished_at FROM spec_workflow_task_state WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, started_at',
      [runIds],
    );
    const hops: number[] = [];
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1]!;
      const b = rows[i]!;
      if (a.run_id === b.run_id && a.finished_at && b.started_at)
        hops.push(b.started_at.getTime() - a.finished_at.getTime());
    }
    return hops;
  } finally {
    await client.end();
  }
}

/**
 * The floor of "webhook received → check run created": a bare HTTP server
 * whose handler sends a pg-boss job; the job's handler makes the requests the
 * app made before its check-run POST (same methods and paths), one after
 * another, unthrottled. Timed from the POST to the floor server until the
 * check-run POST reaches the fake GitHub.
 */
async function measureTriggerFloor(world: World, requests: string[], n: number): Promise<number[]> {
  const database = await createTestDatabase({ migrate: false });
  const boss = new PgBoss({ connectionString: database.url, useListenNotify: true });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('floor.intake', { notify: true });
  const base = `http://${world.github.host}/api/v3`;
  await boss.work(
    'floor.intake',
    { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2, batchSize: 1 },
    async () => {
      for (const line of requests) {
        const [method, pathname] = line.split(' ') as [string, string];
        const body =
          method === 'GET'
            ? undefined
            : JSON.stringify(
                pathname.endsWith('/check-runs')
                  ? { name: 'floor', head_sha: '0'.repeat(40), external_id: 'floor', status: 'queued' }
                  : { content: 'eyes' },
              );
        const response = await fetch(`${base}${pathname}`, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(body ? { body } : {}),
        });
        await response.arrayBuffer();
      }
    },
  );
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      void boss.send('floor.intake', {}).then(() => {
        res.writeHead(200);
        res.end('ok');
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const samples: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const arrived = world.github.next(
        (r) =>
          r.method === 'POST' &&
          r.path.endsWith('/check-runs') &&
          (r.body as { name?: string })?.name === 'floor',
      );
      const start = now();
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' });
      await response.arrayBuffer();
      samples.push((await arrived).at - start);
    }
  } finally {
    server.close();
    server.closeAllConnections();
    await boss.stop({ graceful: false, close: true });
    await database.drop();
  }
  return samples;
}
