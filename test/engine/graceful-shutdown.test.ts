// SIGTERM: a worker stops taking jobs, lets the active step finish within the
// grace period — or, past it, hands the step over to another worker — and
// exits 0 leaving no Codex process behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { startFakeGitHubServer } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';
import { findProcesses, spawnWorker, type WorkerProcess } from '../support/worker-process.ts';

const INSTALLATION_ID = 78;

let model: FakeModelServer;
let repo: BareRepo;
let github: Awaited<ReturnType<typeof startFakeGitHubServer>>;
let harness: Harness;
const workers: WorkerProcess[] = [];
/** Features whose first Codex request has arrived, and how each first request is answered. */
const started = new Set<string>();
const firstTurn: Record<string, () => ReturnType<typeof hang>> = {
  '001-demo': () => delayed(3_000, applyPatchCall(PHASE_1_PATCH)),
  '002-slow': () => hang(),
};

beforeAll(async () => {
  model = await startFakeModelServer(({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Done.');
    const feature = JSON.stringify(body).includes('002-slow') ? '002-slow' : '001-demo';
    const first = !started.has(feature);
    started.add(feature);
    return first ? (firstTurn[feature]?.() ?? hang()) : applyPatchCall(PHASE_1_PATCH);
  });
  repo = await createBareRepo({
    files: { ...DEMO_FILES, 'specs/002-slow/tasks.md': DEMO_TASKS.replaceAll('001-demo', '002-slow') },
    branch: 'master',
  });
  github = await startFakeGitHubServer({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'maintain' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url, workers: false, githubHost: github.host });
});

afterAll(async () => {
  for (const worker of workers) worker.child.kill('SIGKILL');
  await harness?.stop();
  await github?.close();
  await model?.close();
  await removeTempDirs();
});

async function startRun(feature: string): Promise<void> {
  await deliverWebhook(harness.webhookUrl, {
    secret: WEBHOOK_SECRET,
    event: 'issue_comment',
    payload: commentPayload({
      body: `/speckit run ${feature}`,
      cloneUrl: repo.cloneUrl,
      installationId: INSTALLATION_ID,
    }),
  });
}

async function codexAttempts(feature: string) {
  return harness.prisma.specWorkflowTaskState.findMany({
    where: { taskName: 'codex', run: { featureKey: feature } },
    orderBy: { attempt: 'asc' },
  });
}

function spawn(graceSeconds: number): WorkerProcess {
  const worker = spawnWorker({ ...harness.env, SPECKIT_SHUTDOWN_GRACE_SECONDS: String(graceSeconds) });
  workers.push(worker);
  return worker;
}

async function settledRun(feature: string) {
  return waitFor(async () => {
    const run = await harness.prisma.specWorkflowRun.findFirst({ where: { featureKey: feature } });
    return run && ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : null;
  }, 120_000);
}

describe('SIGTERM', () => {
  it('lets the active step finish within the grace period, then exits 0', async () => {
    const worker = spawn(30);
    await startRun('001-demo');
    await waitFor(async () => started.has('001-demo'));
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    console.log(`exited ${Date.now() - signalledAt} ms after SIGTERM (the model answered after 3 s)`);
    expect(findProcesses('codex', 'exec', harness.root)).toEqual([]);
    expect((await codexAttempts('001-demo')).map((a) => [a.attempt, a.status])).toEqual([[1, 'succeeded']]);
    // The run goes on where it stopped, with the next worker.
    const next = spawn(30);
    const run = await settledRun('001-demo');
    expect(run, `${run.errorStep}: ${run.errorMessage}\n${worker.output()}\n${next.output()}`).toMatchObject({
      status: 'succeeded',
      conclusion: 'success',
    });
    expect((await codexAttempts('001-demo')).length).toBe(1);
    // Stop it, so that the next test's step is not picked up by this worker.
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 150_000);

  it('hands a step that outlives the grace period to another worker', async () => {
    const worker = spawn(1);
    await startRun('002-slow');
    await waitFor(async () => started.has('002-slow'));
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length > 0, 10_000);
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    const exitMs = Date.now() - signalledAt;
    console.log(`exited ${exitMs} ms after SIGTERM with a 1 s grace period`);
    expect(exitMs).toBeLessThan(15_000);
    // Codex was stopped with the step; the kernel reaps it within moments.
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length === 0, 5_000);
    const [interrupted] = await codexAttempts('002-slow');
    expect(interrupted).toMatchObject({ attempt: 1, status: 'failed' });

    spawn(30);
    const run = await settledRun('002-slow');
    expect(run).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    expect((await codexAttempts('002-slow')).map((a) => a.status)).toEqual(['failed', 'succeeded']);
    expect(github.unmatched).toEqual([]);
  }, 150_000);
});
