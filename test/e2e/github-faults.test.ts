// GitHub misbehaving: failed progress reports never fail the run's work, and
// an installation that is gone fails the run at once with what to do.
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

const INSTALLATION_ID = 87;

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;

beforeAll(async () => {
  model = await startFakeModelServer(({ body }) =>
    isToolFollowUp(body) ? finalMessage('Done.') : applyPatchCall(PHASE_1_PATCH),
  );
  repo = await createBareRepo({
    files: { ...DEMO_FILES, 'specs/002-gone/tasks.md': DEMO_TASKS },
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

async function run(feature: string, deliveryId: string) {
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
  return waitFor(async () => {
    const found = await harness.prisma.specWorkflowRun.findFirst({
      where: { triggerDeliveryId: deliveryId },
    });
    return found && ['succeeded', 'failed'].includes(found.status) ? found : null;
  }, 90_000);
}

describe('GitHub faults', () => {
  it('keeps the run going when progress reports fail, and settles the check run in the end', async () => {
    // Three 502s on check-run updates: the in-progress reports are lost,
    // finalize's report is retried until it lands.
    github.injectFault({ method: 'PATCH', path: /\/check-runs\/\d+$/, status: 502, times: 3 });
    const result = await run('001-demo', 'faults-1');
    console.log(`injected ${github.faultsServed.length} × 502 on PATCH check-runs`);
    expect(github.faultsServed.length).toBe(3);
    expect(result).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    const checkRun = [...github.checkRuns.values()].find((c) => c.external_id === result.id);
    expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success' });
    const work = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: result.id, taskName: { in: ['codex', 'apply', 'publish'] } },
    });
    expect(work.every((a) => a.status === 'succeeded')).toBe(true);
  });

  it('fails at once with remediation when GitHub refuses the installation token', async () => {
    // Probot still holds the token it cached for API calls during the first
    // test; the fresh token discover asks for, for git, is refused as for an
    // uninstalled app.
    const served = github.faultsServed.length;
    github.injectFault({ method: 'POST', path: /\/access_tokens$/, status: 404, times: 100 });
    const result = await run('002-gone', 'faults-2');
    console.log(`injected ${github.faultsServed.length - served} × 404 on the token call`);
    expect(result).toMatchObject({ status: 'failed', conclusion: 'failure', errorCode: 'installation_gone' });
    expect(result.errorMessage).toContain('Reinstall the app');
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: result.id, taskName: 'discover' },
    });
    expect(attempts.map((a) => a.status)).toEqual(['failed']);
  });
});
