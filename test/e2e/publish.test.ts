// Publish is safe to repeat and never overwrites someone else's work:
// - re-run after its push succeeded → no second commit, no second PR;
// - the branch moved while Codex ran → the phase commit is rebased on top;
// - the move conflicts with the phase → the run fails naming the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS, PHASE_1_PATCH, PHASE_2_PATCH } from '../fixtures/demo-repo.ts';
import type { Harness } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';
import type { BareRepo } from '../support/git-fixtures.ts';

const FEATURES = ['001-demo', '002-moved', '003-conflict'];

let world: DemoWorld;
let repo: BareRepo;
let github: DemoWorld['github'];
let harness: Harness;
/** Runs before the model answers a phase-2 request (the "while Codex runs" moment). */
let beforePhase2: (feature: string) => Promise<void> = async () => {};

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 85,
    respond: async ({ body }) => {
      if (isToolFollowUp(body)) return finalMessage('Done.');
      const text = JSON.stringify(body);
      const feature = FEATURES.find((f) => text.includes(`Feature: ${f}`)) ?? '001-demo';
      if (text.includes('Phase 2')) {
        await beforePhase2(feature);
        return applyPatchCall(PHASE_2_PATCH);
      }
      return applyPatchCall(PHASE_1_PATCH);
    },
    files: Object.fromEntries(FEATURES.slice(1).map((feature) => [`specs/${feature}/tasks.md`, DEMO_TASKS])),
  });
  ({ repo, github, harness } = world);
});

afterAll(async () => {
  await world?.stop();
});

const prCreates = (head: string) =>
  github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls') && r.body.head === head);

describe('publish', () => {
  it('re-run after its push succeeded pushes nothing again and opens one PR', async () => {
    // The first PR call fails after the push went through; pg-boss retries the step.
    github.injectFault({ method: 'POST', path: /\/pulls$/, status: 502, times: 1 });
    const result = await world.run('001-demo');
    expect(result).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    expect(github.faultsServed).toHaveLength(1);
    const publish = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: result.id, taskName: 'publish' },
      orderBy: { attempt: 'asc' },
    });
    expect(publish.map((a) => a.status)).toEqual(['failed', 'succeeded']);
    expect(publish[1]?.payload).toMatchObject({ pushed: false });
    const log = await repo.log('speckit/001-demo');
    expect(log.filter((c) => c.body.includes(`Speckit-Run: ${result.id}`))).toHaveLength(1);
    expect(prCreates('speckit/001-demo')).toHaveLength(1); // besides the injected failure
    expect(github.pulls.filter((pr) => pr.head.ref === 'speckit/001-demo')).toHaveLength(1);
  });

  it('puts the phase commit on top of a commit that landed on the branch while Codex ran', async () => {
    expect(await world.run('002-moved')).toMatchObject({ status: 'succeeded' });
    beforePhase2 = async (feature) => {
      if (feature === '002-moved')
        await repo.commitFiles('speckit/002-moved', { 'notes/review.md': 'Looks good\n' });
    };
    const second = await world.run('002-moved');
    expect(second).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    const log = await repo.log('speckit/002-moved');
    expect(log[0]?.subject).toBe('feat(002-moved): phase 2 – User Story 1 - Farewell (Priority: P1)');
    expect(log[1]?.body ?? log[1]?.subject).toBeDefined();
    expect(log.map((c) => c.subject)).toContain('feat(002-moved): phase 1 – Setup');
    const tree = await repo.readTree('speckit/002-moved');
    expect(tree['notes/review.md']?.trim()).toBe('Looks good');
    expect(tree['src/bye.txt']?.trim()).toBe('Goodbye!');
    // The reviewer's commit stays where it was, under the phase commit.
    const human = log.findIndex((c) => c.subject === 'Fixture change');
    expect(human).toBeGreaterThan(0);
    expect(log.findIndex((c) => c.subject.includes('phase 2'))).toBeLessThan(human);
  });

  it('fails cleanly naming the file when the moved branch conflicts with the phase', async () => {
    expect(await world.run('003-conflict')).toMatchObject({ status: 'succeeded' });
    const before = await repo.readBranch('speckit/003-conflict');
    beforePhase2 = async (feature) => {
      if (feature === '003-conflict') {
        await repo.commitFiles('speckit/003-conflict', { 'src/bye.txt': 'A human wrote this farewell\n' });
      }
    };
    const second = await world.run('003-conflict');
    expect(second).toMatchObject({ status: 'failed', conclusion: 'failure', errorStep: 'apply' });
    expect(second.errorMessage).toContain('src/bye.txt conflict');
    const moved = await repo.readBranch('speckit/003-conflict');
    expect(moved).not.toBe(before);
    // The human's commit is untouched and the phase patch is kept.
    expect((await repo.readTree('speckit/003-conflict'))['src/bye.txt']?.trim()).toBe(
      'A human wrote this farewell',
    );
    const patch = await harness.prisma.stepOutput.findUnique({
      where: { runId_step: { runId: second.id, step: 'codex' } },
    });
    expect(patch?.patch).toContain('src/bye.txt');
  });
});
