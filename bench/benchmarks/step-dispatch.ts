// step dispatch: step N's transition committed → step N+1's attempt committed,
// as seen by a LISTEN connection in the benchmark process. Floor: a raw
// pg-boss 5-job chain with no-op handlers (send committed → next handler).
import type { Benchmark } from '../lib/bench.ts';
import { runsSession, SIZES } from '../lib/runs-session.ts';
import { type BenchReport, ratio, row } from '../lib/stats.ts';

export const stepDispatch: Benchmark = {
  name: 'step-dispatch',
  title: 'step N committed → step N+1 started',
  async run(ctx) {
    const started = Date.now();
    const s = await runsSession(ctx);
    const hops = s.asIs.flatMap((r) => r.hops.map((h) => h.ms));
    const whatIfHops = s.whatIf.flatMap((r) => r.hops.map((h) => h.ms));
    const appRow = row('app, every hop (LISTEN-observed commits)', hops);
    const whatIfRow = row('pacing off, every hop', whatIfHops);
    const dbRow = row('app, every hop (attempt started_at − previous finished_at)', s.dbHops);
    const floorRow = row('raw pg-boss hop (send committed → next handler)', s.chainFloor.hops, 'ms', true);
    const chainRow = row('raw pg-boss 5-job chain, whole chain', s.chainFloor.totals, 'ms', true);
    const perHop: Record<string, number[]> = {};
    for (const r of s.asIs) {
      for (const h of r.hops) {
        const key = `${h.from}→${h.to}`;
        perHop[key] = [...(perHop[key] ?? []), h.ms];
      }
    }
    const report: BenchReport = {
      name: 'step-dispatch',
      title: 'step N committed → step N+1 started',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      params: {
        runs: SIZES.asIs,
        floorChains: SIZES.chainFloor,
        pgBoss: 'LISTEN/NOTIFY, notify queues, polling 2 s, batchSize 1',
      },
      rows: [appRow, dbRow, whatIfRow, floorRow, chainRow],
      ratios: [
        ratio('app / floor hop', 'median', appRow.median, floorRow.median),
        ratio('app / floor hop', 'p95', appRow.p95, floorRow.p95),
      ],
      targets: [
        {
          label: 'p95 < 100 ms',
          target: '< 100 ms',
          measured: `${appRow.p95.toFixed(1)} ms`,
          met: appRow.p95 < 100,
        },
      ],
      notes: Object.entries(perHop).map(
        ([hop, values]) =>
          `${hop}: median ${row(hop, values).median.toFixed(1)} ms, max ${row(hop, values).max.toFixed(1)} ms`,
      ),
    };
    return report;
  },
};
