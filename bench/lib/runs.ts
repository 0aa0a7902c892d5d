// Driving runs through the app and reading their timeline from the outside:
// webhook sent/acknowledged (bench clock), GitHub requests as the fake saw
// them, and step changes as the bench's LISTEN connection saw them commit.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { STEPS } from '../../src/chain/chain.ts';
import { isSettled } from './run-events.ts';
import { now } from './stats.ts';
import type { Delivery, World } from './world.ts';

export interface RunRecord {
  feature: string;
  delivery: Delivery;
  status: string;
  /** Webhook sent → run settled (finalize's transition committed). */
  totalMs: number;
  /** Webhook sent → the check-run create request reached GitHub. */
  checkRunMs: number | null;
  /** Step N's success committed → step N+1's attempt committed (as seen by the bench's LISTEN). */
  hops: { from: string; to: string; ms: number }[];
  /** Attempt committed running → committed succeeded, per step. */
  stepMs: Record<string, number>;
  githubRequests: number;
  githubWrites: number;
}

export function recordRun(world: World, delivery: Delivery, settledAt: number, status: string): RunRecord {
  const events = world.events.events.filter(
    (e) => e.event.runId === delivery.runId && e.event.type === 'task',
  );
  const started = new Map<string, number>();
  const succeeded = new Map<string, number>();
  for (const e of events) {
    const step = e.event.taskName ?? '';
    if (e.event.op === 'insert' && e.event.status === 'running' && !started.has(step))
      started.set(step, e.at);
    if (e.event.op === 'update' && e.event.status === 'succeeded') succeeded.set(step, e.at);
  }
  const hops: RunRecord['hops'] = [];
  const stepMs: Record<string, number> = {};
  for (let i = 0; i < STEPS.length; i++) {
    const step = STEPS[i]!;
    const s = started.get(step);
    const f = succeeded.get(step);
    if (s !== undefined && f !== undefined) stepMs[step] = f - s;
    const next = STEPS[i + 1];
    const nextStart = next ? started.get(next) : undefined;
    if (f !== undefined && next && nextStart !== undefined)
      hops.push({ from: step, to: next, ms: nextStart - f });
  }
  const requests = world.github.timed.filter((r) => r.at >= delivery.sentAt && r.at <= settledAt + 50);
  const checkRun = world.github.timed.find(
    (r) =>
      r.method === 'POST' &&
      r.path.endsWith('/check-runs') &&
      (r.body as { external_id?: string } | undefined)?.external_id === delivery.runId,
  );
  return {
    feature: delivery.feature,
    delivery,
    status,
    totalMs: settledAt - delivery.sentAt,
    checkRunMs: checkRun ? checkRun.at - delivery.sentAt : null,
    hops,
    stepMs,
    githubRequests: requests.length,
    githubWrites: requests.filter((r) => r.method !== 'GET' && !r.path.includes('/access_tokens')).length,
  };
}

/** One run at a time, `gapMs` of quiet between runs (so each starts on an idle app). */
export async function sequentialRuns(
  world: World,
  features: readonly string[],
  options: { gapMs: number; timeoutMs: number },
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (const feature of features) {
    const delivery = await world.deliver(feature);
    if (delivery.status !== 200) throw new Error(`webhook answered ${delivery.status}`);
    const settled = await world.settled(delivery.runId, options.timeoutMs);
    records.push(recordRun(world, delivery, settled.at, settled.event.status ?? ''));
    await new Promise((resolve) => setTimeout(resolve, options.gapMs));
  }
  return records;
}

export interface BurstResult {
  deliveries: Delivery[];
  /** First webhook sent → last run settled (or the cap when not all settled). */
  makespanMs: number;
  settled: number;
  succeeded: number;
  finishedAll: boolean;
  /** Settle times relative to the first webhook. */
  settleOffsets: number[];
  /** GitHub write requests (POST/PATCH, tokens excluded) per second over the measured span. */
  githubWritesPerSecond: number;
  /** Why runs that did not succeed ended as they did (error step and code), with counts. */
  failures: Record<string, number>;
  /** Share of the machine's CPU time (all cores, /proc/stat) that was busy during the burst. */
  cpuBusy: number;
}

/** Busy and total jiffies of all cores so far (/proc/stat's first line). */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Starts every run at once and waits until all settled, or `capMs` passed. */
export async function burstRuns(
  world: World,
  features: readonly string[],
  capMs: number,
): Promise<BurstResult> {
  const cpuBefore = await cpuTimes();
  const start = now();
  const deliveries = await Promise.all(features.map((feature) => world.deliver(feature)));
  const ids = new Set(deliveries.map((d) => d.runId));
  const deadline = start + capMs;
  const settledAt = new Map<string, { at: number; status: string }>();
  while (settledAt.size < ids.size && now() < deadline) {
    for (const e of world.events.events) {
      if (ids.has(e.event.runId) && isSettled(e) && !settledAt.has(e.event.runId))
        settledAt.set(e.event.runId, { at: e.at, status: e.event.status ?? '' });
    }
    if (settledAt.size < ids.size) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cpuAfter = await cpuTimes();
  const offsets = [...settledAt.values()].map((s) => s.at - start).sort((a, b) => a - b);
  const finishedAll = settledAt.size === ids.size;
  const end = finishedAll ? start + (offsets.at(-1) ?? 0) : now();
  const writes = world.github.timed.filter(
    (r) => r.at >= start && r.at <= end && r.method !== 'GET' && !r.path.includes('/access_tokens'),
  ).length;
  const failures: Record<string, number> = {};
  const client = new pg.Client({ connectionString: world.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ reason: string; count: string }>(
      `SELECT coalesce(error_step, '?') || ': ' || coalesce(error_code, '?') || ' ' || left(coalesce(error_message, ''), 160) AS reason, count(*)
         FROM spec_workflow_run WHERE status IN ('failed', 'cancelled') GROUP BY 1`,
    );
    for (const r of rows) failures[r.reason] = Number(r.count);
  } finally {
    await client.end();
  }
  return {
    githubWritesPerSecond: (writes / Math.max(1, end - start)) * 1000,
    failures,
    deliveries,
    makespanMs: finishedAll ? (offsets.at(-1) ?? 0) : capMs,
    settled: settledAt.size,
    succeeded: [...settledAt.values()].filter((s) => s.status === 'succeeded').length,
    finishedAll,
    settleOffsets: offsets,
    cpuBusy: (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total),
  };
}
