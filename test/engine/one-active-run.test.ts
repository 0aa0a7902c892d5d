// At most one active run per (repository, feature): simultaneous commands for
// one feature make one run and polite replies; other features run in parallel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
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

const INSTALLATION_ID = 79;

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  model = await startFakeModelServer(async ({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Done.');
    // Each first turn takes a while, so the runs overlap and the duplicates
    // arrive while the first run is still active.
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    inFlight -= 1;
    return delayed(0, applyPatchCall(PHASE_1_PATCH));
  });
  repo = await createBareRepo({
    files: { ...DEMO_FILES, 'specs/002-other/tasks.md': DEMO_TASKS.replaceAll('001-demo', '002-other') },
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
});

afterAll(async () => {
  await harness?.stop();
  github?.done();
  await model?.close();
  await removeTempDirs();
});

function trigger(feature: string, deliveryId: string): Promise<Response> {
  return deliverWebhook(harness.webhookUrl, {
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

describe('one active run per feature', () => {
  it('turns ten simultaneous commands for one feature into one run and nine replies, while another feature runs in parallel', async () => {
    const responses = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => trigger('001-demo', `race-${i}`)),
      trigger('002-other', 'other-1'),
    ]);
    expect(responses.map((r) => r.status)).toEqual(Array(11).fill(200));

    const runs = await waitFor(async () => {
      const all = await harness.prisma.specWorkflowRun.findMany();
      return all.length === 2 && all.every((run) => run.status === 'succeeded') ? all : null;
    }, 120_000);
    const replies = [...github.comments.values()].filter((c) => c.body.includes('already in progress'));
    console.log(
      `injected: 10 simultaneous /speckit run 001-demo (distinct deliveries) and 1 for 002-other; observed: ` +
        `${runs.length} runs (${runs.map((run) => `${run.featureKey} ${run.status}`).join(', ')}), ${replies.length} "already in progress" replies, ` +
        `${await harness.prisma.webhookDelivery.count()} deliveries stored, ${maxInFlight} Codex steps at once, ` +
        `${github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls')).length} PRs`,
    );
    expect(runs.map((run) => run.featureKey).sort()).toEqual(['001-demo', '002-other']);
    expect(await harness.prisma.webhookDelivery.count()).toBe(11);

    expect(replies).toHaveLength(9);
    const demoRun = runs.find((run) => run.featureKey === '001-demo');
    for (const reply of replies) {
      expect(reply.body).toContain('`001-demo`');
      expect(reply.body).toContain(`run \`${demoRun?.id}\``);
      expect(reply.body).toMatch(
        new RegExp(`https://github.com/Codertocat/Hello-World/(runs/${demoRun?.checkRunId}|issues/1)\\b`),
      );
    }
    // Two progress comments (one per run) besides the replies.
    expect(github.comments.size).toBe(11);

    // The two features' Codex steps overlapped.
    expect(maxInFlight).toBe(2);
    const [a, b] = runs;
    expect(a!.startedAt! < b!.finishedAt! && b!.startedAt! < a!.finishedAt!).toBe(true);
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'))).toHaveLength(2);
  }, 150_000);
});
