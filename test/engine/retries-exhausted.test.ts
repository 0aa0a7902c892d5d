// A step that really runs out of retries: the worker process holding the
// Codex step dies (SIGKILL, like an out-of-memory kill) on every attempt.
// pg-boss takes the step over each time until its retries are spent, then
// dead-letters the job; the dead-letter handler (or the reconciler) settles
// the run — failed with the reason — and finalize completes the check run
// and the progress comment. No fifth attempt, nothing left running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_LIMIT } from '../../src/chain/worker.ts';
import { DEMO_FILES } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
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

const INSTALLATION_ID = 93;

let model: FakeModelServer;
let repo: BareRepo;
let github: Awaited<ReturnType<typeof startFakeGitHubServer>>;
let harness: Harness;
let worker: WorkerProcess;
const outputs: string[] = [];
const kills: number[] = [];

/** Kills the worker holding the Codex step and starts the next one once it is gone. */
function killWorker(): void {
  const victim = worker;
  kills.push(Date.now());
  victim.child.kill('SIGKILL');
  void victim.exited.then(() => {
    outputs.push(victim.output());
    worker = spawnWorker(harness.env);
  });
}

beforeAll(async () => {
  model = await startFakeModelServer(({ body }) => {
    if (isToolFollowUp(body)) return finalMessage('Done.');
    // Every Codex attempt kills its worker: the step can never finish.
    killWorker();
    return hang();
  });
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  github = await startFakeGitHubServer({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url, workers: false, githubHost: github.host });
  worker = spawnWorker(harness.env);
});

afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await harness?.stop();
  await github?.close();
  await model?.close();
  await removeTempDirs();
});

describe('a step that exhausts its retries', () => {
  it('is settled as failed with the reason, its check run completed and its comment final', async () => {
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'exhausted-1',
      payload: commentPayload({
        body: '/speckit run 001-demo',
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst({ where: { featureKey: '001-demo' } });
      return found && ['succeeded', 'failed', 'cancelled'].includes(found.status) ? found : null;
    }, 240_000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${[...outputs, worker.output()].join('\n---\n')}`);
    });
    // Finalize reports after the run is settled: wait for the check run to say so.
    await waitFor(async () => github.checkRuns.get(Number(run.checkRunId))?.status === 'completed', 30_000);
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id },
      orderBy: { id: 'asc' },
    });
    const codex = attempts.filter((a) => a.taskName === 'codex');
    const checkRun = github.checkRuns.get(Number(run.checkRunId));
    const comment = github.comments.get(Number(run.progressCommentId))?.body as string;
    console.log(
      `injected: SIGKILL of the worker on each of ${kills.length} Codex attempts (retry limit ${RETRY_LIMIT}); ` +
        `observed: run ${run.status}/${run.conclusion} (${run.errorCode} at ${run.errorStep}: ${run.errorMessage}) ` +
        `${((run.finishedAt?.getTime() ?? 0) - (kills[0] ?? 0)) / 1000} s after the first kill; ` +
        `check run ${checkRun?.status}/${checkRun?.conclusion}; ` +
        `attempts ${attempts.map((a) => `${a.taskName}#${a.attempt}:${a.status}`).join(' ')}`,
    );

    // The job really ran out of retries: one attempt per try, no more.
    expect(kills).toHaveLength(RETRY_LIMIT + 1);
    expect(codex.map((a) => [a.attempt, a.status])).toEqual(
      Array.from({ length: RETRY_LIMIT + 1 }, (_, i) => [i + 1, 'failed']),
    );
    for (const lost of codex.slice(0, -1)) expect(lost.payload).toMatchObject({ error_code: 'worker_lost' });
    expect(codex.at(-1)?.payload).toMatchObject({ error_code: 'abandoned' });
    expect(attempts.filter((a) => a.status === 'running')).toEqual([]);

    // Settled with the reason.
    expect(run).toMatchObject({
      status: 'failed',
      conclusion: 'failure',
      errorCode: 'abandoned',
      errorStep: 'codex',
    });
    expect(run.errorMessage).toMatch(/abandoned after 4 attempts|can no longer progress/);
    expect(run.finishedAt).not.toBeNull();

    // Reported: the check run completed as a failure, the comment final.
    expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(checkRun.output.summary).toContain('**Failed at step `codex`:**');
    expect(comment).toContain('the run failed at step `codex`');
    // Final: no status line or step still waiting or working (finalize's own row included).
    expect(comment).not.toMatch(/\*\*(Working|Queued|Cancelling)\*\*/);
    expect(comment.split('\n').filter((line) => /⏳|🔄/.test(line))).toEqual([]);
    expect(comment).toMatch(/- \[x\] finalize — ✅ succeeded/);
    expect(attempts.at(-1)).toMatchObject({ taskName: 'finalize', status: 'succeeded' });
    expect(github.pulls).toEqual([]);
    expect(findProcesses('codex', 'exec', harness.root)).toEqual([]);
  }, 300_000);
});
