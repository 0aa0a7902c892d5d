// The `speckit:run` label on a pull request, GitHub's Re-run and the check
// run's buttons, and `--all` continuing with the next phase: through
// probot.receive() with GitHub's example payloads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIdForTrigger } from '../../src/chain/chain.ts';
import { continuationDeliveryId, continueAfterSuccess } from '../../src/chain/next-phase.ts';
import { runTriggerOptions } from '../../src/chain/trigger-options.ts';
import { removeTempDirs } from '../support/git-fixtures.ts';
import {
  type ControlHarness,
  checkRunEvent,
  insertRun,
  labeledEvent,
  lastComment,
  startControlHarness,
} from './support.ts';

const INSTALLATION_ID = 702;
let h: ControlHarness;

beforeAll(async () => {
  h = await startControlHarness({ installationId: INSTALLATION_ID });
});

afterAll(async () => {
  await h?.stop();
  await removeTempDirs();
});

async function settle(runId: string | null) {
  if (runId)
    await h.prisma.specWorkflowRun.update({
      where: { id: runId },
      data: { status: 'cancelled', conclusion: 'cancelled', finishedAt: new Date() },
    });
}

describe('the speckit:run label', () => {
  it("runs the next phase on a same-repository PR's head branch and removes the label", async () => {
    h.github.labels.set(7, ['speckit:run', 'enhancement']);
    const deliveryId = await h.receive(
      'pull_request',
      labeledEvent({ installationId: INSTALLATION_ID, headRef: '005-label' }),
    );
    const runId = await h.admit(deliveryId);
    expect(runId).toBe(runIdForTrigger(deliveryId));
    const run = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: runId ?? '' } });
    expect(run).toMatchObject({
      featureKey: '005-label',
      branchName: '005-label',
      issueNumber: 7,
      triggerKind: 'label',
    });
    expect(await runTriggerOptions(h.prisma, run)).toMatchObject({ headBranch: '005-label', draft: false });
    expect(h.github.labels.get(7)).toEqual(['enhancement']);
    expect(
      h.github.requests.some(
        (r) => r.method === 'DELETE' && r.path.endsWith('/issues/7/labels/speckit%3Arun'),
      ),
    ).toBe(true);
    await settle(runId);
  });

  it('refuses a fork PR with a reply and starts nothing', async () => {
    const before = h.github.requests.length;
    const deliveryId = await h.receive(
      'pull_request',
      labeledEvent({ installationId: INSTALLATION_ID, headRef: '006-fork', fork: true, number: 8 }),
    );
    expect(await h.admit(deliveryId)).toBeNull();
    expect(lastComment(h.github)).toContain('comes from a fork, so nothing was started');
    expect(await h.prisma.specWorkflowRun.count({ where: { featureKey: '006-fork' } })).toBe(0);
    const calls = h.github.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`);
    expect(calls.filter((c) => !c.includes('access_tokens'))).toEqual([
      'POST /repos/Codertocat/Hello-World/issues/8/comments',
    ]);
  });

  it('refuses a PR whose head is the default branch: phase commits never go onto it', async () => {
    const deliveryId = await h.receive(
      'pull_request',
      labeledEvent({ installationId: INSTALLATION_ID, headRef: 'master', number: 9 }),
    );
    expect(await h.admit(deliveryId)).toBeNull();
    expect(lastComment(h.github)).toContain(
      "this pull request's head branch is the default branch `master`, and the app never pushes phase commits onto the default branch",
    );
    expect(await h.prisma.specWorkflowRun.count({ where: { branchName: 'master' } })).toBe(0);
  });

  it('ignores other labels and refuses readers', async () => {
    const other = await h.receive(
      'pull_request',
      labeledEvent({ installationId: INSTALLATION_ID, headRef: '005-label', label: 'bug' }),
    );
    expect(await h.prisma.webhookDelivery.findUnique({ where: { id: other } })).toBeNull();
    const reader = await h.receive(
      'pull_request',
      labeledEvent({ installationId: INSTALLATION_ID, headRef: '005-label', sender: 'reader' }),
    );
    expect(await h.admit(reader)).toBeNull();
    expect(lastComment(h.github)).toContain('@reader only collaborators with write');
  });
});

describe('check run Re-run and buttons', () => {
  it('retries a failed run from its failed step on Re-run', async () => {
    const failed = await insertRun(h.prisma, {
      installationId: BigInt(INSTALLATION_ID),
      featureKey: '010-rerun',
      status: 'failed',
      conclusion: 'failure',
      currentStep: 'finalize',
      errorStep: 'apply',
      errorMessage: 'conflict',
      finishedAt: new Date(),
    });
    const id = await h.receive(
      'check_run',
      checkRunEvent('rerequested', { installationId: INSTALLATION_ID, externalId: failed.id }),
    );
    expect(await h.admit(id)).toBeNull();
    expect(await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: failed.id } })).toMatchObject({
      status: 'running',
      currentStep: 'apply',
    });
  });

  it('starts the next phase after a success, on the same branch and thread, keeping the options', async () => {
    const previous = await h.receive(
      'pull_request',
      labeledEvent({ installationId: INSTALLATION_ID, headRef: '011-next', number: 11 }),
    );
    const firstId = (await h.admit(previous)) ?? '';
    await h.prisma.specWorkflowRun.update({
      where: { id: firstId },
      data: { status: 'succeeded', conclusion: 'success', currentStep: 'finalize', finishedAt: new Date() },
    });
    const rerun = await h.receive(
      'check_run',
      checkRunEvent('rerequested', { installationId: INSTALLATION_ID, externalId: firstId }),
    );
    const nextId = await h.admit(rerun);
    const next = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: nextId ?? '' } });
    expect(next).toMatchObject({
      featureKey: '011-next',
      branchName: '011-next',
      issueNumber: 11,
      triggerKind: 'check_run',
    });
    expect(await runTriggerOptions(h.prisma, next)).toMatchObject({ headBranch: '011-next', all: false });
    await h.prisma.specWorkflowRun.update({
      where: { id: next.id },
      data: { status: 'succeeded', conclusion: 'success', finishedAt: new Date() },
    });

    const all = await h.receive(
      'check_run',
      checkRunEvent('requested_action', {
        installationId: INSTALLATION_ID,
        externalId: next.id,
        identifier: 'run_all',
      }),
    );
    const allId = await h.admit(all);
    const allRun = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: allId ?? '' } });
    expect(await runTriggerOptions(h.prisma, allRun)).toMatchObject({ all: true, headBranch: '011-next' });
    await settle(allId);
  });

  it('does nothing for a Retry on a successful run, a foreign check run, or a reader', async () => {
    const done = await insertRun(h.prisma, {
      installationId: BigInt(INSTALLATION_ID),
      featureKey: '012-done',
      status: 'succeeded',
      conclusion: 'success',
      finishedAt: new Date(),
    });
    const retry = await h.receive(
      'check_run',
      checkRunEvent('requested_action', {
        installationId: INSTALLATION_ID,
        externalId: done.id,
        identifier: 'retry',
      }),
    );
    expect(await h.admit(retry)).toBeNull();
    const foreign = await h.receive(
      'check_run',
      checkRunEvent('rerequested', {
        installationId: INSTALLATION_ID,
        externalId: done.id,
        name: 'CI / build',
      }),
    );
    expect(await h.prisma.webhookDelivery.findUnique({ where: { id: foreign } })).toBeNull();
    const reader = await h.receive(
      'check_run',
      checkRunEvent('rerequested', {
        installationId: INSTALLATION_ID,
        externalId: done.id,
        sender: 'reader',
      }),
    );
    expect(await h.admit(reader)).toBeNull();
    expect(lastComment(h.github)).toContain('@reader only collaborators with write');
    expect(await h.prisma.specWorkflowRun.count({ where: { featureKey: '012-done' } })).toBe(1);
  });
});

describe('--all', () => {
  it('starts the next phase once after a success, and stops after anything else', async () => {
    const first = await h.receive(
      'pull_request',
      labeledEvent({ installationId: INSTALLATION_ID, headRef: '013-all', number: 13 }),
    );
    const firstId = (await h.admit(first)) ?? '';
    await h.prisma.webhookDelivery.update({
      where: { id: first },
      data: {
        trigger: {
          ...((await h.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: first } })).trigger as object),
          all: true,
          draft: true,
        },
      },
    });
    const succeeded = await h.prisma.specWorkflowRun.update({
      where: { id: firstId },
      data: { status: 'succeeded', conclusion: 'success', finishedAt: new Date() },
    });
    expect(await continueAfterSuccess(h, succeeded)).toBe('accepted');
    expect(await continueAfterSuccess(h, succeeded)).toBe('duplicate');
    const nextId = await h.admit(continuationDeliveryId(firstId));
    const next = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: nextId ?? '' } });
    expect(next).toMatchObject({
      featureKey: '013-all',
      branchName: '013-all',
      issueNumber: 13,
      triggerKind: 'continuation',
    });
    expect(await runTriggerOptions(h.prisma, next)).toEqual({
      codexMode: null,
      draft: true,
      all: true,
      headBranch: '013-all',
      // Carried over from the first trigger: who asked, for Co-authored-by.
      actorId: expect.any(Number),
    });

    const neutral = await h.prisma.specWorkflowRun.update({
      where: { id: next.id },
      data: { status: 'succeeded', conclusion: 'neutral', finishedAt: new Date() },
    });
    expect(await continueAfterSuccess(h, neutral)).toBe('not_asked');
  });
});
