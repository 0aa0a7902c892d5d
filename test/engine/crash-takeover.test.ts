// A worker process is SIGKILLed while Codex runs; a new worker process takes
// the step over within the configured time and completes the run exactly
// once, and no Codex process outlives the killed worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  type FakeModelServer,
  finalMessage,
  hang,
  isToolFollowUp,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { startFakeGitHubServer } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';
import { findProcesses, spawnWorker, type WorkerProcess } from '../support/worker-process.ts';

const INSTALLATION_ID = 77;

let model: FakeModelServer;
let repo: BareRepo;
let github: Awaited<ReturnType<typeof startFakeGitHubServer>>;
let harness: Harness;
const workers: WorkerProcess[] = [];
let codexStarted!: () => void;
const firstCodexRequest = new Promise<void>((resolve) => {
  codexStarted = resolve;
});

beforeAll(async () => {
  let turns = 0;
  model = await startFakeModelServer(({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Implemented Phase 1.');
    turns += 1;
    if (turns === 1) {
      codexStarted();
      return hang(); // the first Codex run never gets an answer: its worker is killed
    }
    return applyPatchCall(PHASE_1_PATCH);
  });
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  github = await startFakeGitHubServer({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'write' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url, workers: false, githubHost: github.host });
});

afterAll(async () => {
  for (const worker of workers) worker.child.kill('SIGKILL');
  await harness?.stop();
  await github?.close();
  await model?.close();
  await removeTempDirs();
});

describe('a worker killed in the middle of the Codex step', () => {
  it('is taken over by a new worker process that completes the run exactly once', async () => {
    const first = spawnWorker(harness.env);
    workers.push(first);
    const masterBefore = await repo.readBranch('master');
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      payload: commentPayload({
        body: '/speckit run 001-demo',
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    await firstCodexRequest;
    const codexBefore = findProcesses('codex', 'exec', harness.root);
    expect(codexBefore.length, first.output()).toBeGreaterThan(0);

    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await first.exited).toBe('SIGKILL');
    // The kernel kills Codex with its parent (setpriv --pdeathsig KILL).
    await waitFor(async () => findProcesses('codex', 'exec', harness.root).length === 0, 5_000);

    const second = spawnWorker(harness.env);
    workers.push(second);
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst({ where: { featureKey: '001-demo' } });
      return found && ['succeeded', 'failed', 'cancelled'].includes(found.status) ? found : null;
    }, 120_000).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n--- first worker ---\n${first.output()}\n--- second worker ---\n${second.output()}`,
      );
    });
    expect(run, second.output()).toMatchObject({ status: 'succeeded', conclusion: 'success' });

    const codexAttempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id, taskName: 'codex' },
      orderBy: { attempt: 'asc' },
    });
    expect(codexAttempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(codexAttempts[0]?.payload).toMatchObject({ error_code: 'worker_lost' });
    const takeoverMs = (codexAttempts[1]?.startedAt?.getTime() ?? 0) - killedAt;
    expect(takeoverMs).toBeLessThan(120_000);

    // Exactly once: one commit on the branch, one PR request, one check run completed, one comment.
    const log = await repo.log('speckit/001-demo');
    expect(log[1]?.sha).toBe(masterBefore);
    expect(log.filter((commit) => commit.body.includes(`Speckit-Run: ${run.id}`))).toHaveLength(1);
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'))).toHaveLength(1);
    // One check run for the run, plus the completed one on the PR's head commit.
    const checkRuns = [...github.checkRuns.values()];
    expect(checkRuns).toHaveLength(2);
    for (const checkRun of checkRuns) {
      expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success', external_id: run.id });
    }
    expect(checkRuns[1]?.head_sha).toBe(run.headSha);
    // The progress comment is final, and no attempt of the run is left running.
    expect(github.comments.size).toBe(1);
    const comment = github.comments.get(Number(run.progressCommentId))?.body as string;
    expect(comment).toContain('is done');
    // Final: no status line or step still waiting or working (finalize's own row included).
    expect(comment).not.toMatch(/\*\*(Working|Queued|Cancelling)\*\*/);
    expect(comment.split('\n').filter((line) => /⏳|🔄/.test(line))).toEqual([]);
    expect(comment).toMatch(/- \[x\] finalize — ✅ succeeded/);
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id },
      orderBy: { id: 'asc' },
    });
    console.log(
      `injected: SIGKILL of the worker mid-Codex; observed: run ${run.status}, takeover after ${takeoverMs} ms, ` +
        `${checkRuns.filter((c) => c.status === 'completed').length}/${checkRuns.length} check runs completed, ` +
        `comment final: ${comment.includes('is done')}, attempts ${attempts.map((a) => `${a.taskName}#${a.attempt}:${a.status}`).join(' ')}`,
    );
    expect(attempts.filter((a) => a.status === 'running')).toEqual([]);
    expect(github.unmatched).toEqual([]);
    expect(findProcesses('codex', 'exec', harness.root)).toEqual([]);
  }, 180_000);
});
