// Prometheus metrics (prom-client): one registry per app instance (tests start
// several apps in one process), a small recording API for the code that knows
// what happened, and collectors that read the database at scrape time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PgBoss } from 'pg-boss';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PrismaClient } from '../db/prisma.ts';

/** Every metric speckit-bot defines (besides prom-client's process_* and nodejs_* defaults). */
export const METRIC_NAMES = {
  runsFinished: 'speckit_runs_finished_total',
  runs: 'speckit_runs',
  stepDuration: 'speckit_step_duration_seconds',
  queueJobs: 'speckit_queue_jobs',
  queueOldestAge: 'speckit_queue_oldest_job_age_seconds',
  codexTokens: 'speckit_codex_tokens_total',
  githubRequests: 'speckit_github_requests_total',
  githubErrors: 'speckit_github_request_errors_total',
  webhookLatency: 'speckit_webhook_latency_seconds',
  retentionDeleted: 'speckit_retention_deleted_total',
  scrapeErrors: 'speckit_metrics_collect_errors_total',
} as const;

export interface CodexTokenUsage {
  input?: number;
  cachedInput?: number;
  output?: number;
  reasoning?: number;
}

/** What the scrape-time collectors read (web processes pass it; workers need not). */
export interface MetricsSources {
  boss: Pick<PgBoss, 'getQueues' | 'getDb'>;
  prisma: Pick<PrismaClient, '$queryRaw'>;
  /** pg-boss's schema (default `pgboss`). */
  bossSchema?: string;
}

