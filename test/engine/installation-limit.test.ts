// SPECKIT_INSTALLATION_CONCURRENCY caps the Codex steps one installation runs
// at once (pg-boss group concurrency, across workers): with a cap of 1, two
// features' runs take turns in Codex instead of overlapping, and both finish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';

let world: DemoWorld;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 92,
    respond: async ({ body }) => {
      if (isToolFollowUp(body)) return finalMessage('Done.');
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      inFlight -= 1;
      return applyPatchCall(PHASE_1_PATCH);
    },
    files: { 'specs/002-other/tasks.md': DEMO_TASKS },
    env: { SPECKIT_INSTALLATION_CONCURRENCY: '1' },
  });
});

afterAll(async () => {
  await world?.stop();
});

describe('the per-installation Codex limit', () => {
  it('makes one installation’s runs take turns in Codex', async () => {
    const deliveries = await Promise.all([
      world.comment('/speckit run 001-demo'),
      world.comment('/speckit run 002-other'),
    ]);
    const runs = await Promise.all(deliveries.map((id) => world.settled(id)));
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded']);
    expect(maxInFlight).toBe(1);
    const codex = await world.harness.prisma.specWorkflowTaskState.findMany({
      where: { taskName: 'codex' },
      orderBy: { startedAt: 'asc' },
    });
    expect(codex).toHaveLength(2);
    // The second Codex step started only after the first one ended.
    expect(codex[1]!.startedAt!.getTime()).toBeGreaterThanOrEqual(codex[0]!.finishedAt!.getTime());
    // While it waited, the second run's check run and progress comment said why.
    const second = runs.find((run) => run.id === codex[1]!.runId)!;
    const waitingTitles = world.github.requests.filter(
      (r) =>
        r.method === 'PATCH' &&
        r.path.endsWith(`/check-runs/${second.checkRunId}`) &&
        /waiting for a Codex slot/.test(String((r.body as any)?.output?.title)),
    );
    const waitingComments = world.github.requests.filter(
      (r) =>
        r.method === 'PATCH' &&
        r.path.endsWith(`/issues/comments/${second.progressCommentId}`) &&
        /Waiting for a Codex slot: 1 run of this installation is ahead/.test(String((r.body as any)?.body)),
    );
    console.log(
      `second run: ${waitingTitles.length} check-run update(s) and ${waitingComments.length} comment update(s) said it waited for a Codex slot`,
    );
    expect(waitingTitles.length).toBeGreaterThan(0);
    expect(waitingComments.length).toBeGreaterThan(0);
    const finalCheckRun = world.github.checkRuns.get(Number(second.checkRunId));
    expect(finalCheckRun).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(finalCheckRun.output.title).not.toMatch(/waiting/);
  });
});
