// Retention: a scheduled pg-boss job that keeps disk and tables bounded.
// - artifacts older than ARTIFACT_RETENTION_DAYS: their files and rows;
// - workspaces of runs finished more than WORKSPACE_RETENTION_HOURS ago
//   (failed attempts keep theirs for inspection until then);
// - webhook_delivery rows older than WEBHOOK_DELIVERY_RETENTION_DAYS that
//   started no run (a run's delivery holds its trigger options);
// - git mirrors (MIRROR_DIR) no run used for MIRROR_IDLE_DAYS.
// Runs, their attempts and step outputs stay: they are the history.
// Workspaces and mirrors live on each worker's own disk, so besides the
// scheduled job (which one process takes) every worker process sweeps its
// WORK_DIR and MIRROR_DIR hourly.
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { MIRROR_NAME, MIRROR_USED_FILE, removeMirror } from '../git/clone-workspace.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';

export const RETENTION_QUEUE = 'speckit.retention';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BATCH = 500;
const DAY_MS = 86_400_000;
/** A mirror no run used for this long is deleted (the next run of its repository rebuilds it). */
export const MIRROR_IDLE_DAYS = 14;
/** What an interrupted mirror creation or removal leaves behind. */
const MIRROR_LEFTOVER = /\.git\.(tmp|trash)-[0-9a-f-]{36}$/;

type RetentionConfig = Pick<Config, 'artifactsDir' | 'workDir' | 'mirrorDir' | 'retention'>;

export interface RetentionDeps {
  prisma: PrismaClient;
  config: RetentionConfig;
  log?: Pick<Logger, 'info' | 'warn'>;
  metrics?: Pick<Metrics, 'retentionDeleted'>;
  now?: () => Date;
}

export interface RetentionResult {
  artifacts: number;
  artifactFiles: number;
  workspaces: number;
  mirrors: number;
  webhookDeliveries: number;
}

/** One full pass: artifacts, workspaces, mirrors, webhook deliveries. */
export async function runRetention(deps: RetentionDeps): Promise<RetentionResult> {
  const artifacts = await deleteOldArtifacts(deps);
  const workspaces = await deleteFinishedWorkspaces(deps);
  const mirrors = await deleteUnusedMirrors(deps);
  const webhookDeliveries = await deleteOldDeliveries(deps);
  const result = { ...artifacts, workspaces, mirrors, webhookDeliveries };
  deps.log?.info({ retention: result }, 'retention pass done');
  return result;
}

function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

