// concurrency: 20 runs whose Codex takes 10 s, SPECKIT_CONCURRENCY=10, with
// 1 then 2 worker processes. Target: makespan ≤ 1.3× the ideal (2 batches of
// 10 s with one process, 1 batch with two).
//
// The runs belong to 20 installations (one each): one installation's runs
// would also queue for SPECKIT_INSTALLATION_CONCURRENCY Codex slots and share
// one write pace, which are limits by design, not what this measures. Each
// layout runs as shipped and with GitHub write pacing off: as shipped, every
// run also waits about 5 s for its installation's write pace (run-overhead
// shows it), which no scheduling can remove; pacing off, the makespan is the
// app's own scheduling, which the ideal describes.
import type { Benchmark } from '../lib/bench.ts';
import { type BurstResult, burstRuns } from '../lib/runs.ts';
import { PACING_OFF } from '../lib/runs-session.ts';
import { type BenchReport, type Row, summarize } from '../lib/stats.ts';
import { createWorld, featureKey } from '../lib/world.ts';

const RUNS = 20;
const CONCURRENCY = 10;
const CODEX_SECONDS = 10;
const CAP_MS = 60_000;

async function measure(processes: number, pacing: boolean): Promise<BurstResult> {
  const world = await createWorld({
    features: RUNS,
    installations: RUNS,
    stubCodexSeconds: CODEX_SECONDS,
    env: { SPECKIT_CONCURRENCY: String(CONCURRENCY), ...(pacing ? {} : PACING_OFF) },
  });
  try {
    await world.startWeb();
    for (let i = 0; i < processes; i++) await world.startWorker();
    return await burstRuns(
      world,
      Array.from({ length: RUNS }, (_, i) => featureKey(i + 1)),
      CAP_MS,
    );
  } finally {
    await world.close();
  }
}

function ideal(processes: number): number {
  return Math.ceil(RUNS / (CONCURRENCY * processes)) * CODEX_SECONDS * 1000;
}

function makespanRow(label: string, result: BurstResult): Row {
  return { label, unit: 's', ...summarize([result.makespanMs / 1000]) };
}

export const concurrency: Benchmark = {
  name: 'concurrency',
  title: '20 runs with a 10 s Codex, SPECKIT_CONCURRENCY=10: makespan',
  async run(ctx) {
    const started = Date.now();
    ctx.log('1 worker process');
    const one = await measure(1, true);
    ctx.log('2 worker processes');
    const two = await measure(2, true);
    ctx.log('1 worker process, GitHub write pacing off');
    const oneOff = await measure(1, false);
    ctx.log('2 worker processes, GitHub write pacing off');
    const twoOff = await measure(2, false);
    const describe = (r: BurstResult) =>
      `${r.settled}/${RUNS} settled (${r.succeeded} succeeded)${r.finishedAll ? '' : ` within the ${(r.makespanMs / 1000).toFixed(0)} s cap`}; machine CPU busy ${(r.cpuBusy * 100).toFixed(0)}%; settle times (s): ${r.settleOffsets.map((t) => (t / 1000).toFixed(1)).join(' ')}`;
    const ratioOf = (r: BurstResult, processes: number) => r.makespanMs / ideal(processes);
    const target = (label: string, r: BurstResult, processes: number) => ({
      label,
      target: `≤ 1.3× ${(ideal(processes) / 1000).toFixed(0)} s`,
      measured: `${r.finishedAll ? '' : '> '}${ratioOf(r, processes).toFixed(2)}× (${(r.makespanMs / 1000).toFixed(1)} s)`,
      met: r.finishedAll && ratioOf(r, processes) <= 1.3,
    });
    const layouts: [string, BurstResult, number][] = [
      ['1 process', one, 1],
      ['2 processes', two, 2],
      ['1 process, pacing off', oneOff, 1],
      ['2 processes, pacing off', twoOff, 2],
    ];
    const report: BenchReport = {
      name: 'concurrency',
      title: '20 runs with a 10 s Codex, SPECKIT_CONCURRENCY=10: makespan',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      params: {
        runs: RUNS,
        installations: RUNS,
        concurrency: CONCURRENCY,
        codexSeconds: CODEX_SECONDS,
        capMs: CAP_MS,
        githubWritePacing:
          'as shipped (burst 3, then 1/s per installation), and off (GITHUB_WRITE_INTERVAL_MS=0)',
      },
      rows: [
        makespanRow('1 worker process', one),
        makespanRow('2 worker processes', two),
        makespanRow('1 worker process, pacing off', oneOff),
        makespanRow('2 worker processes, pacing off', twoOff),
        {
          label: 'ideal, 1 process (2 batches of 10 s)',
          unit: 's',
          floor: true,
          ...summarize([ideal(1) / 1000]),
        },
        { label: 'ideal, 2 processes (1 batch)', unit: 's', floor: true, ...summarize([ideal(2) / 1000]) },
      ],
      ratios: layouts.map(([label, r, processes]) => ({
        label: `${label} / ideal`,
        statistic: 'makespan',
        value: ratioOf(r, processes),
      })),
      targets: layouts.map(([label, r, processes]) => target(`${label} ≤ 1.3× ideal`, r, processes)),
      notes: [
        `failures: ${layouts.map(([label, r]) => `${label} ${JSON.stringify(r.failures)}`).join('; ')}`,
        ...layouts.map(([label, r]) => `${label}: ${describe(r)}`),
      ],
    };
    return report;
  },
};
