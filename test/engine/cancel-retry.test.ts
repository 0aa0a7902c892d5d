// Cancel stops a running step (Codex is killed) wherever the worker is, and
// the run ends cancelled; a failed run retried resumes at its failed step.
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunCommands } from '../../src/chain/run-commands.ts';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { startTestBoss } from '../support/chain-fixtures.ts';
import {
  applyPatchCall,
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

const INSTALLATION_ID = 82;

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;
let boss: PgBoss;

beforeAll(async () => {
  model = await startFakeModelServer(({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Done.');
    return JSON.stringify(body).includes('002-hang') ? hang() : applyPatchCall(PHASE_1_PATCH);
  });
  repo = await createBareRepo({
    files: { ...DEMO_FILES, 'specs/002-hang/tasks.md': DEMO_FILES['specs/001-demo/tasks.md'] ?? '' },
    branch: 'master',
  });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url });
  boss = await startTestBoss(harness.database.url);
});

afterAll(async () => {
  await boss?.stop({ graceful: false, close: true });
  await harness?.stop();
  github?.done();
  await model?.close();
  await removeTempDirs();
});

async function trigger(feature: string, deliveryId: string) {
  await deliverWebhook(harness.webhookUrl, {
    secret: WEBHOOK_SECRET,
    event: 'issue_comment',
    deliveryId,
    payload: commentPayload({
      body: `/speckit run ${feature}`,
      cloneUrl: repo.cloneUrl,
      installationId: INSTALLATION_ID,
    }),
  });
}

async function settled(deliveryId: string) {
  return waitFor(async () => {
    const run = await harness.prisma.specWorkflowRun.findFirst({ where: { triggerDeliveryId: deliveryId } });
    return run && ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : null;
  }, 60_000);
}

describe('cancel', () => {
  it('kills Codex within 2 s and ends the run cancelled, with the check run completed', async () => {
    await trigger('002-hang', 'cancel-1');
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length > 0, 30_000);
    const run = await harness.prisma.specWorkflowRun.findFirstOrThrow({
      where: { triggerDeliveryId: 'cancel-1' },
    });
    const commands = createRunCommands({ prisma: harness.prisma, boss, github: null });
    const cancelledAt = Date.now();
    expect(await commands.cancelRun(run.id, { actor: 'octocat' })).toEqual({ kind: 'cancelling' });
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length === 0, 2_000);
    console.log(`Codex gone ${Date.now() - cancelledAt} ms after cancel`);

    const ended = await settled('cancel-1');
    expect(ended).toMatchObject({ status: 'cancelled', conclusion: 'cancelled', errorCode: 'cancelled' });
    const codex = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id, taskName: 'codex' },
    });
    expect(codex.map((a) => a.status)).toEqual(['cancelled']);
    const checkRun = [...github.checkRuns.values()].find((c) => c.external_id === run.id);
    expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(await commands.cancelRun(run.id, { actor: 'octocat' })).toMatchObject({ kind: 'conflict' });
  });
});

describe('retry', () => {
  it('resumes a failed run at its failed step once the cause is fixed', async () => {
    await trigger('003-later', 'retry-1');
    const failed = await settled('retry-1');
    expect(failed).toMatchObject({ status: 'failed', conclusion: 'failure', errorStep: 'discover' });
    expect(failed.errorMessage).toContain('`specs/003-later/tasks.md` was not found on `master`');
    expect(failed.errorMessage).toContain('`001-demo`');
    const failedCheck = [...github.checkRuns.values()].find((c) => c.external_id === failed.id);
    expect(failedCheck).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(failedCheck.output.summary).toContain('Failed at step `discover`');

    await repo.commitFiles('master', {
      'specs/003-later/tasks.md': DEMO_FILES['specs/001-demo/tasks.md'] ?? '',
    });
    const commands = createRunCommands({ prisma: harness.prisma, boss, github: null });
    expect(await commands.retryRun(failed.id, { actor: 'octocat' })).toEqual({ kind: 'retried' });
    // Only failed runs can be retried: a second retry while it runs conflicts.
    expect(await commands.retryRun(failed.id, { actor: 'octocat' })).toMatchObject({ kind: 'conflict' });

    const resumed = await waitFor(async () => {
      const run = await harness.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: failed.id } });
      return ['succeeded', 'failed'].includes(run.status) ? run : null;
    }, 60_000);
    expect(resumed, `${resumed.errorStep}: ${resumed.errorMessage}`).toMatchObject({
      status: 'succeeded',
      conclusion: 'success',
      errorMessage: null,
    });
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: failed.id },
      orderBy: { id: 'asc' },
    });
    expect(attempts.map((a) => `${a.taskName}:${a.status}`)).toEqual([
      'intake:succeeded',
      'discover:failed',
      'finalize:succeeded',
      'discover:succeeded',
      'codex:succeeded',
      'apply:succeeded',
      'publish:succeeded',
      'finalize:succeeded',
    ]);
    expect(await commands.retryRun('00000000-0000-4000-8000-000000000000', { actor: 'x' })).toEqual({
      kind: 'not_found',
    });
  });
});

describe('retry and cancel racing', () => {
  it('end in one consistent state', async () => {
    await trigger('004-missing', 'race-retry-cancel');
    const failed = await settled('race-retry-cancel');
    expect(failed.status).toBe('failed');
    const commands = createRunCommands({ prisma: harness.prisma, boss, github: null });
    const [retried, cancelled] = await Promise.all([
      commands.retryRun(failed.id, { actor: 'alice' }),
      commands.cancelRun(failed.id, { actor: 'bob' }),
    ]);
    console.log(`retry → ${retried.kind}, cancel → ${cancelled.kind}`);
    expect(retried.kind).toBe('retried'); // the run was failed: retry always applies
    const final = await waitFor(async () => {
      const run = await harness.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: failed.id } });
      return ['failed', 'cancelled', 'succeeded'].includes(run.status) ? run : null;
    }, 60_000);
    if (cancelled.kind === 'cancelling') {
      // The cancel came after the retry: the resumed run ends cancelled.
      expect(final).toMatchObject({ status: 'cancelled', conclusion: 'cancelled' });
    } else {
      // The cancel came first and found a finished run; the retry then ran.
      expect(cancelled.kind).toBe('conflict');
      expect(final).toMatchObject({ status: 'failed', errorStep: 'discover' });
    }
    const active = await harness.prisma.specWorkflowRun.count({
      where: { id: failed.id, status: { in: ['pending', 'running', 'cancelling'] } },
    });
    expect(active).toBe(0);
  });
});
