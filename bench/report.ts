// Prints the latest bench/results/*.json as Markdown (tables, ratios, targets)
// for docs/benchmarks.md: `node bench/report.ts`.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type BenchReport, markdownTable, RESULTS_DIR } from './lib/stats.ts';

const ORDER = [
  'webhook-ack',
  'trigger-check-run',
  'step-dispatch',
  'state-browser',
  'run-overhead',
  'throughput',
  'concurrency',
  'memory',
];
const files = (await readdir(RESULTS_DIR)).filter((f) => f.endsWith('.json'));
const reports = await Promise.all(
  files.map(async (f) => JSON.parse(await readFile(path.join(RESULTS_DIR, f), 'utf8')) as BenchReport),
);
reports.sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));
for (const report of reports) {
  console.log(`### ${report.name} — ${report.title}\n`);
  console.log(`${markdownTable(report)}\n`);
  for (const r of report.ratios)
    console.log(
      `- ratio ${r.label} (${r.statistic}): **${typeof r.value === 'number' ? r.value.toFixed(2) : '–'}×**`,
    );
  for (const t of report.targets)
    console.log(`- target ${t.label}: ${t.met ? '**met**' : '**missed**'} (measured ${t.measured})`);
  for (const note of report.notes) console.log(`- ${note}`);
  console.log(`- measured ${report.startedAt}, ${(report.durationMs / 1000).toFixed(0)} s\n`);
}
