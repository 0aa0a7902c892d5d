// webhook ack: signed `issue_comment` deliveries at 50/s for 30 s (open loop:
// sent on schedule whatever the answers), response time of the web process.
// Floor: the same HTTP server (src/http-server.ts) answering the webhook path
// at once, in its own process. Target p99 < 50 ms.
import { randomUUID } from 'node:crypto';
import type { Benchmark } from '../lib/bench.ts';
import { sleep } from '../lib/bench.ts';
import { startProcess } from '../lib/processes.ts';
import { type BenchReport, now, ratio, row } from '../lib/stats.ts';
import { createWorld, featureKey, webhookRequest } from '../lib/world.ts';

const RATE = 50;
const APP_SECONDS = 30;
const FLOOR_SECONDS = 10;
const WARMUP = 50;

async function load(
  url: string,
  request: ReturnType<typeof webhookRequest>,
  count: number,
): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const start = now();
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / RATE - now();
    if (wait > 0) await sleep(wait);
    const sent = now();
    pending.push(
      fetch(url, { method: 'POST', headers: request.headers(randomUUID()), body: request.body })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status !== 200) failures += 1;
          latencies.push(now() - sent);
        })
        .catch(() => {
          failures += 1;
        }),
    );
  }
  await Promise.all(pending);
  return { latencies, failures };
}

export const webhookAck: Benchmark = {
  name: 'webhook-ack',
  title: 'signed issue_comment deliveries at 50/s: response time',
  async run(ctx) {
    const started = Date.now();
    const world = await createWorld({ features: 1 });
    const floor = await startProcess('floor', { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    try {
      const web = await world.startWeb();
      const request = webhookRequest({ feature: featureKey(1), cloneUrl: world.repo.url });
      ctx.log(`floor: ${FLOOR_SECONDS} s at ${RATE}/s`);
      await load(`${floor.url}/api/github/webhooks`, request, WARMUP);
      const floorResult = await load(`${floor.url}/api/github/webhooks`, request, RATE * FLOOR_SECONDS);
      ctx.log(`app: ${APP_SECONDS} s at ${RATE}/s`);
      const rssBefore = web.rssMB();
      await load(`${web.url}/api/github/webhooks`, request, WARMUP);
      const app = await load(`${web.url}/api/github/webhooks`, request, RATE * APP_SECONDS);
      const appRow = row(
        'app web process (verify, delivery row + intake job in one transaction)',
        app.latencies,
      );
      const floorRow = row('same HTTP server answering without the app', floorResult.latencies, 'ms', true);
      const report: BenchReport = {
        name: 'webhook-ack',
        title: 'signed issue_comment deliveries at 50/s: response time',
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        params: {
          ratePerSecond: RATE,
          appSeconds: APP_SECONDS,
          floorSeconds: FLOOR_SECONDS,
          warmup: WARMUP,
          payloadBytes: request.body.length,
        },
        rows: [appRow, floorRow],
        ratios: [
          ratio('app / floor', 'median', appRow.median, floorRow.median),
          ratio('app / floor', 'p99', appRow.p99, floorRow.p99),
        ],
        targets: [
          {
            label: 'p99 < 50 ms',
            target: '< 50 ms',
            measured: `${appRow.p99.toFixed(1)} ms`,
            met: appRow.p99 < 50,
          },
          {
            label: 'every delivery answered 200',
            target: '0 failures',
            measured: `${app.failures} failures`,
            met: app.failures === 0,
          },
        ],
        notes: [
          `web process RSS ${rssBefore.toFixed(0)} MB before, ${web.rssMB().toFixed(0)} MB after ${RATE * APP_SECONDS + WARMUP} deliveries`,
          'no worker process runs: the intake jobs wait in the queue, so the web process is measured alone',
        ],
      };
      return report;
    } finally {
      await floor.stop();
      await world.close();
    }
  },
};
