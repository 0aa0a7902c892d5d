// Summaries, tables and result files shared by every benchmark.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution (comparable across processes). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  return {
    n,
    median:
      n === 0 ? Number.NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2,
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    min: n === 0 ? Number.NaN : sorted[0]!,
    max: n === 0 ? Number.NaN : sorted[n - 1]!,
    mean: n === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / n,
  };
}

export interface Row extends Summary {
  label: string;
  unit: string;
  /** A floor row is what the platform itself costs (the denominator of the ratios). */
  floor?: boolean;
}

export interface Ratio {
  label: string;
  /** e.g. "median", "p95" */
  statistic: string;
  value: number;
}

export interface Target {
  label: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  name: string;
  title: string;
  startedAt: string;
  durationMs: number;
  params: Record<string, unknown>;
  rows: Row[];
  ratios: Ratio[];
  targets: Target[];
  notes: string[];
  /** Anything else worth keeping (breakdowns, raw counts). */
  extra?: Record<string, unknown>;
}

export function row(label: string, values: readonly number[], unit = 'ms', floor = false): Row {
  return { label, unit, ...summarize(values), ...(floor ? { floor: true } : {}) };
}

export function ratio(label: string, statistic: string, value: number, floor: number): Ratio {
  return { label, statistic, value: floor > 0 ? value / floor : Number.NaN };
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  if (unit === 'MB' || unit === 'runs/min' || unit === 's' || unit === '×') return value.toFixed(1);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** The report as plain-text tables (what the console shows). */
export function formatReport(report: BenchReport): string {
  const header = ['', 'unit', 'median', 'p95', 'p99', 'min', 'max', 'n'];
  const lines = report.rows.map((r) => [
    `${r.floor ? '[floor] ' : ''}${r.label}`,
    r.unit,
    fmt(r.median, r.unit),
    fmt(r.p95, r.unit),
    fmt(r.p99, r.unit),
    fmt(r.min, r.unit),
    fmt(r.max, r.unit),
    String(r.n),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const out: string[] = [`== ${report.name}: ${report.title} (${(report.durationMs / 1000).toFixed(1)} s)`];
  out.push(header.map((h, i) => pad(h, widths[i]!, i > 1)).join('  '));
  for (const l of lines) out.push(l.map((c, i) => pad(c, widths[i]!, i > 1)).join('  '));
  for (const r of report.ratios) out.push(`  ratio ${r.label} (${r.statistic}): ${fmt(r.value, '×')}×`);
  for (const t of report.targets)
    out.push(`  target ${t.met ? 'MET   ' : 'MISSED'} ${t.label}: ${t.target}; measured ${t.measured}`);
  for (const note of report.notes) out.push(`  note: ${note}`);
  return out.join('\n');
}

/** The report as a Markdown table (for docs/benchmarks.md). */
export function markdownTable(report: BenchReport): string {
  const out = ['| | unit | median | p95 | p99 | min | max | n |', '|---|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of report.rows) {
    out.push(
      `| ${r.floor ? '**floor** ' : ''}${r.label} | ${r.unit} | ${fmt(r.median, r.unit)} | ${fmt(r.p95, r.unit)} | ${fmt(r.p99, r.unit)} | ${fmt(r.min, r.unit)} | ${fmt(r.max, r.unit)} | ${r.n} |`,
    );
  }
  return out.join('\n');
}

export async function writeReport(report: BenchReport, machine: Machine): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${report.name}.json`);
  await writeFile(file, `${JSON.stringify({ ...report, machine }, null, 2)}\n`);
  return file;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  git: string;
  os: string;
}

export async function machineInfo(databaseUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let postgres = 'unknown';
  try {
    postgres = String((await client.query('SHOW server_version')).rows[0]?.server_version ?? 'unknown');
  } finally {
    await client.end();
  }
  let git = 'unknown';
  try {
    git = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim();
  } catch {}
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres,
    git,
    os: `${os.type()} ${os.release()}`,
  };
}
