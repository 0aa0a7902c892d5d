// `npm run bench [name …]`: runs every benchmark (or the ones named), prints a
// table per benchmark and writes bench/results/<name>.json. Method and the
// latest figures: docs/benchmarks.md.
import { concurrency } from './benchmarks/concurrency.ts';
import { memory } from './benchmarks/memory.ts';
import { runOverhead } from './benchmarks/run-overhead.ts';
import { stateBrowser } from './benchmarks/state-browser.ts';
import { stepDispatch } from './benchmarks/step-dispatch.ts';
import { throughput } from './benchmarks/throughput.ts';
import { triggerCheckRun } from './benchmarks/trigger-check-run.ts';
import { webhookAck } from './benchmarks/webhook-ack.ts';
import type { BenchContext, Benchmark } from './lib/bench.ts';
import { formatReport, machineInfo, writeReport } from './lib/stats.ts';

const BENCHMARKS: Benchmark[] = [
  webhookAck,
  triggerCheckRun,
  stepDispatch,
  stateBrowser,
  runOverhead,
  throughput,
  concurrency,
  memory,
];

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const names = process.argv.slice(2);
const unknown = names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}
const selected = names.length > 0 ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;

const suiteStart = Date.now();
const elapsed = () => `${((Date.now() - suiteStart) / 1000).toFixed(0)} s`;
const memo = new Map<string, Promise<unknown>>();
const machine = await machineInfo(SERVER_URL);
console.log(
  `machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}, ${machine.git}`,
);

let failures = 0;
for (const benchmark of selected) {
  const ctx: BenchContext = {
    shared<T>(key: string, make: () => Promise<T>) {
      let promise = memo.get(key) as Promise<T> | undefined;
      if (!promise) {
        promise = make();
        memo.set(key, promise);
      }
      return promise;
    },
    log: (message) => console.log(`[${elapsed()}] ${benchmark.name}: ${message}`),
  };
  ctx.log('start');
  try {
    const report = await benchmark.run(ctx);
    console.log(formatReport(report));
    console.log(`  → ${await writeReport(report, machine)}\n`);
  } catch (error) {
    failures += 1;
    console.error(`${benchmark.name} failed:`, error);
  }
}
console.log(
  `suite: ${selected.length} benchmark(s) in ${elapsed()}${failures ? `, ${failures} failed` : ''}`,
);
process.exit(failures ? 1 : 0);
