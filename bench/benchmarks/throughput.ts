// throughput: 50 runs with the stub Codex started at once, 1 worker process
// vs 2 (plus the web process). Runs/min for each; target: 2 processes ≥ 1.6×
// one where the CPU allows.
//
// GitHub paces writes per installation (about one a second, shared by every
// process: src/github/write-pacing.ts), so 50 runs of ONE installation take
// ≥ 50 × the run's writes seconds however many workers there are — that is
// GitHub's allowance, not the app's capacity. The main rows therefore spread
// the runs over 50 installations (one run each); a bounded window on one
// installation shows that its write pace stays one a second with 1 and with
// 2 processes.
import type { Benchmark } from '../lib/bench.ts';
import { type BurstResult, burstRuns } from '../lib/runs.ts';
import { type BenchReport, type Row, summarize } from '../lib/stats.ts';
import { createWorld, featureKey } from '../lib/world.ts';

const RUNS = 50;
const CAP_MS = 150_000;
const ONE_INSTALLATION_RUNS = 20;
const ONE_INSTALLATION_WINDOW_MS = 20_000;

async function measure(
  processes: number,
  options: { runs: number; installations: number; capMs: number },
): Promise<BurstResult> {
  const world = await createWorld({ features: options.runs, installations: options.installations });
  try {
    await world.startWeb();
    for (let i = 0; i < processes; i++) await world.startWorker();
    const features = Array.from({ length: options.runs }, (_, i) => featureKey(i + 1));
    return await burstRuns(world, features, options.capMs);
  } finally {
    await world.close();
  }
}

function perMinute(result: BurstResult): number {
  return result.makespanMs > 0 ? (result.settled / result.makespanMs) * 60_000 : Number.NaN;
}

function throughputRow(label: string, result: BurstResult): Row {
  return { label, unit: 'runs/min', ...summarize([perMinute(result)]) };
}

export const throughput: Benchmark = {
  name: 'throughput',
  title: `${RUNS} runs at once, stub Codex: 1 worker process vs 2`,
  async run(ctx) {
    const started = Date.now();
    const spread = { runs: RUNS, installations: RUNS, capMs: CAP_MS };
    ctx.log(`${RUNS} installations, 1 worker process`);
    const one = await measure(1, spread);
    ctx.log(`${RUNS} installations, 2 worker processes`);
    const two = await measure(2, spread);
    const single = { runs: ONE_INSTALLATION_RUNS, installations: 1, capMs: ONE_INSTALLATION_WINDOW_MS };
    ctx.log('one installation, 1 worker process (window)');
    const single1 = await measure(1, single);
    ctx.log('one installation, 2 worker processes (window)');
    const single2 = await measure(2, single);
    const describe = (r: BurstResult, runs: number) =>
      `${r.settled}/${runs} settled (${r.succeeded} succeeded) in ${(r.makespanMs / 1000).toFixed(1)} s${r.finishedAll ? '' : ' (window)'}; GitHub writes ${r.githubWritesPerSecond.toFixed(2)}/s; machine CPU busy ${(r.cpuBusy * 100).toFixed(0)}%; failures ${JSON.stringify(r.failures)}`;
    const scale = perMinute(two) / perMinute(one);
    const report: BenchReport = {
      name: 'throughput',
      title: `${RUNS} runs at once, stub Codex: 1 worker process vs 2`,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      params: {
        runs: RUNS,
        installations: RUNS,
        concurrencyPerProcess: 'default (4)',
        webProcess: 1,
        oneInstallationRuns: ONE_INSTALLATION_RUNS,
        oneInstallationWindowMs: ONE_INSTALLATION_WINDOW_MS,
      },
      rows: [
        throughputRow(`${RUNS} installations, 1 worker process`, one),
        throughputRow(`${RUNS} installations, 2 worker processes`, two),
        {
          label: 'one installation, GitHub writes/s, 1 worker process',
          unit: 'writes/s',
          ...summarize([single1.githubWritesPerSecond]),
        },
        {
          label: 'one installation, GitHub writes/s, 2 worker processes',
          unit: 'writes/s',
          ...summarize([single2.githubWritesPerSecond]),
        },
      ],
      ratios: [{ label: '2 processes / 1', statistic: 'runs/min', value: scale }],
      targets: [
        {
          label: '2 processes ≥ 1.6× one',
          target: '≥ 1.6×',
          measured: `${scale.toFixed(2)}× (machine CPU busy ${(one.cpuBusy * 100).toFixed(0)}% with 1 process, ${(two.cpuBusy * 100).toFixed(0)}% with 2)`,
          met: scale >= 1.6 && one.finishedAll && two.finishedAll,
        },
        {
          label: 'one installation keeps GitHub’s pace with 2 processes',
          target: '≤ 1 write/s + the burst',
          measured: `${single2.githubWritesPerSecond.toFixed(2)} writes/s over ${(single2.makespanMs / 1000).toFixed(0)} s`,
          met: single2.githubWritesPerSecond <= 1 + 3000 / single2.makespanMs + 0.05,
        },
      ],
      notes: [
        `${RUNS} installations, 1 process: ${describe(one, RUNS)}`,
        `${RUNS} installations, 2 processes: ${describe(two, RUNS)}`,
        `one installation, 1 process: ${describe(single1, ONE_INSTALLATION_RUNS)}`,
        `one installation, 2 processes: ${describe(single2, ONE_INSTALLATION_RUNS)}`,
      ],
      extra: { one, two, single1, single2 },
    };
    return report;
  },
};
