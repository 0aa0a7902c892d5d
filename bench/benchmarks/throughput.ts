// throughput: 50 runs with the stub Codex started at once, 1 worker process
// vs 2 (plus the web process). Runs/min for each; target: 2 processes ≥ 1.6×
// one. The as-is app is measured over a bounded window (GitHub's write pace,
// one write per second per installation, makes 50 runs take far longer than
// the suite may); the rows with write pacing off run them all.
import type { Benchmark } from '../lib/bench.ts';
import { type BurstResult, burstRuns } from '../lib/runs.ts';
import { PACING_OFF } from '../lib/runs-session.ts';
import { type BenchReport, type Row, summarize } from '../lib/stats.ts';
import { createWorld, featureKey } from '../lib/world.ts';

/** 50 in the issue; 30 keeps the suite under 10 minutes on 2 cores. */
const RUNS = 30;
const AS_IS_WINDOW_MS = 20_000;
const WHAT_IF_CAP_MS = 90_000;

async function measure(processes: number, whatIf: boolean, capMs: number): Promise<BurstResult> {
  const world = await createWorld({ features: RUNS });
  try {
    await world.startWeb();
    for (let i = 0; i < processes; i++) await world.startWorker(whatIf ? PACING_OFF : {});
    const features = Array.from({ length: RUNS }, (_, i) => featureKey(i + 1));
    return await burstRuns(world, features, capMs);
  } finally {
    await world.close();
  }
}

function perMinute(result: BurstResult): number {
  return result.makespanMs > 0 ? (result.settled / result.makespanMs) * 60_000 : Number.NaN;
}

function throughputRow(label: string, result: BurstResult): Row {
  const value = perMinute(result);
  return { label, unit: 'runs/min', ...summarize([value]) };
}

export const throughput: Benchmark = {
  name: 'throughput',
  title: `${RUNS} runs at once, stub Codex: 1 worker process vs 2`,
  async run(ctx) {
    const started = Date.now();
    ctx.log('as-is, 1 worker process');
    const asIs1 = await measure(1, false, AS_IS_WINDOW_MS);
    ctx.log('as-is, 2 worker processes');
    const asIs2 = await measure(2, false, AS_IS_WINDOW_MS);
    ctx.log('write pacing off, 1 worker process');
    const whatIf1 = await measure(1, true, WHAT_IF_CAP_MS);
    ctx.log('write pacing off, 2 worker processes');
    const whatIf2 = await measure(2, true, WHAT_IF_CAP_MS);
    const describe = (r: BurstResult) =>
      `${r.settled}/${RUNS} settled (${r.succeeded} succeeded) in ${(r.makespanMs / 1000).toFixed(1)} s${r.finishedAll ? '' : ' (window)'}; GitHub writes ${r.githubWritesPerSecond.toFixed(2)}/s; machine CPU busy ${(r.cpuBusy * 100).toFixed(0)}%; failures ${JSON.stringify(r.failures)}`;
    const scaleAsIs = perMinute(asIs2) / perMinute(asIs1);
    const scaleWhatIf = perMinute(whatIf2) / perMinute(whatIf1);
    const report: BenchReport = {
      name: 'throughput',
      title: `${RUNS} runs at once, stub Codex: 1 worker process vs 2`,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      params: {
        runs: RUNS,
        asIsWindowMs: AS_IS_WINDOW_MS,
        concurrencyPerProcess: 'default (4)',
        webProcess: 1,
      },
      rows: [
        throughputRow('as-is, 1 worker process', asIs1),
        throughputRow('as-is, 2 worker processes', asIs2),
        throughputRow('pacing off, 1 worker process', whatIf1),
        throughputRow('pacing off, 2 worker processes', whatIf2),
        {
          label: 'as-is GitHub writes/s, 1 worker process',
          unit: 'writes/s',
          ...summarize([asIs1.githubWritesPerSecond]),
        },
        {
          label: 'as-is GitHub writes/s, 2 worker processes',
          unit: 'writes/s',
          ...summarize([asIs2.githubWritesPerSecond]),
        },
      ],
      ratios: [
        { label: 'as-is 2 processes / 1', statistic: 'runs/min', value: scaleAsIs },
        { label: 'pacing off 2 processes / 1', statistic: 'runs/min', value: scaleWhatIf },
      ],
      targets: [
        {
          label: '2 processes ≥ 1.6× one (as-is)',
          target: '≥ 1.6×',
          measured: `${scaleAsIs.toFixed(2)}×`,
          met: scaleAsIs >= 1.6,
        },
        {
          label: `all ${RUNS} runs finish (as-is, 1 process)`,
          target: `within ${AS_IS_WINDOW_MS / 1000} s`,
          measured: describe(asIs1),
          met: asIs1.finishedAll,
        },
      ],
      notes: [
        `as-is 1 process: ${describe(asIs1)}`,
        `as-is 2 processes: ${describe(asIs2)}`,
        `pacing off, 1 process: ${describe(whatIf1)}`,
        `pacing off, 2 processes: ${describe(whatIf2)}`,
      ],
      extra: { asIs1, asIs2, whatIf1, whatIf2 },
    };
    return report;
  },
};
