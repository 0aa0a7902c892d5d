// Publish is safe to repeat and never overwrites someone else's work:
// - re-run after its push succeeded → no second commit, no second PR;
// - the branch moved while Codex ran → the phase commit is rebased on top;
// - the move conflicts with the phase → the run fails naming the file;
// - the branch moved after apply committed, right before publish pushes →
//   publish rebases the phase commit onto it, or fails naming the conflict
//   and keeps the phase patch;
// - apply ran on another machine (its workspace is not here) → publish
//   rebuilds the identical commit from the stored patch;
// - GitHub refuses a workflow change for want of the Workflows permission →
//   the run fails saying which permission; the push log keeps git's output.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS, PHASE_1_PATCH, PHASE_2_PATCH } from '../fixtures/demo-repo.ts';
import type { Harness } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';
import { type BareRepo, commitFilesNow, fixtureGit, refuseWorkflowPushes } from '../support/git-fixtures.ts';

const FEATURES = [
  '001-demo',
  '002-moved',
  '003-conflict',
  '004-late',
  '005-late-conflict',
  '006-workflow',
  '007-credit',
  '008-elsewhere',
];
/** The example payload's sender (Codertocat) and their GitHub account id. */
const SENDER_ID = 21031067;

/** Codex adds a CI workflow with phase 1 (allowed by this repository's .github/speckit.yml). */
const WORKFLOW_PATCH = PHASE_1_PATCH.replace(
  '*** End Patch',
  '*** Add File: .github/workflows/ci.yml\n+on: push\n*** End Patch',
);

let world: DemoWorld;
let repo: BareRepo;
let github: DemoWorld['github'];
let harness: Harness;
/** Runs before the model answers a phase-2 request (the "while Codex runs" moment). */
let beforePhase2: (feature: string) => Promise<void> = async () => {};
/**
 * Runs once, synchronously, when the next publish step asks for its first
 * installation token — after apply committed, before publish reads the branch.
 */
let atPublish: (() => void) | null = null;
/** Installation tokens asked for since the armed publish started. */
let publishTokens = 0;
const publishing = new Set<string>();

/** Runs whose publish step has begun (its artifact directory exists). */
function publishStarted(): string[] {
  const root = harness.env.ARTIFACTS_DIR ?? '';
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((run) => existsSync(path.join(root, run, 'publish-1')));
}

function onGitHubRequest(method: string, p: string): void {
  if (method !== 'POST' || !p.endsWith('/access_tokens')) return;
  publishTokens += 1;
  if (!atPublish || publishStarted().every((run) => publishing.has(run))) return;
  const hook = atPublish;
  atPublish = null;
  publishTokens = 1;
  hook();
}

/** Arms `hook` for the next run's publish step. */
function whenPublishStarts(hook: () => void): void {
  for (const run of publishStarted()) publishing.add(run);
  atPublish = hook;
}

/** Adds the sender's account id to the stored trigger of the feature's run, as a webhook that records it would. */
async function recordSenderId(feature: string): Promise<void> {
  const run = await harness.prisma.specWorkflowRun.findFirstOrThrow({ where: { featureKey: feature } });
  const delivery = await harness.prisma.webhookDelivery.findUniqueOrThrow({
    where: { id: run.triggerDeliveryId ?? '' },
  });
  await harness.prisma.webhookDelivery.update({
    where: { id: delivery.id },
    data: { trigger: { ...(delivery.trigger as object), actorId: SENDER_ID } },
  });
}

async function artifactText(runId: string, artifactType: string): Promise<string> {
  const artifact = await harness.prisma.workflowArtifact.findFirstOrThrow({ where: { runId, artifactType } });
  return readFile(path.join(harness.env.ARTIFACTS_DIR ?? '', artifact.path), 'utf8');
}

