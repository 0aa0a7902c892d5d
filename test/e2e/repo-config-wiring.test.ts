// A repository whose .github/speckit.yml moves the specs (`specs_dir:
// docs/specs`), names its branches `bot/<feature>` and continues after each
// successful phase (`auto_continue: true`): plan and feature resolution read
// docs/specs, runs push `bot/<feature>` and open their PR from it, a plain
// `/speckit run` goes through every phase and `--once` stops after one.
// Then the file changes on the default branch (each change applies to the next
// command): draft PRs and labels, diff_limits.max_files, allow_workflow_changes,
// codex.model, and an invalid file answered on `/speckit run`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continuationDeliveryId } from '../../src/chain/next-phase.ts';
import type { Run } from '../../src/chain/runs.ts';
import { DEMO_TASKS, PHASE_1_PATCH, PHASE_2_PATCH } from '../fixtures/demo-repo.ts';
import { waitFor } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';

let world: DemoWorld;

/** What the model "implements" for the workflow features: a GitHub Actions workflow. */
const WORKFLOW_PATCH = [
  '*** Begin Patch',
  '*** Add File: .github/workflows/ci.yml',
  '+name: ci',
  '+on: push',
  '*** End Patch',
  '',
].join('\n');
const WORKFLOW_TASKS = `# Tasks: CI

## Phase 1: Setup

- [ ] T001 Add the CI workflow \`.github/workflows/ci.yml\`
`;
const WORKFLOW_FEATURES = ['005-workflow-refused', '006-workflow-allowed'];

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 95,
    respond: ({ body }) => {
      if (isToolFollowUp(body)) return finalMessage('Done.');
      const text = JSON.stringify(body);
      if (WORKFLOW_FEATURES.some((feature) => text.includes(`docs/specs/${feature}/`)))
        return applyPatchCall(WORKFLOW_PATCH);
      return text.includes('Phase 2') ? applyPatchCall(PHASE_2_PATCH) : applyPatchCall(PHASE_1_PATCH);
    },
    files: {
      '.github/speckit.yml': 'specs_dir: docs/specs\nbranch_prefix: bot/\nauto_continue: true\n',
      // specs/001-demo (the demo's own) stays, so reading specs/ instead would show.
      'docs/specs/001-demo/tasks.md': DEMO_TASKS,
      'docs/specs/002-once/tasks.md': DEMO_TASKS,
      'docs/specs/003-draft/tasks.md': DEMO_TASKS,
      'docs/specs/004-limits/tasks.md': DEMO_TASKS,
      'docs/specs/005-workflow-refused/tasks.md': WORKFLOW_TASKS,
      'docs/specs/006-workflow-allowed/tasks.md': WORKFLOW_TASKS,
      'docs/specs/007-model/tasks.md': DEMO_TASKS,
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

/** Commits `yaml` as .github/speckit.yml on the default branch (the next command reads it). */
async function configure(yaml: string): Promise<void> {
  await world.repo.commitFiles('master', {
    '.github/speckit.yml': `specs_dir: docs/specs\nbranch_prefix: bot/\n${yaml}`,
  });
}

/** Runs one phase of `feature` and prints why it failed, if it did. */
async function runOnce(feature: string): Promise<Run> {
  const run = await world.settled(await world.comment(`/speckit run ${feature} --once`));
  console.log(
    `${feature}: ${run.status}${run.errorMessage ? ` at ${run.errorStep}: ${run.errorMessage}` : ''}`,
  );
  return run;
}

describe('.github/speckit.yml changed on the default branch', () => {
  it('opens a draft pull request with the configured labels', async () => {
    await configure('pull_request:\n  draft: true\n  labels: [needs-review, area/specs]\n');
    const run = await runOnce('003-draft');
    expect(run).toMatchObject({ status: 'succeeded', branchName: 'bot/003-draft' });
    const create = world.github.requests.find(
      (r) =>
        r.method === 'POST' &&
        r.path === '/repos/Codertocat/Hello-World/pulls' &&
        r.body?.head === 'bot/003-draft',
    );
    expect(create?.body).toMatchObject({ head: 'bot/003-draft', base: 'master', draft: true });
    const labels = world.github.requests.filter(
      (r) => r.method === 'POST' && r.path === `/repos/Codertocat/Hello-World/issues/${run.prNumber}/labels`,
    );
    expect(labels.map((r) => r.body)).toEqual([{ labels: ['speckit', 'needs-review', 'area/specs'] }]);
  });

  it('fails a run whose diff touches more files than diff_limits.max_files, with the numbers', async () => {
    await configure('diff_limits:\n  max_files: 1\n');
    const run = await runOnce('004-limits');
    expect(run).toMatchObject({ status: 'failed', errorStep: 'apply' });
    expect(run.errorMessage).toContain('The diff changes 2 files, over the limit of 1');
    expect(pullRequestHeads()).not.toContain('bot/004-limits');
  });

  it('refuses workflow changes by default and commits them with allow_workflow_changes: true', async () => {
    await configure('');
    const refused = await runOnce('005-workflow-refused');
    expect(refused).toMatchObject({ status: 'failed', errorStep: 'apply' });
    expect(refused.errorMessage).toContain(
      'The diff changes GitHub Actions workflows (.github/workflows/ci.yml)',
    );

    await configure('allow_workflow_changes: true\n');
    const allowed = await runOnce('006-workflow-allowed');
    expect(allowed).toMatchObject({ status: 'succeeded', branchName: 'bot/006-workflow-allowed' });
    const tree = await world.repo.readTree('bot/006-workflow-allowed');
    expect(tree['.github/workflows/ci.yml']?.trim()).toBe('name: ci\non: push');
  });

  it('runs Codex with codex.model: the model server is asked for that model', async () => {
    await configure('codex:\n  model: gpt-5.4\n');
    const before = world.model.requests.length;
    const run = await runOnce('007-model');
    expect(run.status).toBe('succeeded');
    const asked = world.model.requests
      .slice(before)
      .filter((request) => JSON.stringify(request.body).includes('docs/specs/007-model/'))
      .map((request) => request.body.model);
    console.log(`007-model: the model server was asked for ${[...new Set(asked)].join(', ')}`);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(['gpt-5.4']));
  });

  it('answers /speckit run with the invalid field of a broken file, and starts nothing', async () => {
    await configure('pull_request:\n  draft: "yes"\n');
    const runs = await world.harness.prisma.specWorkflowRun.count();
    const answer = await reply('/speckit run 001-demo', 'is invalid');
    expect(answer).toContain(
      '@Codertocat .github/speckit.yml is invalid; fix it on the default branch and try again:',
    );
    expect(answer).toContain('- `pull_request.draft`: expected a boolean, got string');
    expect(await world.harness.prisma.specWorkflowRun.count()).toBe(runs);
    expect(world.github.unmatched).toEqual([]);
  });
});
