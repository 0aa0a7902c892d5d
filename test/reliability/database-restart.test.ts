// PostgreSQL restarts in the middle of a run (a throwaway cluster of this
// test's own, so other tests are not disturbed): the app reconnects without
// crashing and the run still ends, settled, with its attempts recorded.
// Afterwards the LISTEN connections work again — a cancel reaches the worker
// and stops Codex within seconds, live events reach an SSE client — and
// nothing was thrown uncaught.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openSse } from '../api/support/sse-client.ts';
import { DEMO_FILES, DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  delayed,
  type FakeModelServer,
  finalMessage,
  hang,
  isToolFollowUp,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';
import { findProcesses } from '../support/worker-process.ts';

const INSTALLATION_ID = 88;
const PORT = 54_391;
const DOWN_MS = 3_000;
const API_TOKEN = 'db-restart-api-token-0123456789';
const API = '/api/workflows/speckit';

let dataDir: string;
let cluster: EmbeddedDatabase;
let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;
let modelAsked!: () => void;
const asked = new Promise<void>((resolve) => {
  modelAsked = resolve;
});
/** After the restart, Codex hangs (until it is cancelled). */
let hangCodex = false;
const logLines: string[] = [];
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => void uncaught.push(error);

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'speckit-pg-restart-'));
  // As root, the cluster runs as the `postgres` user, which must reach the data dir.
  await chmod(dataDir, 0o755);
  cluster = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: PORT });
  await migrate(cluster.url);
  model = await startFakeModelServer(({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Done.');
    if (hangCodex) return hang();
    modelAsked();
    return delayed(4_000, applyPatchCall(PHASE_1_PATCH));
  });
  repo = await createBareRepo({
    files: { ...DEMO_FILES, 'specs/002-after/tasks.md': DEMO_TASKS },
    branch: 'master',
  });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({
    modelUrl: model.url,
    databaseUrl: cluster.url,
    logLines,
    env: { SPECKIT_API_TOKEN: API_TOKEN },
  });
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
}, 120_000);

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await harness?.stop().catch(() => {});
  github?.done();
  await model?.close();
  await cluster?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await removeTempDirs();
}, 60_000);

