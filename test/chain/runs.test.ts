import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName, stepJobId } from '../../src/chain/chain.ts';
import { beginAttempt, commitTransition, enqueueStep, recordFailure } from '../../src/chain/runs.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { insertRun, startTestBoss } from '../support/chain-fixtures.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';

let prisma: PrismaClient;
let database: TestDatabase;
let boss: PgBoss;

beforeAll(async () => {
  ({ prisma, database } = await createTestPrisma());
  boss = await startTestBoss(database.url);
});

afterAll(async () => {
  await boss.stop({ graceful: false, close: true });
  await prisma.$disconnect();
  await database.drop();
});

async function jobsOf(step: Parameters<typeof queueName>[0], runId: string) {
  const jobs = await boss.findJobs<{ runId: string }>(queueName(step), { data: { runId } });
  return jobs;
}

describe('step transitions', () => {
  it('records the attempt, advances the run and enqueues the next step with a deterministic id', async () => {
    const run = await insertRun(prisma);
    const attempt = await beginAttempt(prisma, boss, run.id, 'intake');
    expect(attempt).toMatchObject({ step: 'intake', attempt: 1 });
    expect(attempt?.run.status).toBe('running');
    const updated = await commitTransition(prisma, boss, attempt!, {
      result: { kind: 'continue' },
      output: { headSha: 'abc' },
      runUpdate: { headSha: 'abc' },
    });
    expect(updated).toMatchObject({ currentStep: 'discover', headSha: 'abc', status: 'running' });
    const rows = await prisma.specWorkflowTaskState.findMany({ where: { runId: run.id } });
    expect(rows).toMatchObject([
      { taskName: 'intake', attempt: 1, status: 'succeeded', payload: { headSha: 'abc' } },
    ]);
    const jobs = await jobsOf('discover', run.id);
    expect(jobs.map((job) => job.id)).toEqual([stepJobId(run.id, 'discover', 1)]);
  });

  it('leaves neither the state change nor the next job when the transition throws after the update', async () => {
    const run = await insertRun(prisma);
    const attempt = await beginAttempt(prisma, boss, run.id, 'intake');
    // A queue whose send succeeds and then fails: the run update and the job
    // insert both happened inside the transaction before the throw.
    const failingBoss = new Proxy(boss, {
      get(target, property, receiver) {
        if (property === 'send') {
          return async (...args: Parameters<PgBoss['send']>) => {
            await target.send(...args);
            throw new Error('injected failure after the state update');
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    await expect(
      commitTransition(prisma, failingBoss, attempt!, {
        result: { kind: 'continue' },
        runUpdate: { headSha: 'zzz' },
      }),
    ).rejects.toThrow('injected failure');
    const after = await prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(after.currentStep).toBe('intake');
    expect(after.headSha).toBeNull();
    const row = await prisma.specWorkflowTaskState.findFirstOrThrow({ where: { runId: run.id } });
    expect(row.status).toBe('running');
    expect(await jobsOf('discover', run.id)).toEqual([]);
  });

  it('treats a duplicate enqueue with the same job id as a no-op', async () => {
    const run = await insertRun(prisma, { currentStep: 'codex' });
    await prisma.$transaction((tx) => enqueueStep(tx, boss, run.id, 'codex'));
    await prisma.$transaction((tx) => enqueueStep(tx, boss, run.id, 'codex'));
    const jobs = await jobsOf('codex', run.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.id).toBe(stepJobId(run.id, 'codex', 1));
  });

  it('ignores a stale job for a step the run has moved past', async () => {
    const run = await insertRun(prisma, { currentStep: 'apply', status: 'running' });
    expect(await beginAttempt(prisma, boss, run.id, 'codex')).toBeNull();
    const ended = await insertRun(prisma, { currentStep: 'finalize', status: 'succeeded' });
    expect(await beginAttempt(prisma, boss, ended.id, 'finalize')).toBeNull();
  });

  it('closes an attempt left running by a dead worker and discards its late result', async () => {
    const run = await insertRun(prisma, { currentStep: 'codex', status: 'running' });
    const lost = await beginAttempt(prisma, boss, run.id, 'codex');
    const takeover = await beginAttempt(prisma, boss, run.id, 'codex');
    expect(takeover?.attempt).toBe(2);
    const rows = await prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id },
      orderBy: { attempt: 'asc' },
    });
    expect(rows.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'running'],
    ]);
    expect(rows[0]?.payload).toMatchObject({ error_code: 'worker_lost' });
    expect(await commitTransition(prisma, boss, lost!, { result: { kind: 'continue' } })).toBeNull();
    const advanced = await commitTransition(prisma, boss, takeover!, { result: { kind: 'continue' } });
    expect(advanced?.currentStep).toBe('apply');
  });

  it('moves a permanently failed step to finalize with its error, and keeps retrying a transient one', async () => {
    const run = await insertRun(prisma, { currentStep: 'discover', status: 'running' });
    const first = await beginAttempt(prisma, boss, run.id, 'discover');
    await recordFailure(prisma, boss, first!, { code: 'internal_error', message: 'network blip' }, false);
    expect((await prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } })).currentStep).toBe(
      'discover',
    );
    const second = await beginAttempt(prisma, boss, run.id, 'discover');
    await recordFailure(prisma, boss, second!, { code: 'user_error', message: 'tasks.md missing' }, true);
    const after = await prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(after).toMatchObject({
      currentStep: 'finalize',
      conclusion: 'failure',
      errorStep: 'discover',
      errorCode: 'user_error',
      errorMessage: 'tasks.md missing',
    });
    const rows = await prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id },
      orderBy: { attempt: 'asc' },
    });
    expect(rows.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(await jobsOf('finalize', run.id)).toHaveLength(1);
  });

  it('settles the run with the conclusion when finalize completes', async () => {
    const run = await insertRun(prisma, { currentStep: 'finalize', status: 'running' });
    const attempt = await beginAttempt(prisma, boss, run.id, 'finalize');
    const done = await commitTransition(prisma, boss, attempt!, {
      result: { kind: 'continue' },
      runUpdate: { conclusion: 'neutral' },
    });
    expect(done).toMatchObject({ status: 'succeeded', conclusion: 'neutral', currentStep: 'finalize' });
    expect(done?.finishedAt).toBeInstanceOf(Date);
  });
});