const parents = async (sha: string) =>
  (await fixtureGit(['rev-list', '--parents', '-n', '1', sha], repo.bareDir)).split(' ').slice(1);

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
      if (feature === '007-credit') await recordSenderId(feature);
      return applyPatchCall(feature === '006-workflow' ? WORKFLOW_PATCH : PHASE_1_PATCH);
    },
    files: {
      ...Object.fromEntries(FEATURES.slice(1).map((feature) => [`specs/${feature}/tasks.md`, DEMO_TASKS])),
      '.github/speckit.yml': 'allow_workflow_changes: true\n',
    },
    onGitHubRequest,
  });
  ({ repo, github, harness } = world);
  // GitHub's answer to an App without the Workflows permission.
  await refuseWorkflowPushes(repo.bareDir);
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

  it('rebases the phase commit onto a commit that landed after apply, right before the push', async () => {
    expect(await world.run('004-late')).toMatchObject({ status: 'succeeded' });
    let late = '';
    whenPublishStarts(() => {
      late = commitFilesNow(repo.bareDir, 'speckit/004-late', { 'notes/late.md': 'Late review\n' }, 'Late');
    });
    const second = await world.run('004-late');
    expect(second).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    expect(late).toMatch(/^[0-9a-f]{40}$/);
    const [phase2] = await repo.log('speckit/004-late');
    expect(phase2?.subject).toBe('feat(004-late): phase 2 – User Story 1 - Farewell (Priority: P1)');
    expect(phase2?.body).toContain(`Speckit-Run: ${second.id}`);
    expect(await parents(phase2?.sha ?? '')).toEqual([late]);
    const tree = await repo.readTree('speckit/004-late');
    expect(tree['notes/late.md']?.trim()).toBe('Late review');
    expect(tree['src/bye.txt']?.trim()).toBe('Goodbye!');
    const publish = await harness.prisma.specWorkflowTaskState.findFirstOrThrow({
      where: { runId: second.id, taskName: 'publish', status: 'succeeded' },
    });
    expect(publish.payload).toMatchObject({ rebased: true, pushed: true, commitSha: phase2?.sha });
    // A fresh token for each remote operation: ls-remote, the clone, the push.
    expect(publishTokens).toBe(3);
    const log = await artifactText(second.id, 'gh_push_log');
    expect(log).toContain(`rebased onto ${late}; pushed ${phase2?.sha}`);
    expect(log).toContain('HEAD:refs/heads/speckit/004-late'); // git's porcelain status line
    // apply's workspace, not what the rebase needed, was removed with the others.
    expect(readdirSync(path.join(harness.env.WORK_DIR ?? '', second.id))).toEqual([]);
  });

  it('fails naming the file and keeps the phase patch when a commit after apply conflicts', async () => {
    expect(await world.run('005-late-conflict')).toMatchObject({ status: 'succeeded' });
    let human = '';
    whenPublishStarts(() => {
      human = commitFilesNow(repo.bareDir, 'speckit/005-late-conflict', {
        'src/bye.txt': 'A human wrote this farewell\n',
      });
    });
    const second = await world.run('005-late-conflict');
    expect(second).toMatchObject({ status: 'failed', conclusion: 'failure', errorStep: 'publish' });
    expect(second.errorMessage).toContain('Conflict while rebasing the phase onto speckit/005-late-conflict');
    expect(second.errorMessage).toContain('src/bye.txt changed on the branch too');
    expect(second.errorMessage).toContain("kept as the run's `phase.patch` artifact");
    expect(await repo.readBranch('speckit/005-late-conflict')).toBe(human);
    const patch = await artifactText(second.id, 'phase_patch');
    expect(patch).toContain('+Goodbye!');
    expect(patch).toContain('specs/005-late-conflict/tasks.md');
    const log = await artifactText(second.id, 'gh_push_log');
    expect(log).toContain(`speckit/005-late-conflict is at ${human}`);
    expect(log).toContain('failed: Conflict while rebasing');
  });

  it('says which permission is missing when GitHub refuses a workflow change, keeping the push log', async () => {
    const run = await world.run('006-workflow');
    expect(run).toMatchObject({ status: 'failed', conclusion: 'failure', errorStep: 'publish' });
    expect(run.errorMessage).toContain('changes `.github/workflows/ci.yml`');
    expect(run.errorMessage).toContain('**Workflows: read & write**');
    expect(run.errorMessage).toContain('README');
    expect(await repo.readBranch('speckit/006-workflow')).toBeNull();
    const log = await artifactText(run.id, 'gh_push_log');
    expect(log).toContain(
      'refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission',
    );
    expect(log).toContain('[remote rejected]');
  });

  it("pushes apply's own workspace when apply ran here, and rebuilds the same commit when it did not", async () => {
    const first = await world.run('008-elsewhere');
    expect(first).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    const codex = await harness.prisma.specWorkflowTaskState.findFirstOrThrow({
      where: { runId: first.id, taskName: 'codex', status: 'succeeded' },
    });
    expect(codex.payload).toMatchObject({ startedFrom: 'discover' });
    expect(await artifactText(first.id, 'gh_push_log')).toContain("from apply's workspace");
    // Every workspace handed on was taken and, the steps having succeeded, removed.
    const workDir = harness.env.WORK_DIR ?? '';
    expect(readdirSync(path.join(workDir, first.id))).toEqual([]);

    // As if apply had run on another machine: its workspace is not here when publish starts.
    whenPublishStarts(() => {
      for (const run of readdirSync(workDir)) {
        rmSync(path.join(workDir, run, 'handoff-apply'), { recursive: true, force: true });
      }
    });
    const second = await world.run('008-elsewhere');
    expect(second).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    const applied = await harness.prisma.stepOutput.findUniqueOrThrow({
      where: { runId_step: { runId: second.id, step: 'apply' } },
    });
    const [phase2] = await repo.log('speckit/008-elsewhere');
    expect(phase2?.sha).toBe((applied.data as { commitSha: string }).commitSha);
    const log = await artifactText(second.id, 'gh_push_log');
    expect(log).toContain(`pushed ${phase2?.sha} to speckit/008-elsewhere`);
    expect(log).not.toContain("from apply's workspace");
    // ls-remote, the clone it rebuilt in, the push.
    expect(publishTokens).toBe(3);
  });

  it("credits the person who asked with GitHub's <id>+<login> noreply address when the trigger has their id", async () => {
    const run = await world.run('007-credit');
    expect(run).toMatchObject({ status: 'succeeded' });
    const [commit] = await repo.log('speckit/007-credit');
    expect(commit?.body).toContain(
      `Co-authored-by: Codertocat <${SENDER_ID}+Codertocat@users.noreply.github.com>`,
    );
  });
});
