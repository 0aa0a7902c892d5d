// Three runs of one two-phase feature: phase 1, then phase 2 on the same
// branch and pull request, then "no remaining phases" without calling Codex.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASE_1_PATCH, PHASE_2_PATCH } from '../fixtures/demo-repo.ts';
import type { Harness } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import {
  applyPatchCall,
  type FakeModelServer,
  finalMessage,
  isToolFollowUp,
} from '../support/fake-model-server.ts';
import type { BareRepo } from '../support/git-fixtures.ts';

let world: DemoWorld;
let model: FakeModelServer;
let repo: BareRepo;
let github: DemoWorld['github'];
let harness: Harness;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 81,
    roles: { Codertocat: 'write' },
    respond: ({ body }) => {
      if (isToolFollowUp(body)) return finalMessage('Done.');
      return JSON.stringify(body).includes('Phase 2')
        ? applyPatchCall(PHASE_2_PATCH)
        : applyPatchCall(PHASE_1_PATCH);
    },
  });
  ({ model, repo, github, harness } = world);
});

afterAll(async () => {
  await world?.stop();
});

async function runOnce(deliveryId: string) {
  return world.settled(await world.comment('/speckit run 001-demo', deliveryId), 60_000);
}

describe('a two-phase feature', () => {
  it('does phase 1, then phase 2 on the same branch and PR, then reports no remaining phases', async () => {
    const first = await runOnce('phases-1');
    expect(first).toMatchObject({
      status: 'succeeded',
      conclusion: 'success',
      phaseNumber: '1',
      prNumber: 1,
    });
    let tasks = (await repo.readTree('speckit/001-demo'))['specs/001-demo/tasks.md'] ?? '';
    expect(tasks).toContain('- [X] T001');
    expect(tasks).toContain('- [ ] T003');

    const second = await runOnce('phases-2');
    expect(second).toMatchObject({
      status: 'succeeded',
      conclusion: 'success',
      phaseNumber: '2',
      prNumber: 1,
    });
    const log = await repo.log('speckit/001-demo');
    expect(log.map((c) => c.subject).slice(0, 2)).toEqual([
      'feat(001-demo): phase 2 – User Story 1 - Farewell (Priority: P1)',
      'feat(001-demo): phase 1 – Setup',
    ]);
    const tree = await repo.readTree('speckit/001-demo');
    tasks = tree['specs/001-demo/tasks.md'] ?? '';
    expect(tasks).toContain('- [X] T003');
    expect(tree['src/bye.txt']?.trim()).toBe('Goodbye!');
    expect(tree['src/hello.txt']?.trim()).toBe('Hello, Spec Kit!');
    // The open PR was updated, not duplicated.
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'))).toHaveLength(1);
    expect(github.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/pulls/1'))).toBe(true);
    // Its body shows phase 1 done and phase 2 done (this run).
    expect(github.pulls[0]?.body).toContain(
      '- [x] Phase 1: Setup\n- [x] Phase 2: User Story 1 - Farewell (Priority: P1) ← this run',
    );

    const modelCalls = model.requests.length;
    const third = await runOnce('phases-3');
    expect(third).toMatchObject({ status: 'succeeded', conclusion: 'neutral' });
    expect(third.summary).toContain('No remaining phases');
    expect(model.requests.length).toBe(modelCalls);
    const steps = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: third.id },
      orderBy: { id: 'asc' },
    });
    expect(steps.map((s) => s.taskName)).toEqual(['intake', 'discover', 'finalize']);
    const lastCheckRun = [...github.checkRuns.values()].find((c) => c.external_id === third.id);
    expect(lastCheckRun).toMatchObject({ status: 'completed', conclusion: 'neutral' });
    expect(lastCheckRun.output.title).toBe('Nothing to do');
    expect(github.unmatched).toEqual([]);
  });
});
