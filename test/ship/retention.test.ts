// Retention on a real database and a real pg-boss: old artifacts (rows and
// files) go, recent ones stay; workspaces of finished runs go, those of
// active runs stay; old webhook deliveries go, except those runs were started
// from (their trigger options); runs stay.
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTriggerOptions } from '../../src/chain/trigger-options.ts';
import { readConfig } from '../../src/config.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { RETENTION_QUEUE, runRetention, startRetention } from '../../src/retention/retention.ts';
import { insertRun, startTestBoss } from '../support/chain-fixtures.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';
import { makeTempDir, removeTempDirs } from '../support/git-fixtures.ts';

const DAY = 86_400_000;
let prisma: PrismaClient;
let database: TestDatabase;
let root: string;

beforeAll(async () => {
  ({ prisma, database } = await createTestPrisma());
  root = await makeTempDir('speckit-retention-');
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
  await removeTempDirs();
});

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('the retention job', () => {
  it('removes old artifacts, finished runs’ workspaces and old deliveries; keeps the rest and every run', async () => {
    const config = readConfig(
      { ARTIFACTS_DIR: 'artifacts', WORK_DIR: 'workspaces', ARTIFACT_RETENTION_DAYS: '30' },
      root,
    );
    const now = new Date();
    const finished = await insertRun(prisma, { status: 'succeeded', currentStep: 'finalize' });
    await prisma.specWorkflowRun.update({
      where: { id: finished.id },
      data: { finishedAt: new Date(now.getTime() - 2 * DAY), conclusion: 'success' },
    });
    const active = await insertRun(prisma, { status: 'running', currentStep: 'codex' });

    // Artifacts: one 40 days old, one from yesterday, both of the finished run.
    const oldFile = path.join(config.artifactsDir, finished.id, 'codex-1', 'codex.jsonl');
    const newFile = path.join(config.artifactsDir, finished.id, 'codex-2', 'codex.jsonl');
    for (const file of [oldFile, newFile]) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, '{}\n');
    }
    await prisma.workflowArtifact.create({
      data: {
        runId: finished.id,
        step: 'codex',
        attempt: 1,
        artifactType: 'codex_logs',
        path: path.relative(config.artifactsDir, oldFile),
        sizeBytes: 3n,
        createdAt: new Date(now.getTime() - 40 * DAY),
      },
    });
    await prisma.workflowArtifact.create({
      data: {
        runId: finished.id,
        step: 'codex',
        attempt: 2,
        artifactType: 'codex_logs',
        path: path.relative(config.artifactsDir, newFile),
        sizeBytes: 3n,
        createdAt: new Date(now.getTime() - DAY),
      },
    });

    // Workspaces: the finished run's failed attempt, the active run's, a stranger's dir.
    const finishedWorkspace = path.join(config.workDir, finished.id, 'apply-1');
    const activeWorkspace = path.join(config.workDir, active.id, 'codex-1');
    const orphan = path.join(config.workDir, '11111111-2222-4333-8444-555555555555');
    const unrelated = path.join(config.workDir, 'lost+found');
    for (const dir of [finishedWorkspace, activeWorkspace, orphan, unrelated]) {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'file.txt'), 'x');
    }
    const twoDaysAgo = new Date(now.getTime() - 2 * DAY);
    await utimes(orphan, twoDaysAgo, twoDaysAgo);

    await prisma.webhookDelivery.createMany({
      data: [
        {
          id: 'old-delivery',
          event: 'issue_comment',
          trigger: {},
          receivedAt: new Date(now.getTime() - 31 * DAY),
        },
        { id: 'new-delivery', event: 'issue_comment', trigger: {} },
      ],
    });

    const metrics = createMetrics({ defaultMetrics: false });
    const result = await runRetention({ prisma, config, metrics });
    expect(result).toEqual({
      artifacts: 1,
      artifactFiles: 1,
      workspaces: 2,
      mirrors: 0,
      webhookDeliveries: 1,
    });

    expect(await exists(oldFile)).toBe(false);
    expect(await exists(path.dirname(oldFile))).toBe(false); // the emptied attempt directory
    expect(await exists(newFile)).toBe(true);
    expect((await prisma.workflowArtifact.findMany()).map((a) => a.attempt)).toEqual([2]);

    expect(await exists(path.join(config.workDir, finished.id))).toBe(false);
    expect(await exists(orphan)).toBe(false);
    expect(await exists(activeWorkspace)).toBe(true);
    expect(await exists(unrelated)).toBe(true);

    expect((await prisma.webhookDelivery.findMany()).map((d) => d.id)).toEqual(['new-delivery']);
    expect(await prisma.specWorkflowRun.count()).toBe(2);

    const { body } = await metrics.render();
    expect(body).toContain('speckit_retention_deleted_total{kind="artifact"} 1');
    expect(body).toContain('speckit_retention_deleted_total{kind="workspace"} 2');

    // A second pass finds nothing more.
    expect(await runRetention({ prisma, config })).toEqual({
      artifacts: 0,
      artifactFiles: 0,
      workspaces: 0,
      mirrors: 0,
      webhookDeliveries: 0,
    });
    expect((await readdir(config.workDir)).sort()).toEqual([active.id, 'lost+found'].sort());
  });

  it('keeps the deliveries runs were started from, so a late retry or Next phase keeps --draft, --cloud and --all', async () => {
    const config = readConfig({ WORK_DIR: 'w3', ARTIFACTS_DIR: 'a3' }, root);
    const now = new Date();
    const fortyDaysAgo = new Date(now.getTime() - 40 * DAY);
    const asked = {
      kind: 'comment',
      body: '/speckit run f --all --draft --cloud',
      draft: true,
      all: true,
      codexMode: 'cloud',
    };
    await prisma.webhookDelivery.createMany({
      data: [
        { id: 'failed-run-trigger', event: 'issue_comment', trigger: asked, receivedAt: fortyDaysAgo },
        { id: 'succeeded-run-trigger', event: 'issue_comment', trigger: asked, receivedAt: fortyDaysAgo },
        {
          id: 'plan-command',
          event: 'issue_comment',
          trigger: { kind: 'comment' },
          receivedAt: fortyDaysAgo,
        },
      ],
    });
    const runs = [];
    for (const [status, delivery] of [
      ['failed', 'failed-run-trigger'],
      ['succeeded', 'succeeded-run-trigger'],
    ] as const) {
      const run = await insertRun(prisma, {
        status,
        currentStep: status === 'failed' ? 'codex' : 'finalize',
      });
      runs.push(
        await prisma.specWorkflowRun.update({
          where: { id: run.id },
          data: { triggerDeliveryId: delivery, createdAt: fortyDaysAgo, finishedAt: fortyDaysAgo },
        }),
      );
    }

    expect((await runRetention({ prisma, config })).webhookDeliveries).toBe(1);
    const kept = await prisma.webhookDelivery.findMany({
      where: { id: { not: 'new-delivery' } },
      orderBy: { id: 'asc' },
    });
    expect(kept.map((d) => d.id)).toEqual(['failed-run-trigger', 'succeeded-run-trigger']);
    // What a retry of the failed run and the succeeded run's Next phase button read back.
    for (const run of runs) {
      expect(await runTriggerOptions(prisma, run)).toEqual({
        codexMode: 'cloud',
        draft: true,
        all: true,
        headBranch: null,
        actorId: null,
      });
    }
  });

  it('is a pg-boss schedule that runs the pass when its job arrives', async () => {
    const boss: PgBoss = await startTestBoss(database.url);
    try {
      const config = readConfig(
        { WORK_DIR: 'w2', ARTIFACTS_DIR: 'a2', SPECKIT_RETENTION_CRON: '0 4 * * *' },
        root,
      );
      await prisma.webhookDelivery.create({
        data: {
          id: 'ancient',
          event: 'issue_comment',
          trigger: {},
          receivedAt: new Date(Date.now() - 90 * DAY),
        },
      });
      const service = await startRetention(boss, { prisma, config });
      const schedules = await boss.getSchedules(RETENTION_QUEUE);
      expect(schedules).toHaveLength(1);
      expect(schedules[0]).toMatchObject({
        name: RETENTION_QUEUE,
        cron: '0 4 * * *',
        options: { tz: 'UTC' },
      });
      // What the cron would send: one job on the queue.
      await boss.send(RETENTION_QUEUE, null);
      const deadline = Date.now() + 20_000;
      while ((await prisma.webhookDelivery.count({ where: { id: 'ancient' } })) > 0) {
        if (Date.now() > deadline) throw new Error('the retention job did not run');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      service.stop();
    } finally {
      await boss.stop({ graceful: false, close: true });
    }
  });
});