describe('a PostgreSQL restart during a run', () => {
  it('is survived: the process keeps running and the run is settled', async () => {
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      payload: commentPayload({
        body: '/speckit run 001-demo',
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    await asked; // Codex is running: restart the database under it.
    const stoppedAt = Date.now();
    await cluster.stop();
    // Down for a few seconds, as a real restart or failover is: longer than
    // any single reconnection attempt.
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    cluster = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: PORT });
    const downMs = Date.now() - stoppedAt;

    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst().catch(() => null);
      return found && ['succeeded', 'failed'].includes(found.status) ? found : null;
    }, 120_000);
    console.log(
      `injected: PostgreSQL down for ${downMs} ms while Codex ran; observed: run ${run.status} ` +
        `(${run.errorStep ?? '-'}: ${run.errorMessage ?? '-'})`,
    );
    expect(['succeeded', 'failed']).toContain(run.status);
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id },
      orderBy: { id: 'asc' },
    });
    console.log(attempts.map((a) => `${a.taskName}#${a.attempt}:${a.status}`).join(' '));
    expect(attempts.every((a) => a.status !== 'running')).toBe(true);
    expect(run.status).toBe('succeeded');
    const checkRun = [...github.checkRuns.values()].find((c) => c.external_id === run.id);
    expect(checkRun?.status).toBe('completed');
    // The app still answers: its pools reconnected.
    const health = await fetch(`${harness.app.url}/healthz`);
    expect(health.status).toBe(200);
  }, 180_000);

  /** The run started after the restart, hanging in Codex. */
  let afterRestart: { id: string };
  let events: Awaited<ReturnType<typeof openSse>>;
  const runEvent = (runId: string, match: Record<string, string>) => (m: { event: string; data: string }) => {
    if (m.event !== 'run') return false;
    const data = JSON.parse(m.data) as Record<string, string>;
    return data.runId === runId && Object.entries(match).every(([key, value]) => data[key] === value);
  };

  it('leaves live events flowing (LISTEN reconnected), with nothing thrown uncaught', async () => {
    hangCodex = true;
    events = await openSse(`${harness.app.url}${API}/events`, { authorization: `Bearer ${API_TOKEN}` });
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'after-restart-run',
      payload: commentPayload({
        body: '/speckit run 002-after',
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    afterRestart = await waitFor(
      () =>
        harness.prisma.specWorkflowRun.findFirst({
          where: { featureKey: '002-after', status: 'running', currentStep: 'codex' },
        }),
      60_000,
    );
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length > 0, 30_000);
    // The run's changes reached the SSE client through the events LISTEN connection.
    await events.next(runEvent(afterRestart.id, { currentStep: 'codex' }), 10_000);
    const seen = events.messages.filter(runEvent(afterRestart.id, {})).length;
    console.log(
      `injected: a run started after a ${DOWN_MS} ms PostgreSQL outage; observed: ${seen} of its run events on SSE, ` +
        'the move to codex among them',
    );

    // Nothing was thrown uncaught, and the logs hold no crash.
    const levels = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
    const byMessage = new Map<string, number>();
    for (const { level, msg } of levels) {
      if (level < 40) continue;
      const key = `${level >= 50 ? 'error' : 'warn'}: ${msg}`;
      byMessage.set(key, (byMessage.get(key) ?? 0) + 1);
    }
    console.log(
      `injected: a PostgreSQL restart; observed: ${logLines.length} log lines, ${uncaught.length} uncaught errors; ` +
        `warnings and errors: ${[...byMessage].map(([msg, count]) => `${count} × ${msg}`).join('; ') || 'none'}`,
    );
    expect(uncaught).toEqual([]);
    expect(levels.filter((l) => l.level >= 60)).toEqual([]);
    expect(logLines.filter((line) => /uncaught|unhandled/i.test(line))).toEqual([]);
  }, 120_000);

  // The cancel listener reconnects with backoff until PostgreSQL is back (a
  // single retry a second after the drop used to be all it did).
  it('delivers a cancel to the worker after the restart: Codex stops within seconds', async () => {
    const cancelAt = Date.now();
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'after-restart-cancel',
      payload: commentPayload({
        body: `/speckit cancel ${afterRestart.id}`,
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    try {
      // Codex hangs until the cancel notice reaches the worker holding it (its
      // idle timeout is a minute away): only LISTEN/NOTIFY can end it this soon.
      const cancelled = await waitFor(async () => {
        const run = await harness.prisma.specWorkflowRun.findUniqueOrThrow({
          where: { id: afterRestart.id },
        });
        return run.status === 'cancelled' ? run : null;
      }, 15_000).finally(async () => {
        const run = await harness.prisma.specWorkflowRun.findUniqueOrThrow({
          where: { id: afterRestart.id },
        });
        console.log(
          `injected: /speckit cancel while Codex ran, after the restart; observed: run ${run.status} ` +
            `${(Date.now() - cancelAt) / 1000} s later, ${findProcesses('codex', 'exec', harness.root).length} Codex process(es) left`,
        );
      });
      await waitFor(async () => findProcesses('codex', 'exec', harness.root).length === 0, 10_000);
      const codex = await harness.prisma.specWorkflowTaskState.findMany({
        where: { runId: afterRestart.id, taskName: 'codex' },
      });
      expect(codex.map((a) => a.status)).toEqual(['cancelled']);
      expect(cancelled.status).toBe('cancelled');
      await events.next(runEvent(afterRestart.id, { status: 'cancelled' }), 10_000);
    } finally {
      events.close();
    }
  }, 60_000);
});
