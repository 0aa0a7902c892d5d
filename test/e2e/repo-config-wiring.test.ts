// A repository whose .github/speckit.yml moves the specs (`specs_dir:
// docs/specs`), names its branches `bot/<feature>` and continues after each
// successful phase (`auto_continue: true`): plan and feature resolution read
// docs/specs, runs push `bot/<feature>` and open their PR from it, a plain
// `/speckit run` goes through every phase and `--once` stops after one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continuationDeliveryId } from '../../src/chain/next-phase.ts';
import { DEMO_TASKS, PHASE_1_PATCH, PHASE_2_PATCH } from '../fixtures/demo-repo.ts';
import { waitFor } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';

let world: DemoWorld;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 95,
    respond: ({ body }) => {
      if (isToolFollowUp(body)) return finalMessage('Done.');
      return JSON.stringify(body).includes('Phase 2')
        ? applyPatchCall(PHASE_2_PATCH)
        : applyPatchCall(PHASE_1_PATCH);
    },
    files: {
      '.github/speckit.yml': 'specs_dir: docs/specs\nbranch_prefix: bot/\nauto_continue: true\n',
      // specs/001-demo (the demo's own) stays, so reading specs/ instead would show.
      'docs/specs/001-demo/tasks.md': DEMO_TASKS,
      'docs/specs/002-once/tasks.md': DEMO_TASKS,
    },
  });
});

afterAll(async () => {
  await world?.stop();
});

/** Comments `body` and returns the app's reply that contains `marker`. */
async function reply(body: string, marker: string): Promise<string> {
  const before = new Set(world.github.comments.keys());
  await world.comment(body);
  return waitFor(async () => {
    const added = [...world.github.comments.entries()].filter(([id]) => !before.has(id));
    return added.map(([, c]) => c.body as string).find((text) => text.includes(marker)) ?? null;
  }, 20_000);
}

const pullRequestHeads = () => world.github.pulls.map((pr) => pr.head.ref as string);

describe('.github/speckit.yml applied', () => {
  it('plans and resolves features from specs_dir', async () => {
    const choose = await reply('/speckit plan', 'several features have pending tasks');
    expect(choose).toContain('- `/speckit plan 001-demo`');
    expect(choose).toContain('- `/speckit plan 002-once`');
    const plan = await reply('/speckit plan 002-once', '### Spec Kit plan');
    expect(plan).toContain('From `docs/specs/002-once/tasks.md` on `master`.');
    expect(plan).toContain('**Next: Phase 1: Setup**');
  });

  it('runs one phase with --once, on bot/<feature>, and goes no further', async () => {
    const once = await world.settled(await world.comment('/speckit run 002-once --once'));
    expect(once).toMatchObject({
      status: 'succeeded',
      conclusion: 'success',
      phaseNumber: '1',
      branchName: 'bot/002-once',
    });
    expect(pullRequestHeads()).toEqual(['bot/002-once']);
    const tasks = (await world.repo.readTree('bot/002-once'))['docs/specs/002-once/tasks.md'] ?? '';
    expect(tasks).toContain('- [X] T001');
    expect(tasks).toContain('- [ ] T003');
  });

  it('goes through every phase after a plain /speckit run, then stops', async () => {
    const first = await world.settled(await world.comment('/speckit run 001-demo'));
    expect(first).toMatchObject({ conclusion: 'success', phaseNumber: '1', branchName: 'bot/001-demo' });
    const second = await world.settled(continuationDeliveryId(first.id));
    expect(second).toMatchObject({
      conclusion: 'success',
      phaseNumber: '2',
      triggerKind: 'continuation',
      branchName: 'bot/001-demo',
      prNumber: first.prNumber,
    });
    const third = await world.settled(continuationDeliveryId(second.id));
    expect(third).toMatchObject({ conclusion: 'neutral', triggerKind: 'continuation' });
    expect(third.summary).toContain('No remaining phases');

    const tree = await world.repo.readTree('bot/001-demo');
    expect(tree['docs/specs/001-demo/tasks.md']).not.toContain('- [ ]');
    expect(tree['src/bye.txt']?.trim()).toBe('Goodbye!');
    expect(pullRequestHeads()).toEqual(['bot/002-once', 'bot/001-demo']);
    // A neutral run does not continue, and the --once run never did.
    const runs = await world.harness.prisma.specWorkflowRun.findMany({ select: { featureKey: true } });
    expect(runs.map((r) => r.featureKey).sort()).toEqual(['001-demo', '001-demo', '001-demo', '002-once']);

    const plan = await reply('/speckit plan 001-demo', '### Spec Kit plan');
    expect(plan).toContain('From `docs/specs/001-demo/tasks.md` on `bot/001-demo`.');
    expect(plan).toContain('No remaining phases');
    expect(world.github.unmatched).toEqual([]);
  });
});
