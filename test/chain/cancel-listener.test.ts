// The cancel listener keeps listening across lost connections: after its
// connection is killed it reconnects and hears the next cancel, and a cancel
// committed while it was away still aborts the run it watches (it looks the
// watched runs up once it is back). Real PostgreSQL; the connection is
// killed with pg_terminate_backend, as a restart or failover would.
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANCEL_CHANNEL, type CancelListener, startCancelListener } from '../../src/chain/cancel-listener.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { insertRun } from '../support/chain-fixtures.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';

let prisma: PrismaClient;
let database: TestDatabase;
let admin: pg.Client;

beforeAll(async () => {
  ({ prisma, database } = await createTestPrisma());
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
  await prisma.$disconnect();
  await database.drop();
});

/** Kills the listener's connection from the server side; returns the killed backends' pids. */
async function killListener(): Promise<number[]> {
  // pg_terminate_backend stays in the select list: in WHERE it could run before the other filters.
  const { rows } = await admin.query<{ pid: number; killed: boolean }>(
    `SELECT pid, pg_terminate_backend(pid) AS killed FROM pg_stat_activity
      WHERE application_name = 'speckit-bot cancel listener' AND datname = current_database()`,
  );
  return rows.filter((r) => r.killed).map((r) => r.pid);
}

/** Waits until a new listener connection (not one of `old`) is idle: LISTENing, any recheck done. */
async function listenerReconnected(old: number[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query(
      `SELECT 1 FROM pg_stat_activity WHERE application_name = 'speckit-bot cancel listener'
        AND datname = current_database() AND state = 'idle' AND NOT (pid = ANY($1::int[]))`,
      [old],
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the cancel listener did not reconnect');
}

const aborted = (signal: AbortSignal, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

describe('the cancel listener', () => {
  let listener: CancelListener;

  beforeAll(async () => {
    listener = await startCancelListener(database.url, pino({ level: 'silent' }), {
      minReconnectMs: 300,
      maxReconnectMs: 300,
    });
  });

  afterAll(async () => {
    await listener.close();
  });

  it('reconnects after its connection is killed and hears the next cancel', async () => {
    const run = await insertRun(prisma, { status: 'running' });
    const watched = listener.watch(run.id);
    const killed = await killListener();
    await listenerReconnected(killed);
    await admin.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, run.id]);
    const result = await aborted(watched.signal, 5_000);
    console.log(
      `injected: ${killed.length} listener connection(s) terminated; observed: reconnected, cancel heard: ${result}`,
    );
    expect(killed).toHaveLength(1);
    expect(result).toBe(true);
    watched.release();
  });

  it('applies a cancel that was committed while it was disconnected', async () => {
    const run = await insertRun(prisma, { status: 'running' });
    const watched = listener.watch(run.id);
    await killListener();
    // Within the 300 ms before it reconnects. No NOTIFY at all: only the
    // look-up after reconnecting can find this cancel.
    await admin.query(`UPDATE spec_workflow_run SET status = 'cancelling' WHERE id = $1`, [run.id]);
    const result = await aborted(watched.signal, 5_000);
    console.log(
      `injected: the cancel committed while the listener was away; observed: aborted after reconnecting: ${result}`,
    );
    expect(result).toBe(true);
    watched.release();
  });

  it('notices a connection whose server stopped answering (half open) and reconnects', async () => {
    // A stopped backend keeps its socket open and answers nothing, as a
    // vanished server after a failover does; its ping times out.
    const quick = await startCancelListener(database.url, pino({ level: 'silent' }), {
      minReconnectMs: 100,
      maxReconnectMs: 100,
      pingIntervalMs: 200,
      pingTimeoutMs: 500,
    });
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'speckit-bot cancel listener'
        AND datname = current_database() ORDER BY backend_start DESC LIMIT 1`,
    );
    const stopped = rows[0]?.pid ?? 0;
    process.kill(stopped, 'SIGSTOP');
    try {
      const run = await insertRun(prisma, { status: 'running' });
      const watched = quick.watch(run.id);
      // The cancel goes to the stopped connection, which never hears it; only
      // a new connection (its look-up of cancelled runs) can abort the run.
      await admin.query(`UPDATE spec_workflow_run SET status = 'cancelling' WHERE id = $1`, [run.id]);
      await admin.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, run.id]);
      const result = await aborted(watched.signal, 5_000);
      console.log(
        `injected: the listener's backend (pid ${stopped}) stopped; observed: reconnected, cancel heard: ${result}`,
      );
      expect(result).toBe(true);
      watched.release();
    } finally {
      process.kill(stopped, 'SIGCONT');
      await quick.close();
    }
  });

  it('leaves runs that were not cancelled alone after reconnecting', async () => {
    const run = await insertRun(prisma, { status: 'running' });
    const watched = listener.watch(run.id);
    await listenerReconnected(await killListener());
    expect(await aborted(watched.signal, 700)).toBe(false);
    watched.release();
  });
});
