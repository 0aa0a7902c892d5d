// state → browser: a run's state change committed → the SSE event received by
// a client of the API's stream (/api/workflows/speckit/events): headless
// Chromium (EventSource with the dashboard's session cookie) and a Node client
// (bearer token). Floor: a raw LISTEN connection on the same channel.
// Target p95 < 200 ms.

import pg from 'pg';
import { chromium } from 'playwright-core';
import { createPrismaClient } from '../../src/db/prisma.ts';
import { insertRun } from '../../test/support/chain-fixtures.ts';
import type { Benchmark } from '../lib/bench.ts';
import { sleep } from '../lib/bench.ts';
import { type BenchReport, now, ratio, row } from '../lib/stats.ts';
import { API_TOKEN, createWorld } from '../lib/world.ts';

const UPDATES = 200;
const RATE = 20;
const CHROMIUM = '/usr/bin/chromium';

async function nodeSseClient(
  url: string,
  arrivals: Map<string, number>,
): Promise<{ ready: Promise<void>; stop(): void }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/api/workflows/speckit/events`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    signal: controller.signal,
  });
  if (!response.ok || !response.body) throw new Error(`SSE answered ${response.status}`);
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      const at = now();
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith('event: ready')) markReady();
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (block.startsWith('event: run') && data) {
          const key = (JSON.parse(data) as { featureKey: string }).featureKey;
          if (!arrivals.has(key)) arrivals.set(key, at);
        }
        end = buffer.indexOf('\n\n');
      }
    }
  })();
  return { ready, stop: () => controller.abort() };
}

export const stateBrowser: Benchmark = {
  name: 'state-browser',
  title: 'state change committed → SSE event received',
  async run(ctx) {
    const started = Date.now();
    const world = await createWorld({ features: 1 });
    const prisma = createPrismaClient(world.database.url, { max: 2 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    const client = new pg.Client({ connectionString: world.database.url });
    try {
      const web = await world.startWeb();
      const url = web.url!;
      const run = await insertRun(prisma, { status: 'succeeded', currentStep: 'finalize' });
      await client.connect();
      const page = await browser.newPage();
      await page.goto(`${url}/api/openapi.json`);
      await page.evaluate(async (token) => {
        const w = globalThis as any;
        const answer = await fetch('/api/workflows/speckit/session', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token }),
        });
        if (!answer.ok) throw new Error(`session: ${answer.status}`);
        w.arrivals = [];
        const source = new w.EventSource('/api/workflows/speckit/events');
        source.addEventListener('run', (event: any) => {
          w.arrivals.push([JSON.parse(event.data).featureKey, performance.timeOrigin + performance.now()]);
        });
        await new Promise((resolve) => source.addEventListener('ready', resolve));
      }, API_TOKEN);
      const nodeArrivals = new Map<string, number>();
      const sse = await nodeSseClient(url, nodeArrivals);
      await sse.ready;
      ctx.log(`${UPDATES} committed updates at ${RATE}/s`);
      const committedAt = new Map<string, number>();
      const commitMs: number[] = [];
      const start = now();
      for (let i = 0; i < UPDATES; i++) {
        const wait = start + (i * 1000) / RATE - now();
        if (wait > 0) await sleep(wait);
        const key = `sse-${i}`;
        const t0 = now();
        committedAt.set(key, t0);
        await client.query('UPDATE spec_workflow_run SET feature_key = $1 WHERE id = $2', [key, run.id]);
        commitMs.push(now() - t0);
      }
      await sleep(500);
      sse.stop();
      const browserArrivals = new Map<string, number>(
        (await page.evaluate(() => (globalThis as any).arrivals as [string, number][])).map(([k, at]) => [
          k,
          at,
        ]),
      );
      const latencies = (arrivals: Map<string, number>) =>
        [...committedAt].map(([key, t0]) => (arrivals.get(key) ?? Number.NaN) - t0);
      const floorArrivals = new Map<string, number>();
      for (const e of world.events.events)
        if (e.event.type === 'run' && e.event.featureKey && !floorArrivals.has(e.event.featureKey))
          floorArrivals.set(e.event.featureKey, e.at);
      const browserRow = row('Chromium EventSource (session cookie)', latencies(browserArrivals));
      const nodeRow = row('Node SSE client (bearer token)', latencies(nodeArrivals));
      const floorRow = row('raw LISTEN on speckit_run_events', latencies(floorArrivals), 'ms', true);
      const commitRow = row('UPDATE … committed (client round trip)', commitMs, 'ms', true);
      const missing = UPDATES - browserRow.n;
      const report: BenchReport = {
        name: 'state-browser',
        title: 'state change committed → SSE event received',
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        params: {
          updates: UPDATES,
          ratePerSecond: RATE,
          clock: 'latency from before the UPDATE is sent (upper bound)',
        },
        rows: [browserRow, nodeRow, floorRow, commitRow],
        ratios: [
          ratio('browser / raw LISTEN', 'median', browserRow.median, floorRow.median),
          ratio('browser / raw LISTEN', 'p95', browserRow.p95, floorRow.p95),
        ],
        targets: [
          {
            label: 'p95 < 200 ms',
            target: '< 200 ms',
            measured: `${browserRow.p95.toFixed(1)} ms`,
            met: browserRow.p95 < 200 && missing === 0,
          },
        ],
        notes: [`events the browser missed: ${missing}`],
      };
      return report;
    } finally {
      await client.end().catch(() => {});
      await browser.close();
      await prisma.$disconnect();
      await world.close();
    }
  },
};
