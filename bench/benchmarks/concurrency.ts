// concurrency: 20 runs whose Codex takes 10 s, SPECKIT_CONCURRENCY=10, with
// 1 then 2 worker processes. Target: makespan ≤ 1.3× the ideal (2 batches of
// 10 s with one process, 1 batch with two).
import type { Benchmark } from '../lib/bench.ts';
import { type BurstResult, burstRuns } from '../lib/runs.ts';
import { PACING_OFF } from '../lib/runs-session.ts';
import { type BenchReport, type Row, summarize } from '../lib/stats.ts';
import { createWorld, featureKey } from '../lib/world.ts';

const RUNS = 20;
const CONCURRENCY = 10;
const CODEX_SECONDS = 10;
/** GitHub writes of one run, measured by run-overhead (each ≥ 1 s apart per installation and process). */
const AS_IS_WRITES_PER_RUN = 17;
const WHAT_IF_CAP_MS = 45_000;

async function measure(processes: number, whatIf: boolean, capMs: number): Promise<BurstResult> {
  const world = await createWorld({
    features: RUNS,
    stubCodexSeconds: CODEX_SECONDS,
    env: { SPECKIT_CONCURRENCY: String(CONCURRENCY) },
  });
  try {
    await world.startWeb();
    for (let i = 0; i < processes; i++) await world.startWorker(whatIf ? PACING_OFF : {});
    return await burstRuns(
      world,
      Array.from({ length: RUNS }, (_, i) => featureKey(i + 1)),
      capMs,
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
    ctx.log('write pacing off, 1 worker process');
    const whatIf1 = await measure(1, true, WHAT_IF_CAP_MS);
    ctx.log('write pacing off, 2 worker processes');
    const whatIf2 = await measure(2, true, WHAT_IF_CAP_MS);
    const describe = (r: BurstResult) =>
      `${r.settled}/${RUNS} settled (${r.succeeded} succeeded)${r.finishedAll ? '' : ` within the ${(r.makespanMs / 1000).toFixed(0)} s cap`}; settle times (s): ${r.settleOffsets.map((t) => (t / 1000).toFixed(1)).join(' ')}`;
    const ratioOf = (r: BurstResult, processes: number) => r.makespanMs / ideal(processes);
    const target = (label: string, r: BurstResult, processes: number) => ({
      label,
      target: `≤ 1.3× ${(ideal(processes) / 1000).toFixed(0)} s`,
      measured: `${r.finishedAll ? '' : '> '}${ratioOf(r, processes).toFixed(2)}× (${(r.makespanMs / 1000).toFixed(1)} s)`,
      met: r.finishedAll && ratioOf(r, processes) <= 1.3,
    });
    const report: BenchReport = {
      name: 'concurrency',
      title: '20 runs with a 10 s Codex, SPECKIT_CONCURRENCY=10: makespan',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      params: {
        runs: RUNS,
        concurrency: CONCURRENCY,
        codexSeconds: CODEX_SECONDS,
        whatIfCapMs: WHAT_IF_CAP_MS,
      },
      rows: [
        makespanRow('pacing off, 1 worker process', whatIf1),
        makespanRow('pacing off, 2 worker processes', whatIf2),
        {
          label: 'ideal, 1 process (2 batches of 10 s)',
          unit: 's',
          floor: true,
          ...summarize([ideal(1) / 1000]),
        },
        { label: 'ideal, 2 processes (1 batch)', unit: 's', floor: true, ...summarize([ideal(2) / 1000]) },
      ],
      ratios: [
        { label: 'pacing off 1 process / ideal', statistic: 'makespan', value: ratioOf(whatIf1, 1) },
        { label: 'pacing off 2 processes / ideal', statistic: 'makespan', value: ratioOf(whatIf2, 2) },
      ],
      targets: [
        target('1 process ≤ 1.3× ideal (pacing off)', whatIf1, 1),
        target('2 processes ≤ 1.3× ideal (pacing off)', whatIf2, 2),
        {
          label: 'as-is (default write pacing)',
          target: '≤ 1.3× ideal',
          measured: `not run: ≥ ${AS_IS_WRITES_PER_RUN} spaced writes per run ⇒ ≥ ${((RUNS * AS_IS_WRITES_PER_RUN) / 60).toFixed(1)} min (1 process), see throughput`,
          met: false,
        },
      ],
      notes: [
        `failures: pacing off, 1 process ${JSON.stringify(whatIf1.failures)}; 2 processes ${JSON.stringify(whatIf2.failures)}`,
        `pacing off, 1 process: ${describe(whatIf1)}`,
        `pacing off, 2 processes: ${describe(whatIf2)}`,
      ],
    };
    return report;
  },
};