export async function deleteOldArtifacts(
  deps: RetentionDeps,
): Promise<{ artifacts: number; artifactFiles: number }> {
  const { prisma, config } = deps;
  const now = deps.now?.() ?? new Date();
  const cutoff = new Date(now.getTime() - config.retention.artifactDays * DAY_MS);
  const root = config.artifactsDir;
  let artifacts = 0;
  let artifactFiles = 0;
  const dirs = new Set<string>();
  for (;;) {
    const batch = await prisma.workflowArtifact.findMany({
      where: { createdAt: { lt: cutoff } },
      select: { id: true, path: true },
      take: BATCH,
    });
    if (batch.length === 0) break;
    for (const artifact of batch) {
      const file = path.resolve(root, artifact.path);
      if (!isInside(root, file)) continue;
      try {
        await rm(file, { recursive: true, force: false });
        artifactFiles += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      // <run>/<step>-<attempt>/file: both directories may now be empty.
      for (let dir = path.dirname(file); isInside(root, dir); dir = path.dirname(dir)) dirs.add(dir);
    }
    const { count } = await prisma.workflowArtifact.deleteMany({
      where: { id: { in: batch.map((artifact) => artifact.id) } },
    });
    artifacts += count;
  }
  // Deepest first; rmdir refuses non-empty directories (newer attempts' files).
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(dir).catch(() => {});
  deps.metrics?.retentionDeleted('artifact', artifacts);
  deps.metrics?.retentionDeleted('artifact_file', artifactFiles);
  return { artifacts, artifactFiles };
}

/**
 * WORK_DIR/<run id>/ of runs finished before the cutoff. A directory whose run
 * is unknown (a dropped database, a foreign file) goes once it is older than
 * the cutoff; anything not named like a run id is left alone.
 */
export async function deleteFinishedWorkspaces(deps: RetentionDeps): Promise<number> {
  const { prisma, config } = deps;
  const now = deps.now?.() ?? new Date();
  const cutoff = new Date(now.getTime() - config.retention.workspaceHours * 3_600_000);
  let names: string[];
  try {
    names = (await readdir(config.workDir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && UUID.test(entry.name))
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  if (names.length === 0) return 0;
  const runs = await prisma.specWorkflowRun.findMany({
    where: { id: { in: names } },
    select: { id: true, finishedAt: true },
  });
  const byId = new Map(runs.map((run) => [run.id, run.finishedAt]));
  let removed = 0;
  for (const name of names) {
    const dir = path.join(config.workDir, name);
    let expired: boolean;
    if (byId.has(name)) {
      const finishedAt = byId.get(name);
      expired = finishedAt != null && finishedAt < cutoff;
    } else {
      const info = await stat(dir).catch(() => null);
      expired = info !== null && info.mtime < cutoff;
    }
    if (!expired) continue;
    await rm(dir, { recursive: true, force: true });
    removed += 1;
  }
  deps.metrics?.retentionDeleted('workspace', removed);
  return removed;
}

/**
 * MIRROR_DIR/<mirror>.git that no run used (cloned a workspace from) for
 * MIRROR_IDLE_DAYS, and leftovers of interrupted creations or removals older
 * than a day. Anything else in MIRROR_DIR is left alone.
 */
export async function deleteUnusedMirrors(
  deps: { config: Pick<Config, 'mirrorDir'> } & Pick<RetentionDeps, 'now' | 'log' | 'metrics'>,
): Promise<number> {
  const root = deps.config.mirrorDir;
  const now = (deps.now?.() ?? new Date()).getTime();
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    const dir = path.join(root, name);
    if (MIRROR_NAME.test(name)) {
      const used = (await stat(path.join(dir, MIRROR_USED_FILE)).catch(() => null)) ?? (await stat(dir));
      if (used.mtimeMs >= now - MIRROR_IDLE_DAYS * DAY_MS) continue;
      await removeMirror(dir);
    } else if (MIRROR_LEFTOVER.test(name)) {
      const info = await stat(dir);
      if (info.mtimeMs >= now - DAY_MS) continue;
      await rm(dir, { recursive: true, force: true });
    } else continue;
    removed += 1;
  }
  if (removed > 0) deps.log?.info({ mirrors: removed }, 'removed unused git mirrors');
  deps.metrics?.retentionDeleted('mirror', removed);
  return removed;
}

/**
 * webhook_delivery rows older than the cutoff that no run was started from.
 * A run's delivery holds its trigger options (--draft, --cloud, --all, a
 * labelled PR's branch: runTriggerOptions), which a retry of a failed run and
 * the check run's Re-run / Next phase / Run all buttons read again however late
 * they come, so it stays as long as its run (runs always stay; the rows are
 * small). What goes: deliveries that started nothing — plan, status and help
 * commands, refused triggers, the app's own comments, redelivery guards.
 */
export async function deleteOldDeliveries(deps: RetentionDeps): Promise<number> {
  const now = deps.now?.() ?? new Date();
  const cutoff = new Date(now.getTime() - deps.config.retention.deliveryDays * DAY_MS);
  const count = await deps.prisma.$executeRaw`
    DELETE FROM webhook_delivery d
     WHERE d.received_at < ${cutoff}
       AND NOT EXISTS (SELECT 1 FROM spec_workflow_run r WHERE r.trigger_delivery_id = d.id)`;
  deps.metrics?.retentionDeleted('webhook_delivery', count);
  return count;
}

export interface RetentionService {
  stop(): void;
}

/**
 * Creates the retention queue, schedules it (pg-boss keeps one schedule per
 * queue, so every process calling this is fine), works it, and sweeps this
 * machine's workspaces and mirrors every hour.
 */
export async function startRetention(
  boss: PgBoss,
  deps: RetentionDeps & { config: RetentionConfig },
): Promise<RetentionService> {
  const queue = { notify: true, retryLimit: 2, retryDelay: 60, expireInSeconds: 3600 };
  if (await boss.getQueue(RETENTION_QUEUE)) await boss.updateQueue(RETENTION_QUEUE, queue);
  else await boss.createQueue(RETENTION_QUEUE, queue);
  await boss.schedule(RETENTION_QUEUE, deps.config.retention.cron, null, { tz: 'UTC' });
  await boss.work(
    RETENTION_QUEUE,
    { batchSize: 1, pollingIntervalSeconds: 30, notifyPollingIntervalSeconds: 30 },
    async () => {
      await runRetention(deps);
    },
  );
  const sweep = () => {
    void deleteFinishedWorkspaces(deps).catch((error: unknown) =>
      deps.log?.warn({ err: error }, 'workspace sweep failed'),
    );
    void deleteUnusedMirrors(deps).catch((error: unknown) =>
      deps.log?.warn({ err: error }, 'mirror sweep failed'),
    );
  };
  const timer = setInterval(sweep, 3_600_000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
