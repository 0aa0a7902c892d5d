// memory: worker process RSS idle, and while 10 runs are active at once
// (SPECKIT_CONCURRENCY=10, stub Codex thinking 10 s; Codex children are
// separate processes and not counted). Floor: a bare Node process.
// Targets: < 150 MB idle, < 300 MB busy.
import { spawn } from 'node:child_process';
import type { Benchmark } from '../lib/bench.ts';
import { sleep } from '../lib/bench.ts';
import { readRssMB } from '../lib/processes.ts';
import { burstRuns } from '../lib/runs.ts';
import { type BenchReport, ratio, row } from '../lib/stats.ts';
import { createWorld, featureKey } from '../lib/world.ts';

const RUNS = 10;
const SAMPLE_MS = 250;

export const memory: Benchmark = {
  name: 'memory',
  title: 'worker RSS idle and with 10 concurrent runs',
  async run(ctx) {
    const started = Date.now();
    const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await sleep(800);
    const bareRss = [readRssMB(bare.pid!)];
    bare.kill('SIGTERM');
    const world = await createWorld({
      features: RUNS,
      stubCodexSeconds: 10,
      env: { SPECKIT_CONCURRENCY: String(RUNS) },
    });
    try {
      await world.startWeb();
      const worker = await world.startWorker();
      ctx.log('idle');
      const idle: number[] = [];
      for (let i = 0; i < 12; i++) {
        idle.push(worker.rssMB());
        await sleep(SAMPLE_MS);
      }
      ctx.log(`${RUNS} concurrent runs`);
      const busy: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          busy.push(worker.rssMB());
          await sleep(SAMPLE_MS);
        }
      })();
      const result = await burstRuns(
        world,
        Array.from({ length: RUNS }, (_, i) => featureKey(i + 1)),
        16_000,
      );
      sampling = false;
      await sampler;
      const webRss = world.web?.rssMB() ?? Number.NaN;
      const idleRow = row('worker process, idle (after start)', idle, 'MB');
      const busyRow = row(`worker process, ${RUNS} runs active`, busy, 'MB');
      const floorRow = row('bare Node process (setInterval)', bareRss, 'MB', true);
      const report: BenchReport = {
        name: 'memory',
        title: 'worker RSS idle and with 10 concurrent runs',
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        params: { runs: RUNS, concurrency: RUNS, stubCodexSeconds: 10, sampleEveryMs: SAMPLE_MS },
        rows: [idleRow, busyRow, floorRow],
        ratios: [
          ratio('idle / bare Node', 'median', idleRow.median, floorRow.median),
          ratio('busy max / bare Node', 'max', busyRow.max, floorRow.median),
        ],
        targets: [
          {
            label: 'idle < 150 MB',
            target: '< 150 MB',
            measured: `${idleRow.max.toFixed(0)} MB`,
            met: idleRow.max < 150,
          },
          {
            label: 'busy < 300 MB',
            target: '< 300 MB',
            measured: `${busyRow.max.toFixed(0)} MB (max)`,
            met: busyRow.max < 300,
          },
        ],
        notes: [
          `web process RSS at the end: ${webRss.toFixed(0)} MB`,
          `runs settled while sampling: ${result.settled}/${RUNS}`,
        ],
      };
      return report;
    } finally {
      await world.close();
    }
  },
};
