// What a benchmark module exports, and the context the runner gives it.
import type { BenchReport } from './stats.ts';

export interface BenchContext {
  /** Memoizes a measurement shared by several benchmarks within one process run. */
  shared<T>(key: string, make: () => Promise<T>): Promise<T>;
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchReport>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
