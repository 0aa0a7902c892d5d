// The reconciler settles runs that can no longer progress — check run
// completed, progress comment final — and leaves runs whose job is still
// alive (a dead worker's job is taken over by pg-boss, not settled).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName } from '../../src/chain/chain.ts';
import { reconcileOnce } from '../../src/chain/reconciler.ts';
import { createCheckRun } from '../../src/github/check-runs.ts';
import { createComment } from '../../src/github/comments.ts';
import { parseRepository } from '../../src/github/octokit.ts';
import { removeTempDirs } from '../support/git-fixtures.ts';
import { type ControlHarness, FULL_NAME, insertRun, startControlHarness } from './support.ts';

const INSTALLATION_ID = 703;
let h: ControlHarness;
let installed = true;

beforeAll(async () => {
  h = await startControlHarness({ installationId: INSTALLATION_ID, installed: () => installed });
});

afterAll(async () => {
  await h?.stop();
  await removeTempDirs();
});

/** A run stuck at `step` with a running attempt, its check run and comment on GitHub, unchanged for a minute. */
async function stuckRun(featureKey: string, step: string, jobState: 'failed' | 'active' | null) {
  const octokit = await h.auth.octokit(INSTALLATION_ID);
  const repo = parseRepository(FULL_NAME);
  const run = await insertRun(h.prisma, {
    installationId: BigInt(INSTALLATION_ID),
    featureKey,
    status: 'running',
    currentStep: step,
  });
  featureOf.set(run.id, featureKey);
  const checkRunId = await createCheckRun(octokit, repo, {
    name: `Spec Kit · ${featureKey}`,
    headSha: 'a'.repeat(40),
    runId: run.id,
    output: { title: 'Queued', summary: 'Waiting.' },
  });
  const commentId = await createComment(octokit, repo, 1, 'Working…');
  await h.prisma.specWorkflowRun.update({
    where: { id: run.id },
    data: {
      checkRunId: BigInt(checkRunId),
      progressCommentId: BigInt(commentId),
      phaseNumber: '1',
      phaseTitle: 'Setup',
    },
  });
  for (const [index, name] of ['intake', 'discover', step].entries()) {
    await h.prisma.specWorkflowTaskState.create({
      data: {
        runId: run.id,
        taskName: name,
        status: name === step ? 'running' : 'succeeded',
        attempt: 1,
        startedAt: new Date(Date.now() - 120_000 + index),
      },
    });
  }
  if (jobState) {
    const jobId = await h.boss.send(queueName(step as 'codex'), { runId: run.id });
    await h.prisma.$executeRawUnsafe(
      `UPDATE pgboss.job SET state = '${jobState}' WHERE id = $1::uuid`,
      jobId,
    );
  }
  await h.prisma
    .$executeRaw`UPDATE spec_workflow_run SET updated_at = now() - interval '5 minutes' WHERE id = ${run.id}::uuid`;
  return { run, checkRunId, commentId };
}

/** Feature keys of runs, for the printed lines. */
const featureOf = new Map<string, string>();
const label = (runId: string) => featureOf.get(runId) ?? runId;

const deps = () => ({
  prisma: h.prisma,
  boss: h.boss,
  github: h.auth,
  log: h.log,
  config: { publicUrl: 'https://speckit.example.com' },
});

