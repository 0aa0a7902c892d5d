// SPECKIT_INSTALLATION_CONCURRENCY caps the Codex steps one installation runs
// at once (pg-boss group concurrency, across workers): with a cap of 1, two
// features' runs take turns in Codex instead of overlapping, and both finish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  type FakeModelServer,
  finalMessage,
  isToolFollowUp,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 92;

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  model = await startFakeModelServer(async ({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Done.');
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    inFlight -= 1;
    return applyPatchCall(PHASE_1_PATCH);
  });
  repo = await createBareRepo({
    files: { ...DEMO_FILES, 'specs/002-other/tasks.md': DEMO_TASKS },
    branch: 'master',
  });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url, env: { SPECKIT_INSTALLATION_CONCURRENCY: '1' } });
});

afterAll(async () => {
  await harness?.stop();
  github?.done();
  await model?.close();
  await removeTempDirs();
});

describe('the per-installation Codex limit', () => {
  it('makes one installation’s runs take turns in Codex', async () => {
    await Promise.all(
      ['001-demo', '002-other'].map((feature) =>
        deliverWebhook(harness.webhookUrl, {
          secret: WEBHOOK_SECRET,
          event: 'issue_comment',
          deliveryId: `limit-${feature}`,
          payload: commentPayload({
            body: `/speckit run ${feature}`,
            cloneUrl: repo.cloneUrl,
            installationId: INSTALLATION_ID,
          }),
        }),
      ),
    );
    const runs = await waitFor(async () => {
      const all = await harness.prisma.specWorkflowRun.findMany();
      return all.length === 2 && all.every((run) => run.status === 'succeeded') ? all : null;
    }, 90_000);
    expect(runs).toHaveLength(2);
    expect(maxInFlight).toBe(1);
    const codex = await harness.prisma.specWorkflowTaskState.findMany({
      where: { taskName: 'codex' },
      orderBy: { startedAt: 'asc' },
    });
    expect(codex).toHaveLength(2);
    // The second Codex step started only after the first one ended.
    expect(codex[1]!.startedAt!.getTime()).toBeGreaterThanOrEqual(codex[0]!.finishedAt!.getTime());
  });
});
