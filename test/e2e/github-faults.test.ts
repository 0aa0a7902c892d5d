// GitHub misbehaving: failed progress reports never fail the run's work,
// 5xx answers on the calls that create things (check run, comment, PR) are
// retried without duplicates, and an installation that is gone fails the run
// at once with what to do. The last run has Octokit's retry plugin on, as in
// production, and shows the backoff happening inside the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/chain/runs.ts';
import { DEMO_FILES, DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import {
  applyPatchCall,
  type FakeModelServer,
  finalMessage,
  isToolFollowUp,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { type FakeGitHub, mockGitHub, type RecordedRequest } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const respond = ({ body }: { body: unknown }) =>
  isToolFollowUp(body) ? finalMessage('Done.') : applyPatchCall(PHASE_1_PATCH);

/** The calls that create or settle what a run shows on GitHub. */
const CREATING_CALLS = [
  { name: 'POST check-runs', feature: '010-check-run', method: 'POST', path: /\/check-runs$/ },
  { name: 'POST issue comment', feature: '011-comment', method: 'POST', path: /\/issues\/\d+\/comments$/ },
  {
    name: 'PATCH issue comment',
    feature: '012-comment-edit',
    method: 'PATCH',
    path: /\/issues\/comments\/\d+$/,
  },
  { name: 'POST pulls', feature: '013-pulls', method: 'POST', path: /\/pulls$/ },
] as const;

/** Exactly one PR for the feature and one check run per commit for the run, all settled as a success. */
function expectOneOfEach(github: FakeGitHub, run: Run, feature: string): void {
  expect(github.pulls.filter((pr) => pr.head.ref === `speckit/${feature}`)).toHaveLength(1);
  const checkRuns = [...github.checkRuns.values()].filter((c) => c.external_id === run.id);
  // The run's check run, and the completed one on the PR's head commit.
  expect(new Set(checkRuns.map((c) => c.head_sha)).size).toBe(checkRuns.length);
  expect(checkRuns).toHaveLength(2);
  for (const checkRun of checkRuns)
    expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success' });
  expect(github.comments.get(Number(run.progressCommentId))?.body).toContain('is done');
}

const statuses = (served: RecordedRequest[]) => served.map((r) => r.status).join(', ');

describe('GitHub faults', () => {
  let world: DemoWorld;

  beforeAll(async () => {
    const files: Record<string, string> = {
      'specs/002-gone/tasks.md': DEMO_TASKS,
      'specs/003-limited/tasks.md': DEMO_TASKS,
      'specs/005-applied/tasks.md': DEMO_TASKS,
      'specs/006-applied-comment/tasks.md': DEMO_TASKS,
    };
    for (const call of CREATING_CALLS) files[`specs/${call.feature}/tasks.md`] = DEMO_TASKS;
    world = await startDemoWorld({ installationId: 87, respond, files });
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('keeps the run going when progress reports fail, and settles the check run in the end', async () => {
    const { github, harness } = world;
    // Three 502s on check-run updates: the in-progress reports are lost,
    // finalize's report is retried until it lands.
    github.injectFault({ method: 'PATCH', path: /\/check-runs\/\d+$/, status: 502, times: 3 });
    const result = await world.settled(await world.comment('/speckit run 001-demo'));
    console.log(
      `injected: ${github.faultsServed.length} × 502 on PATCH check-runs; observed: run ${result.status}, check run ${
        [...github.checkRuns.values()].find((c) => c.external_id === result.id)?.status
      }`,
    );
    expect(github.faultsServed.length).toBe(3);
    expect(result).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    const checkRun = [...github.checkRuns.values()].find((c) => c.external_id === result.id);
    expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success' });
    const work = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: result.id, taskName: { in: ['codex', 'apply', 'publish'] } },
    });
    expect(work.every((a) => a.status === 'succeeded')).toBe(true);
  });

  for (const call of CREATING_CALLS) {
    it(`retries a 500 and a 502 on ${call.name} without duplicates, and the final report lands`, async () => {
      const { github, harness } = world;
      const served = github.faultsServed.length;
      github.injectFault({ method: call.method, path: call.path, status: 500, times: 1 });
      github.injectFault({ method: call.method, path: call.path, status: 502, times: 1 });
      const run = await world.run(call.feature);
      const faults = github.faultsServed.slice(served);
      const attempts = await harness.prisma.specWorkflowTaskState.findMany({
        where: { runId: run.id },
        orderBy: { id: 'asc' },
      });
      console.log(
        `injected: ${statuses(faults)} on ${call.name}; observed: run ${run.status}, ` +
          `${github.pulls.filter((pr) => pr.head.ref === `speckit/${call.feature}`).length} PR, ` +
          `${[...github.checkRuns.values()].filter((c) => c.external_id === run.id).length} check runs (run + PR head), ` +
          `attempts ${attempts.map((a) => `${a.taskName}#${a.attempt}:${a.status}`).join(' ')}`,
      );
      expect(statuses(faults)).toBe('500, 502');
      expect(run).toMatchObject({ status: 'succeeded', conclusion: 'success' });
      expectOneOfEach(github, run, call.feature);
      expect(attempts.filter((a) => a.status === 'running')).toEqual([]);
    });
  }

  it('creates no second check run or PR when GitHub did the write but answered 502', async () => {
    const { github } = world;
    const served = github.faultsServed.length;
    // The write happens, the answer is lost: the retried step must find what it made.
    github.injectFault({ method: 'POST', path: /\/check-runs$/, status: 502, times: 1, applied: true });
    github.injectFault({ method: 'POST', path: /\/pulls$/, status: 502, times: 1, applied: true });
    const run = await world.run('005-applied');
    const faults = github.faultsServed.slice(served);
    console.log(
      `injected: ${faults.length} × 502 after the write (POST check-runs, POST pulls); observed: run ${run.status}, ` +
        `${github.pulls.filter((pr) => pr.head.ref === 'speckit/005-applied').length} PR, ` +
        `${[...github.checkRuns.values()].filter((c) => c.external_id === run.id).length} check runs (run + PR head)`,
    );
    expect(faults).toHaveLength(2);
    expect(run).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    expectOneOfEach(github, run, '005-applied');
  });

  // A retried intake looks for the comment that names its run before making one.
  it('posts no second progress comment when GitHub made one but answered 502', async () => {
    const { github } = world;
    const before = github.comments.size;
    github.injectFault({
      method: 'POST',
      path: /\/issues\/\d+\/comments$/,
      status: 502,
      times: 1,
      applied: true,
    });
    const run = await world.run('006-applied-comment');
    const made = [...github.comments.values()].slice(before);
    console.log(
      `injected: 502 after the write on POST issue comment; observed: run ${run.status}, ${made.length} progress comment(s): ` +
        made.map((c) => JSON.stringify(String(c.body).split('\n')[2])).join(', '),
    );
    expect(run.status).toBe('succeeded');
    expect(made).toHaveLength(1);
  });

  it('waits out secondary rate limits (403 with retry-after) and retries, without duplicates', async () => {
    const { github, harness } = world;
    const served = github.faultsServed.length;
    const limit = {
      status: 403,
      times: 1,
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      headers: { 'retry-after': '1' },
    };
    github.injectFault({ ...limit, method: 'POST', path: /\/check-runs$/ });
    github.injectFault({ ...limit, method: 'PATCH', path: /\/issues\/comments\/\d+$/ });
    github.injectFault({ ...limit, method: 'POST', path: /\/pulls$/ });
    const result = await world.settled(await world.comment('/speckit run 003-limited'));
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({ where: { runId: result.id } });
    console.log(
      `injected: ${github.faultsServed.length - served} × 403 secondary rate limit (retry-after: 1); observed: run ${result.status}, ` +
        `${attempts.filter((a) => a.attempt > 1).length} step retries`,
    );
    expect(github.faultsServed.length - served).toBe(3);
    expect(result).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    expect(github.pulls.filter((pr) => pr.head.ref === 'speckit/003-limited')).toHaveLength(1);
    const checkRuns = [...github.checkRuns.values()].filter((c) => c.external_id === result.id);
    expect(checkRuns.map((c) => c.status)).toEqual(['completed', 'completed']);
    // No step had to be retried: the request itself was.
    expect(attempts.every((a) => a.attempt === 1 && a.status === 'succeeded')).toBe(true);
  });

  for (const status of [401, 404] as const) {
    it(`fails at once with remediation when GitHub answers ${status} on the installation token`, async () => {
      const { github, harness } = world;
      // Probot still holds the token it cached for API calls during the
      // first test; the fresh token discover asks for, for git, is refused as
      // for an uninstalled (404) or suspended/revoked (401) installation.
      const served = github.faultsServed.length;
      github.injectFault({ method: 'POST', path: /\/access_tokens$/, status, times: 100 });
      const deliveryId = await world.comment(`/speckit run 002-gone`, `token-${status}`);
      const result = await world.settled(deliveryId);
      github.clearFaults();
      const attempts = await harness.prisma.specWorkflowTaskState.findMany({
        where: { runId: result.id, taskName: 'discover' },
      });
      const seconds = ((result.finishedAt?.getTime() ?? 0) - (result.startedAt?.getTime() ?? 0)) / 1000;
      console.log(
        `injected: ${status} on POST access_tokens (${github.faultsServed.length - served} served); observed: run ${result.status} ` +
          `(${result.errorCode}) in ${seconds} s after ${attempts.length} discover attempt(s)`,
      );
      expect(result).toMatchObject({
        status: 'failed',
        conclusion: 'failure',
        errorCode: 'installation_gone',
      });
      expect(result.errorMessage).toContain('Reinstall the app');
      expect(attempts.map((a) => a.status)).toEqual(['failed']);
      // Fast: no retries with backoff were spent on it.
      expect(github.faultsServed.length - served).toBe(1);
      expect(seconds).toBeLessThan(30);
      const checkRun = github.checkRuns.get(Number(result.checkRunId));
      expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'failure' });
    });
  }
});

