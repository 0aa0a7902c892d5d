// The app loses access (repository removed from the installation, or the app
// uninstalled): its active runs there are cancelled and recorded as such, and
// a running Codex is stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS } from '../fixtures/demo-repo.ts';
import { type Harness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { hang } from '../support/fake-model-server.ts';
import { deliverWebhook, examplePayload } from '../support/webhooks.ts';
import { findProcesses } from '../support/worker-process.ts';

const INSTALLATION_ID = 89;

let world: DemoWorld;
let harness: Harness;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: INSTALLATION_ID,
    respond: () => hang(),
    files: { 'specs/002-two/tasks.md': DEMO_TASKS },
  });
  ({ harness } = world);
});

afterAll(async () => {
  await world?.stop();
});

async function startRun(feature: string): Promise<string> {
  await world.comment(`/speckit run ${feature}`, `lost-${feature}`);
  const run = await waitFor(() =>
    harness.prisma.specWorkflowRun.findFirst({ where: { featureKey: feature, currentStep: 'codex' } }),
  );
  await waitFor(async () => findProcesses('codex', 'exec', harness.root).length > 0, 30_000);
  return run.id;
}

async function settledAs(runId: string) {
  return waitFor(async () => {
    const run = await harness.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: runId } });
    return run.status === 'cancelled' ? run : null;
  }, 10_000);
}

describe('losing access', () => {
  it('cancels the active runs of a repository removed from the installation', async () => {
    const runId = await startRun('001-demo');
    const payload = examplePayload('installation_repositories', 'removed');
    payload.installation.id = INSTALLATION_ID;
    payload.repositories_removed = [
      { ...payload.repositories_removed[0], full_name: 'Codertocat/Hello-World' },
    ];
    const removedAt = Date.now();
    const response = await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'installation_repositories',
      payload,
    });
    expect(response.status).toBe(200);
    const run = await settledAs(runId);
    expect(run).toMatchObject({ conclusion: 'cancelled', errorCode: 'installation_removed' });
    expect(run.errorMessage).toContain('lost access');
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length === 0, 5_000);
    const codex = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId, taskName: 'codex' },
    });
    console.log(
      `injected: installation_repositories.removed while Codex ran; observed: run ${run.status}/${run.conclusion} ` +
        `(${run.errorCode}) ${((run.finishedAt?.getTime() ?? 0) - removedAt) / 1000} s later, codex attempt ${codex.map((a) => a.status).join(', ')}, ` +
        `${findProcesses('codex', 'exec', harness.root).length} Codex processes left`,
    );
    expect(codex.map((a) => a.status)).toEqual(['cancelled']);
  });

  it('cancels every active run of an installation that was deleted', async () => {
    const runId = await startRun('002-two');
    const payload = examplePayload('installation', 'deleted');
    payload.installation.id = INSTALLATION_ID;
    const deletedAt = Date.now();
    await deliverWebhook(harness.webhookUrl, { secret: WEBHOOK_SECRET, event: 'installation', payload });
    const run = await settledAs(runId);
    expect(run).toMatchObject({ conclusion: 'cancelled', errorCode: 'installation_removed' });
    expect(run.errorMessage).toContain('uninstalled');
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length === 0, 5_000);
    const active = await harness.prisma.specWorkflowRun.count({
      where: { status: { in: ['pending', 'running', 'cancelling'] } },
    });
    console.log(
      `injected: installation.deleted while Codex ran; observed: run ${run.status}/${run.conclusion} (${run.errorCode}) ` +
        `${((run.finishedAt?.getTime() ?? 0) - deletedAt) / 1000} s later, ${active} active runs left, ` +
        `${findProcesses('codex', 'exec', harness.root).length} Codex processes left`,
    );
    expect(active).toBe(0);
  });
});
