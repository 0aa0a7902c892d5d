// trigger → check run: a signed `/speckit run` webhook sent → the check-run
// create request reaching GitHub. Target p95 < 300 ms.
import type { Benchmark } from '../lib/bench.ts';
import { runsSession, SIZES } from '../lib/runs-session.ts';
import { type BenchReport, ratio, row, summarize } from '../lib/stats.ts';

export const triggerCheckRun: Benchmark = {
  name: 'trigger-check-run',
  title: 'webhook received → check-run create request sent',
  async run(ctx) {
    const started = Date.now();
    const s = await runsSession(ctx);
    const asIs = s.asIs.map((r) => r.checkRunMs ?? Number.NaN);
    const whatIf = s.whatIf.map((r) => r.checkRunMs ?? Number.NaN);
    const appRow = row('app (1 web + 1 worker process)', asIs);
    const whatIfRow = row('write pacing off (GITHUB_WRITE_INTERVAL_MS=0)', whatIf);
    const floorRow = row(
      'webhook → pg-boss job → same GitHub requests, unthrottled',
      s.triggerFloor,
      'ms',
      true,
    );
    const report: BenchReport = {
      name: 'trigger-check-run',
      title: 'webhook received → check-run create request sent',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      params: {
        runs: SIZES.asIs,
        whatIfRuns: SIZES.whatIf,
        floorSamples: SIZES.triggerFloor,
        gapBetweenRunsMs: 1200,
      },
      rows: [appRow, whatIfRow, floorRow],
      ratios: [
        ratio('app / floor', 'median', appRow.median, floorRow.median),
        ratio('app / floor', 'p95', appRow.p95, floorRow.p95),
        ratio('pacing off / floor', 'median', whatIfRow.median, floorRow.median),
      ],
      targets: [
        {
          label: 'p95 < 300 ms',
          target: '< 300 ms',
          measured: `${appRow.p95.toFixed(0)} ms`,
          met: appRow.p95 < 300,
        },
      ],
      notes: [
        `requests before the check-run POST: ${s.triggerRequests.join(', ')}`,
        `pacing off p95 ${summarize(whatIf).p95.toFixed(0)} ms`,
      ],
    };
    return report;
  },
};