describe('GitHub 5xx with Octokit’s retry plugin on (as in production)', () => {
  let model: FakeModelServer;
  let repo: BareRepo;
  let github: ReturnType<typeof mockGitHub>;
  let harness: Harness;

  beforeAll(async () => {
    model = await startFakeModelServer(respond);
    repo = await createBareRepo({
      files: { ...DEMO_FILES, 'specs/002-applied/tasks.md': DEMO_TASKS },
      branch: 'master',
    });
    github = mockGitHub({
      owner: 'Codertocat',
      name: 'Hello-World',
      installationId: 91,
      roles: { Codertocat: 'admin' },
      branchSha: (branch) => repo.readBranch(branch),
    });
    harness = await startHarness({ modelUrl: model.url, githubRetry: true });
  });

  afterAll(async () => {
    await harness?.stop();
    github?.done();
    await model?.close();
    await removeTempDirs();
  });

  it('retries with backoff within the step: no step is retried, nothing is duplicated', async () => {
    for (const call of CREATING_CALLS) {
      github.injectFault({ method: call.method, path: call.path, status: 500, times: 1 });
      github.injectFault({ method: call.method, path: call.path, status: 502, times: 1 });
    }
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'retry-plugin-1',
      payload: commentPayload({ body: '/speckit run 001-demo', cloneUrl: repo.cloneUrl, installationId: 91 }),
    });
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst({
        where: { triggerDeliveryId: 'retry-plugin-1' },
      });
      return found && ['succeeded', 'failed', 'cancelled'].includes(found.status) ? found : null;
    }, 120_000);
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id },
      orderBy: { id: 'asc' },
    });
    // For each call: the first fault, the second, and the request that got through.
    const backoffs = CREATING_CALLS.map((call) => {
      const faults = github.faultsServed.filter((r) => r.method === call.method && call.path.test(r.path));
      const through = github.requests.find(
        (r) => r.method === call.method && call.path.test(r.path) && r.at >= (faults[1]?.at ?? Infinity),
      );
      return {
        call: call.name,
        faults: statuses(faults),
        first: (faults[1]?.at ?? 0) - (faults[0]?.at ?? 0),
        second: (through?.at ?? 0) - (faults[1]?.at ?? 0),
      };
    });
    console.log(
      `injected: 500 then 502 on ${CREATING_CALLS.map((c) => c.name).join(', ')}; observed: run ${run.status}; ` +
        backoffs
          .map((b) => `${b.call}: ${b.faults} → retried after ${b.first} ms, then ${b.second} ms`)
          .join('; ') +
        `; attempts ${attempts.map((a) => `${a.taskName}#${a.attempt}:${a.status}`).join(' ')}`,
    );
    expect(run).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    // The retries happened in the requests: every step succeeded on its first attempt.
    expect(attempts.every((a) => a.attempt === 1 && a.status === 'succeeded')).toBe(true);
    for (const backoff of backoffs) {
      expect(backoff.faults).toBe('500, 502');
      // Octokit waits 1 s, then 4 s (retryAfterBaseValue × retryCount²); lower bounds only.
      expect(backoff.first).toBeGreaterThanOrEqual(900);
      expect(backoff.second).toBeGreaterThanOrEqual(3_500);
    }
    expectOneOfEach(github, run, '001-demo');
    expect(github.comments.size).toBe(1);
  }, 150_000);

  it('makes no second check run or comment when GitHub made one and answered 502 (no blind resend)', async () => {
    const comments = github.comments.size;
    for (const path of [/\/check-runs$/, /\/issues\/\d+\/comments$/])
      github.injectFault({ method: 'POST', path, status: 502, times: 1, applied: true });
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'retry-plugin-applied',
      payload: commentPayload({
        body: '/speckit run 002-applied',
        cloneUrl: repo.cloneUrl,
        installationId: 91,
      }),
    });
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst({
        where: { triggerDeliveryId: 'retry-plugin-applied' },
      });
      return found && ['succeeded', 'failed', 'cancelled'].includes(found.status) ? found : null;
    }, 120_000);
    const made = [...github.comments.values()].slice(comments);
    const checkRuns = [...github.checkRuns.values()].filter((c) => c.external_id === run.id);
    console.log(
      `injected: 502 after the write on POST check-runs and POST issue comment, Octokit retry on; observed: run ${run.status}, ` +
        `${checkRuns.length} check runs (run + PR head), ${made.length} progress comment(s)`,
    );
    expect(run).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    expectOneOfEach(github, run, '002-applied');
    expect(made).toHaveLength(1);
  }, 150_000);
});