describe('the reconciler', () => {
  it('settles a run whose worker died and whose job has no retries left', async () => {
    const dead = await stuckRun('020-dead', 'codex', 'failed');
    const alive = await stuckRun('021-takeover', 'codex', 'active');
    const result = await reconcileOnce(deps(), { staleAfterMs: 1_000 });
    console.log(
      `injected: a run stuck in codex whose job failed for good, and one whose job is still active; observed: ` +
        `settled ${result.settled.map(label).join(', ') || 'none'}, reported ${result.reported.map(label).join(', ') || 'none'}`,
    );
    expect(result.settled).toEqual([dead.run.id]);
    expect(result.reported).toEqual([dead.run.id]);

    const settled = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: dead.run.id } });
    expect(settled).toMatchObject({
      status: 'failed',
      conclusion: 'failure',
      errorCode: 'abandoned',
      errorStep: 'codex',
    });
    expect(settled.finishedAt).not.toBeNull();
    const attempts = await h.prisma.specWorkflowTaskState.findMany({
      where: { runId: dead.run.id },
      orderBy: { id: 'asc' },
    });
    expect(attempts.map((a) => `${a.taskName}:${a.status}`)).toEqual([
      'intake:succeeded',
      'discover:succeeded',
      'codex:failed',
      'finalize:succeeded',
    ]);

    const checkRun = h.github.checkRuns.get(dead.checkRunId);
    expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(checkRun.output.summary).toContain(
      '**Failed at step `codex`:** Step codex can no longer progress',
    );
    expect(checkRun.actions).toEqual([
      { label: 'Retry', identifier: 'retry', description: 'Resume from the failed step' },
    ]);
    const comment = h.github.comments.get(dead.commentId).body as string;
    expect(comment).toContain('❌ **Phase 1: Setup failed**');
    expect(comment).toContain('@Codertocat the run failed at step `codex`');

    // The run whose job is still active (a worker that died: pg-boss takes it over) is left alone.
    expect(await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: alive.run.id } })).toMatchObject({
      status: 'running',
    });
    expect(h.github.checkRuns.get(alive.checkRunId).status).toBe('queued');

    // A second pass finds nothing more to do.
    const again = await reconcileOnce(deps(), { staleAfterMs: 1_000 });
    expect(again).toEqual({ settled: [], reported: [], continued: [] });
  });

  it('reports a run that ended without its final report (finalize failed for good)', async () => {
    const { run, checkRunId } = await stuckRun('022-finalize', 'finalize', null);
    await h.prisma.specWorkflowRun.update({
      where: { id: run.id },
      data: {
        status: 'succeeded',
        conclusion: 'success',
        finishedAt: new Date(),
        prUrl: 'https://github.com/Codertocat/Hello-World/pull/3',
      },
    });
    await h.prisma.specWorkflowTaskState.updateMany({
      where: { runId: run.id, status: 'running' },
      data: { status: 'failed' },
    });
    const result = await reconcileOnce(deps(), { staleAfterMs: 1_000 });
    console.log(
      `injected: a succeeded run whose finalize never reported; observed: reported ${result.reported.map(label).join(', ') || 'none'}, ` +
        `check run ${h.github.checkRuns.get(checkRunId).status}/${h.github.checkRuns.get(checkRunId).conclusion}`,
    );
    expect(result.reported).toContain(run.id);
    expect(h.github.checkRuns.get(checkRunId)).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(
      h.github.checkRuns.get(checkRunId).actions.map((a: { identifier: string }) => a.identifier),
    ).toEqual(['next_phase', 'run_all']);
  });

  it('stops the runs of an installation that is gone, without reporting', async () => {
    const { run, checkRunId } = await stuckRun('023-gone', 'codex', 'active');
    installed = false;
    try {
      const result = await reconcileOnce(deps(), { staleAfterMs: 1_000 });
      const settled = await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } });
      console.log(
        `injected: GET /app/installations/${INSTALLATION_ID} answers 404 (uninstalled) for a run stuck in codex; observed: ` +
          `settled ${result.settled.map(label).join(', ') || 'none'} as ${settled.status} (${settled.errorCode}), ` +
          `check run left ${h.github.checkRuns.get(checkRunId).status} (no call can reach GitHub)`,
      );
      expect(result.settled).toContain(run.id);
      expect(await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
        status: 'failed',
        errorCode: 'installation_gone',
      });
      expect(h.github.checkRuns.get(checkRunId).status).toBe('queued');
    } finally {
      installed = true;
    }
  });
});
