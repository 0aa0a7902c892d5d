// Every comment command through probot.receive() with GitHub's example
// payload: what is recorded, who may do what, the 👀, and the replies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIdForTrigger } from '../../src/chain/chain.ts';
import { DEMO_TASKS } from '../fixtures/demo-repo.ts';
import { removeTempDirs } from '../support/git-fixtures.ts';
import {
  type ControlHarness,
  commentAndAdmit,
  commentEvent,
  insertRun,
  startControlHarness,
} from './support.ts';

const INSTALLATION_ID = 701;
let h: ControlHarness;

beforeAll(async () => {
  h = await startControlHarness({
    installationId: INSTALLATION_ID,
    readFile: async (ref, path) =>
      ref === 'master' && path === 'specs/001-demo/tasks.md' ? DEMO_TASKS : null,
  });
});

afterAll(async () => {
  await h?.stop();
  await removeTempDirs();
});

function comment(body: string, options: { sender?: string; pullRequest?: boolean; issue?: number } = {}) {
  return commentAndAdmit(h, body, { installationId: INSTALLATION_ID, ...options });
}

describe('comment commands', () => {
  it('answers /speckit help with the usage and an 👀', async () => {
    const result = await comment('/speckit help');
    expect(result.eyes).toBe(1);
    expect(result.reply).toContain(
      '/speckit run <feature> [--all|--once] [--phase N] [--draft] [--cloud|--local]',
    );
    expect(result.reply).toContain('/speckit retry [run-id|feature]');
  });

  it('starts a run with its options stored on the trigger for the steps', async () => {
    const result = await comment('/SpecKit RUN 001-demo --all --draft --cloud', { sender: 'writer' });
    expect(result.eyes).toBe(1);
    expect(result.runId).toBe(runIdForTrigger(result.deliveryId));
    expect(result.recorded?.trigger).toMatchObject({
      kind: 'comment',
      codexMode: 'cloud',
      draft: true,
      all: true,
    });
    const run = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: result.runId ?? '' } });
    expect(run).toMatchObject({
      featureKey: '001-demo',
      branchName: 'speckit/001-demo',
      triggerActor: 'writer',
    });
    // Admission again (a retried intake job) finds the run and says nothing more.
    const comments = h.github.comments.size;
    expect(await h.admit(result.deliveryId)).toBe(result.runId);
    expect(h.github.comments.size).toBe(comments);
    await h.prisma.specWorkflowRun.update({
      where: { id: run.id },
      data: { status: 'cancelled', finishedAt: new Date() },
    });
  });

  it('lets maintainers and admins run, and refuses triage, read and strangers', async () => {
    for (const [sender, allowed] of [
      ['Codertocat', true],
      ['maintainer', true],
      ['triager', false],
      ['reader', false],
      ['stranger', false],
    ] as const) {
      const result = await comment('/speckit run 001-demo', { sender });
      if (allowed) {
        expect(result.runId, sender).not.toBeNull();
        expect(result.eyes).toBe(1);
        await h.prisma.specWorkflowRun.update({
          where: { id: result.runId ?? '' },
          data: { status: 'cancelled', finishedAt: new Date() },
        });
      } else {
        expect(result.runId, sender).toBeNull();
        expect(result.eyes).toBe(0);
        expect(result.reply).toContain(`@${sender} only collaborators with write, maintain or admin access`);
      }
    }
  });

  it('lets anyone ask for plan and status', async () => {
    const plan = await comment('/speckit plan 001-demo', { sender: 'reader' });
    expect(plan.eyes).toBe(1);
    expect(plan.reply).toContain('**Next: Phase 1: Setup**');
    const status = await comment('/speckit status 001-demo', { sender: 'stranger' });
    expect(status.eyes).toBe(1);
    expect(status.reply).toContain('### Spec Kit status · `001-demo`');
    expect(status.reply).toContain('| run | feature | phase | state | started by | links |');
    expect(status.reply).toContain('🚫 cancelled');
  });

  it('retries the failed run of a feature from its failed step', async () => {
    const failed = await insertRun(h.prisma, {
      installationId: BigInt(INSTALLATION_ID),
      featureKey: '002-retry',
      status: 'failed',
      conclusion: 'failure',
      currentStep: 'finalize',
      errorStep: 'codex',
      errorCode: 'codex_failed',
      errorMessage: 'Codex failed.',
      finishedAt: new Date(),
    });
    const denied = await comment('/speckit retry 002-retry', { sender: 'reader' });
    expect(denied.reply).toContain('can retry Spec Kit runs');
    const result = await comment('/speckit retry 002-retry', { sender: 'writer' });
    expect(result.eyes).toBe(1);
    expect(result.reply).toContain(`retrying run \`${failed.id}\``);
    const run = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: failed.id } });
    expect(run).toMatchObject({ status: 'running', currentStep: 'codex', errorMessage: null });
    const again = await comment(`/speckit retry ${failed.id}`, { sender: 'writer' });
    expect(again.reply).toContain('cannot be retried: Only failed runs can be retried; this run is running.');
    const none = await comment('/speckit retry 009-none', { sender: 'writer' });
    expect(none.reply).toContain('There is no failed run for `009-none`');
  });

  it('cancels the active run of this thread', async () => {
    const active = await insertRun(h.prisma, {
      installationId: BigInt(INSTALLATION_ID),
      featureKey: '003-cancel',
      status: 'running',
      currentStep: 'codex',
      issueNumber: 42,
    });
    const result = await comment('/speckit cancel', { sender: 'maintainer', issue: 42 });
    expect(result.eyes).toBe(1);
    expect(result.reply).toContain(`cancelling run \`${active.id}\``);
    expect(await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: active.id } })).toMatchObject({
      status: 'cancelling',
    });
    const none = await comment('/speckit cancel 009-none', { sender: 'maintainer' });
    expect(none.reply).toContain('There is no active run for `009-none`');
  });

  it('reads the feature of a run without one from the pull request branch', async () => {
    h.github.pulls.push({
      number: 55,
      state: 'open',
      head: { ref: 'speckit/004-pr', sha: 'c'.repeat(40), repo: { full_name: 'Codertocat/Hello-World' } },
      base: { ref: 'master' },
      html_url: 'https://github.com/Codertocat/Hello-World/pull/55',
    });
    const result = await comment('/speckit run', { pullRequest: true, issue: 55 });
    const run = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: result.runId ?? '' } });
    expect(run.featureKey).toBe('004-pr');
    expect(run.issueNumber).toBe(55);
  });

  it("runs a command written on a same-repository PR on that PR's head branch", async () => {
    const pr = (number: number, ref: string, state = 'open') => ({
      number,
      state,
      head: { ref, sha: 'd'.repeat(40), repo: { full_name: 'Codertocat/Hello-World' } },
      base: { ref: 'master' },
      html_url: `https://github.com/Codertocat/Hello-World/pull/${number}`,
    });
    h.github.pulls.push(
      pr(56, 'alice/greeting'),
      pr(57, '005-spec'),
      pr(58, 'bob/closed', 'closed'),
      pr(60, 'master'),
      pr(61, 'speckit/004-pr'),
    );
    const cases = [
      // A person's branch: the named feature, their branch.
      { body: '/speckit run 001-demo', issue: 56, featureKey: '001-demo', branchName: 'alice/greeting' },
      // The Spec Kit feature branch itself names the feature.
      { body: '/speckit run', issue: 57, featureKey: '005-spec', branchName: '005-spec' },
      // A closed PR's branch is left alone: the bot's own branch for the feature.
      { body: '/speckit run 001-demo', issue: 58, featureKey: '001-demo', branchName: 'speckit/001-demo' },
      // The default branch is never pushed to: the bot's own branch again.
      { body: '/speckit run 001-demo', issue: 60, featureKey: '001-demo', branchName: 'speckit/001-demo' },
      // Another feature's branch is left to that feature.
      { body: '/speckit run 001-demo', issue: 61, featureKey: '001-demo', branchName: 'speckit/001-demo' },
    ];
    for (const { body, issue, featureKey, branchName } of cases) {
      const result = await comment(body, { pullRequest: true, issue });
      const run = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: result.runId ?? '' } });
      expect(run, `#${issue}`).toMatchObject({ featureKey, branchName, issueNumber: issue });
      await h.prisma.specWorkflowRun.update({
        where: { id: run.id },
        data: { status: 'cancelled', finishedAt: new Date() },
      });
    }
  });

  it('refuses a run asked for on a pull request from a fork, explaining why', async () => {
    h.github.pulls.push({
      number: 59,
      state: 'open',
      head: { ref: '001-demo', sha: 'e'.repeat(40), repo: { full_name: 'someone/Hello-World' } },
      base: { ref: 'master' },
      html_url: 'https://github.com/Codertocat/Hello-World/pull/59',
    });
    const runs = await h.prisma.specWorkflowRun.count();
    const result = await comment('/speckit run 001-demo', { pullRequest: true, issue: 59 });
    expect(result.runId).toBeNull();
    expect(result.reply).toContain('@Codertocat Spec Kit runs only on pull requests whose branch is in');
    expect(result.reply).toContain('comes from a fork, so nothing was started');
    expect(result.reply).toContain('never pushes to a fork or runs its code');
    expect(await h.prisma.specWorkflowRun.count()).toBe(runs);
    // Asking about the plan is still fine: it reads nothing of the fork.
    const plan = await comment('/speckit plan 001-demo', { pullRequest: true, issue: 59 });
    expect(plan.reply).toContain('**Next: Phase 1: Setup**');
  });

  it('answers unknown commands and bad arguments with the usage', async () => {
    const unknown = await comment('/speckit deploy prod');
    expect(unknown.reply).toContain('Unknown command `deploy`');
    expect(unknown.reply).toContain('Usage');
    expect(unknown.eyes).toBe(0);
    const bad = await comment('/speckit run 001-demo --fast');
    expect(bad.reply).toContain('`--fast`');
    const twice = await comment('/speckit status a b');
    expect(twice.reply).toContain('takes one feature');
  });

  it('ignores bots, quoted and fenced commands, and commands after the first line', async () => {
    for (const body of [
      '> /speckit run 001-demo',
      '```\n/speckit run 001-demo\n```',
      '    /speckit run 001-demo',
      'Thanks!\n/speckit run 001-demo',
    ]) {
      const result = await comment(body);
      expect(result.recorded, body).toBeNull();
    }
    const bot = await comment('/speckit run 001-demo', { sender: 'speckit-bot[bot]' });
    expect(bot.recorded).not.toBeNull(); // a user named like a bot is still a user…
    const payload = commentEvent('/speckit run 001-demo', {
      installationId: INSTALLATION_ID,
      senderType: 'Bot',
    });
    const id = await h.receive('issue_comment', payload);
    expect(await h.prisma.webhookDelivery.findUnique({ where: { id } })).toBeNull(); // …a Bot is not.
  });
});
