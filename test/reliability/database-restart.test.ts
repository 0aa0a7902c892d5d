// PostgreSQL restarts in the middle of a run (a throwaway cluster of this
// test's own, so other tests are not disturbed): the app reconnects without
// crashing and the run still ends, settled, with its attempts recorded.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  delayed,
  type FakeModelServer,
  finalMessage,
  isToolFollowUp,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 88;
const PORT = 54_391;

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

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'speckit-pg-restart-'));
  // As root, the cluster runs as the `postgres` user, which must reach the data dir.
  await chmod(dataDir, 0o755);
  cluster = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: PORT });
  await migrate(cluster.url);
  model = await startFakeModelServer(({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Done.');
    modelAsked();
    return delayed(4_000, applyPatchCall(PHASE_1_PATCH));
  });
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url, databaseUrl: cluster.url });
}, 120_000);

afterAll(async () => {
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
    cluster = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: PORT });
    console.log(`PostgreSQL was down for ${Date.now() - stoppedAt} ms while Codex ran`);

    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst().catch(() => null);
      return found && ['succeeded', 'failed'].includes(found.status) ? found : null;
    }, 120_000);
    console.log(`run ended ${run.status} (${run.errorStep ?? '-'}: ${run.errorMessage ?? '-'})`);
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
});
