// run overhead: a whole run with the stub Codex on a ~1 MB repository
// (clone, Codex, apply, commit, push, PR, reporting), webhook sent → run
// settled. Floor: the same git commands run directly. Target p50 < 1.5 s and
// ≤ 3× the git floor. One row runs the real Codex CLI against the fake model.
import { STEPS } from '../../src/chain/chain.ts';
import type { Benchmark } from '../lib/bench.ts';
import { gitFloorBreakdown } from '../lib/floors.ts';
import { runsSession, SIZES } from '../lib/runs-session.ts';
import { type BenchReport, ratio, row } from '../lib/stats.ts';

export const runOverhead: Benchmark = {
  name: 'run-overhead',
  title: 'whole run with the stub Codex on a 1 MB repository',
  async run(ctx) {
    const started = Date.now();
    const s = await runsSession(ctx);
    const appRow = row(
      'app, stub Codex',
      s.asIs.map((r) => r.totalMs),
    );
    const whatIfRow = row(
      'pacing off, stub Codex',
      s.whatIf.map((r) => r.totalMs),
    );
    const realRow = row(
      'pacing off, real Codex CLI + fake model server',
      s.realCodex.map((r) => r.totalMs),
    );
    const floorRow = row(
      `the run's git commands run directly (${s.gitFloor[0]?.commands ?? '?'} processes)`,
      s.gitFloor.map((g) => g.ms),
      'ms',
      true,
    );
    const stepRows = STEPS.map((step) =>
      row(
        `  step ${step} (as-is)`,
        s.asIs.map((r) => r.stepMs[step] ?? Number.NaN),
      ),
    );
    const whatIfSteps = STEPS.map((step) =>
      row(
        `  step ${step} (pacing off)`,
        s.whatIf.map((r) => r.stepMs[step] ?? Number.NaN),
      ),
    );
    const writes = s.asIs.map((r) => r.githubWrites);
    const requests = s.asIs.map((r) => r.githubRequests);
    const failed = [...s.asIs, ...s.whatIf, ...s.realCodex].filter((r) => r.status !== 'succeeded').length;
    const report: BenchReport = {
      name: 'run-overhead',
      title: 'whole run with the stub Codex on a 1 MB repository',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      params: {
        runs: SIZES.asIs,
        whatIfRuns: SIZES.whatIf,
        realCodexRuns: SIZES.realCodex,
        gitFloorRuns: SIZES.gitFloor,
        repositoryBytes: s.repoBytes,
        cloneUrl: 'file:// (pack transfer, like HTTPS)',
      },
      rows: [appRow, whatIfRow, realRow, floorRow, ...stepRows, ...whatIfSteps],
      ratios: [
        ratio('app / git floor', 'median', appRow.median, floorRow.median),
        ratio('pacing off / git floor', 'median', whatIfRow.median, floorRow.median),
        ratio('real Codex / stub Codex (both pacing off)', 'median', realRow.median, whatIfRow.median),
      ],
      targets: [
        {
          label: 'p50 < 1.5 s (as shipped)',
          target: '< 1500 ms',
          measured: `${appRow.median.toFixed(0)} ms (GitHub's write pace: ${row('', writes).median} writes, burst 3 then 1/s)`,
          met: appRow.median < 1500,
        },
        {
          label: 'p50 < 1.5 s (pacing off: the app alone)',
          target: '< 1500 ms',
          measured: `${whatIfRow.median.toFixed(0)} ms`,
          met: whatIfRow.median < 1500,
        },
        {
          label: '≤ 3× git floor (pacing off)',
          target: '≤ 3×',
          measured: `${(whatIfRow.median / floorRow.median).toFixed(1)}×`,
          met: whatIfRow.median <= 3 * floorRow.median,
        },
      ],
      notes: [
        `GitHub requests per run: median ${row('', requests).median}, of which writes (POST/PATCH, tokens excluded) ${row('', writes).median}`,
        `runs not succeeded: ${failed}`,
        `git floor per run by command: ${[...gitFloorBreakdown]
          .sort((a, b) => b[1].ms - a[1].ms)
          .map(
            ([kind, t]) =>
              `${kind} ${(t.count / s.gitFloor.length).toFixed(0)}× ${(t.ms / s.gitFloor.length).toFixed(0)} ms`,
          )
          .join(', ')}`,
      ],
    };
    return report;
  },
};
