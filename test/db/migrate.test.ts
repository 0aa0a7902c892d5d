import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { createPrismaClient } from '../../src/db/prisma.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('migrate', () => {
  it('applies every migration to an empty database and records it as Prisma does', async () => {
    database = await createTestDatabase({ migrate: false });
    const migrations = await readMigrations();
    const result = await migrate(database.url);
    expect(result.applied).toEqual(migrations.map((m) => m.name));
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date;
      applied_steps_count: number;
    }>(
      database.url,
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count])).toEqual(
      migrations.map((m) => [m.name, m.checksum, 1]),
    );
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
  });

  it('is a no-op the second time', async () => {
    database = await createTestDatabase({ migrate: false });
    await migrate(database.url);
    const second = await migrate(database.url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied.length).toBeGreaterThan(0);
    const [count] = await query<{ n: string }>(database.url, 'SELECT count(*) AS n FROM _prisma_migrations');
    expect(Number(count?.n)).toBe(second.alreadyApplied.length);
  });

  it('migrates once when two runners start together', async () => {
    database = await createTestDatabase({ migrate: false });
    const url = database.url;
    const [a, b] = await Promise.all([migrate(url), migrate(url)]);
    const total = (await readMigrations()).length;
    expect(a.applied.length + b.applied.length).toBe(total);
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, total]);
    const rows = await query(url, 'SELECT 1 FROM _prisma_migrations');
    expect(rows).toHaveLength(total);
  });

  it('produces the tables the Prisma schema describes', async () => {
    database = await createTestDatabase();
    const prisma = createPrismaClient(database.url, { max: 2 });
    try {
      const run = await prisma.specWorkflowRun.create({
        data: {
          id: '00000000-0000-4000-8000-000000000001',
          repository: 'octo/hello',
          installationId: 42n,
          featureKey: '001-demo',
          triggerKind: 'comment',
          triggerActor: 'octocat',
          cloneUrl: 'https://github.com/octo/hello.git',
          defaultBranch: 'main',
          branchName: 'speckit/001-demo',
          createdBy: 'octocat',
          tasks: { create: { taskName: 'intake', status: 'running', attempt: 1, payload: { a: 1 } } },
          artifacts: {
            create: {
              step: 'codex',
              attempt: 1,
              artifactType: 'codex_logs',
              path: 'x/codex.jsonl',
              sizeBytes: 10n,
            },
          },
          outputs: { create: { step: 'codex', data: { changedPaths: ['a.txt'] }, patch: 'diff' } },
          credentials: { create: { githubStatus: 'ok', codexStatus: 'ok' } },
        },
        include: { tasks: true, artifacts: true, outputs: true, credentials: true },
      });
      expect(run.status).toBe('pending');
      expect(run.tasks[0]?.payload).toEqual({ a: 1 });
      expect(run.artifacts[0]?.sizeBytes).toBe(10n);
      await prisma.webhookDelivery.create({
        data: { id: 'd1', event: 'issue_comment', trigger: { kind: 'comment' } },
      });
      expect(await prisma.webhookDelivery.count()).toBe(1);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('allows one active run per repository and feature', async () => {
    database = await createTestDatabase();
    const prisma = createPrismaClient(database.url, { max: 2 });
    const base = {
      repository: 'octo/hello',
      installationId: 1n,
      featureKey: '001-demo',
      triggerKind: 'comment',
      triggerActor: 'octocat',
      cloneUrl: 'x',
      defaultBranch: 'main',
      branchName: 'speckit/001-demo',
      createdBy: 'octocat',
    };
    try {
      await prisma.specWorkflowRun.create({ data: { ...base, id: '00000000-0000-4000-8000-00000000000a' } });
      await expect(
        prisma.specWorkflowRun.create({ data: { ...base, id: '00000000-0000-4000-8000-00000000000b' } }),
      ).rejects.toThrow();
      await prisma.specWorkflowRun.update({
        where: { id: '00000000-0000-4000-8000-00000000000a' },
        data: { status: 'succeeded' },
      });
      await prisma.specWorkflowRun.create({ data: { ...base, id: '00000000-0000-4000-8000-00000000000b' } });
      await prisma.specWorkflowRun.create({
        data: { ...base, featureKey: '002-other', id: '00000000-0000-4000-8000-00000000000c' },
      });
      expect(await prisma.specWorkflowRun.count()).toBe(3);
    } finally {
      await prisma.$disconnect();
    }
  });
});
