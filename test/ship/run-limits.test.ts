// limits.* count the runs of the whole installation but come from the
// repository that triggered: a repository's file may make its own triggers
// stricter, and cannot lift the installation's cap for the others.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkRunLimits } from '../../src/chain/run-limits.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import {
  DEFAULT_REPO_CONFIG,
  INSTALLATION_MAX_ACTIVE_RUNS,
  parseRepoConfig,
  RepoConfigError,
} from '../../src/repo-config/index.ts';
import { insertRun } from '../support/chain-fixtures.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';

let prisma: PrismaClient;
let database: TestDatabase;

beforeAll(async () => {
  ({ prisma, database } = await createTestPrisma());
});

beforeEach(async () => {
  await prisma.specWorkflowRun.deleteMany();
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

/** `count` active runs of installation 1 (the fixture's), in another repository. */
async function activeElsewhere(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const run = await insertRun(prisma, { status: 'running', currentStep: 'codex' });
    await prisma.specWorkflowRun.update({ where: { id: run.id }, data: { repository: 'octo/other' } });
  }
}

const check = (limits = DEFAULT_REPO_CONFIG.limits) =>
  prisma.$transaction((tx) => checkRunLimits(tx, 1n, limits));

describe('run limits across an installation', () => {
  it('holds the installation cap whatever a repository writes: a higher max_active_runs is refused', async () => {
    await activeElsewhere(INSTALLATION_MAX_ACTIVE_RUNS);
    expect(() => parseRepoConfig('limits:\n  max_active_runs: 1000\n')).toThrow(RepoConfigError);
    // A repository without the file, or with the highest value it may write, gets the cap.
    for (const limits of [
      DEFAULT_REPO_CONFIG.limits,
      parseRepoConfig('limits:\n  max_active_runs: 10\n').limits,
    ]) {
      expect(await check(limits)).toEqual({
        field: 'limits.max_active_runs',
        limit: INSTALLATION_MAX_ACTIVE_RUNS,
        current: INSTALLATION_MAX_ACTIVE_RUNS,
        freesAt: null,
      });
    }
  });

  it("lets a repository lower the cap for its own triggers, counting the other repositories' runs", async () => {
    await activeElsewhere(2);
    expect(await check()).toBeNull();
    expect(await check(parseRepoConfig('limits:\n  max_active_runs: 2\n').limits)).toMatchObject({
      field: 'limits.max_active_runs',
      limit: 2,
      current: 2,
    });
  });
});