export interface Metrics {
  readonly registry: Registry;
  /** A run settled: status `succeeded|failed|cancelled`, conclusion the check-run word. */
  runFinished(status: string, conclusion: string | null): void;
  /** One step attempt took `seconds`; outcome `succeeded|failed|cancelled|superseded`. */
  stepDuration(step: string, seconds: number, outcome?: string): void;
  /** One GitHub REST call: `route` like `GET /repos/{owner}/{repo}`, status the HTTP status (0: no answer). */
  githubCall(route: string, status: number): void;
  /** One webhook answered after `seconds` with HTTP `status`. */
  webhookLatency(seconds: number, status?: number): void;
  /** Tokens one Codex turn used (from turn.completed usage). */
  codexTokens(usage: CodexTokenUsage): void;
  /** Rows or files the retention job deleted, by kind. */
  retentionDeleted(
    kind: 'artifact' | 'artifact_file' | 'workspace' | 'mirror' | 'webhook_delivery',
    count: number,
  ): void;
  /** Reads runs and queues from the database at every scrape (call once, in web processes). */
  collectFrom(sources: MetricsSources): void;
  /** The Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];
const WEBHOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUEUE_STATES = ['queued', 'ready', 'deferred', 'active', 'failed'] as const;

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  let sources: MetricsSources | null = null;

  const runsFinished = new Counter({
    name: METRIC_NAMES.runsFinished,
    help: 'Runs settled by this process, by status and check-run conclusion',
    labelNames: ['status', 'conclusion'],
    registers: [registry],
  });
  const scrapeErrors = new Counter({
    name: METRIC_NAMES.scrapeErrors,
    help: 'Scrape-time collectors that could not read the database',
    labelNames: ['collector'],
    registers: [registry],
  });
  new Gauge({
    name: METRIC_NAMES.runs,
    help: 'Runs stored in the database, by status and conclusion (read at scrape time)',
    labelNames: ['status', 'conclusion'],
    registers: [registry],
    async collect() {
      if (!sources) return;
      try {
        const rows = await sources.prisma.$queryRaw<{ status: string; conclusion: string; count: bigint }[]>`
          SELECT status, coalesce(conclusion, '') AS conclusion, count(*) AS count
            FROM spec_workflow_run GROUP BY 1, 2`;
        this.reset();
        for (const row of rows)
          this.set({ status: row.status, conclusion: row.conclusion }, Number(row.count));
      } catch {
        scrapeErrors.inc({ collector: 'runs' });
      }
    },
  });
  new Gauge({
    name: METRIC_NAMES.queueJobs,
    help: 'Jobs per pg-boss queue and state (pg-boss counts, refreshed by its monitor pass)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      if (!sources) return;
      try {
        const queues = await sources.boss.getQueues();
        this.reset();
        for (const queue of queues) {
          if (!queue.name.startsWith('speckit.')) continue;
          const counts: Record<(typeof QUEUE_STATES)[number], number> = {
            queued: queue.queuedCount,
            ready: queue.readyCount,
            deferred: queue.deferredCount,
            active: queue.activeCount,
            failed: queue.failedCount,
          };
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      } catch {
        scrapeErrors.inc({ collector: 'queues' });
      }
    },
  });
  new Gauge({
    name: METRIC_NAMES.queueOldestAge,
    help: 'Age in seconds of the oldest job ready to run, per queue (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      if (!sources) return;
      const schema = sources.bossSchema ?? 'pgboss';
      if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) return;
      try {
        const queues = await sources.boss.getQueues();
        const { rows } = await sources.boss.getDb().executeSql(
          `SELECT name, extract(epoch FROM now() - min(created_on))::float8 AS age
             FROM ${schema}.job
            WHERE state < 'active' AND start_after <= now() AND name LIKE 'speckit.%'
            GROUP BY name`,
        );
        this.reset();
        for (const queue of queues) if (queue.name.startsWith('speckit.')) this.set({ queue: queue.name }, 0);
        for (const row of rows as { name: string; age: number }[])
          this.set({ queue: row.name }, Math.max(0, row.age));
      } catch {
        scrapeErrors.inc({ collector: 'queue_age' });
      }
    },
  });
  const stepDuration = new Histogram({
    name: METRIC_NAMES.stepDuration,
    help: 'Duration of step attempts in seconds, by step and outcome',
    labelNames: ['step', 'outcome'],
    buckets: STEP_BUCKETS,
    registers: [registry],
  });
  const codexTokens = new Counter({
    name: METRIC_NAMES.codexTokens,
    help: 'Tokens used by Codex, by type (input, cached_input, output, reasoning)',
    labelNames: ['type'],
    registers: [registry],
  });
  const githubRequests = new Counter({
    name: METRIC_NAMES.githubRequests,
    help: 'GitHub REST calls, by route and HTTP status (0: no answer)',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const githubErrors = new Counter({
    name: METRIC_NAMES.githubErrors,
    help: 'GitHub REST calls that failed (status >= 400 or no answer), by route and status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const webhookLatency = new Histogram({
    name: METRIC_NAMES.webhookLatency,
    help: 'Time to answer a GitHub webhook in seconds, by HTTP status',
    labelNames: ['status'],
    buckets: WEBHOOK_BUCKETS,
    registers: [registry],
  });
  const retention = new Counter({
    name: METRIC_NAMES.retentionDeleted,
    help: 'Items deleted by the retention job, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });

  return {
    registry,
    runFinished(status, conclusion) {
      runsFinished.inc({ status, conclusion: conclusion ?? '' });
    },
    stepDuration(step, seconds, outcome = 'succeeded') {
      stepDuration.observe({ step, outcome }, Math.max(0, seconds));
    },
    githubCall(route, status) {
      const labels = { route, status: String(status) };
      githubRequests.inc(labels);
      if (status === 0 || status >= 400) githubErrors.inc(labels);
    },
    webhookLatency(seconds, status = 200) {
      webhookLatency.observe({ status: String(status) }, Math.max(0, seconds));
    },
    codexTokens(usage) {
      const types = {
        input: usage.input,
        cached_input: usage.cachedInput,
        output: usage.output,
        reasoning: usage.reasoning,
      };
      for (const [type, count] of Object.entries(types)) {
        if (count && count > 0) codexTokens.inc({ type }, count);
      }
    },
    retentionDeleted(kind, count) {
      if (count > 0) retention.inc({ kind }, count);
    },
    collectFrom(next) {
      sources = next;
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** GET /metrics. */
export async function handleMetrics(
  metrics: Metrics,
  _req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { contentType, body } = await metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
