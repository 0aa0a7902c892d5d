// limits.* count the runs of the whole installation but come from the
// repository that triggered: a repository's file may make its own triggers
// stricter, and cannot lift the server's cap (SPECKIT_MAX_ACTIVE_RUNS) for
// the others.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkRunLimits } from '../../src/chain/run-limits.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { renderRunLimit } from '../../src/github/render/run-limit.ts';
import { DEFAULT_REPO_CONFIG, parseRepoConfig } from '../../src/repo-config/index.ts';
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

/** The server's SPECKIT_MAX_ACTIVE_RUNS in these tests. */
const SERVER_CAP = 4;

const check = (limits = DEFAULT_REPO_CONFIG.limits) =>
  prisma.$transaction((tx) => checkRunLimits(tx, 1n, limits, SERVER_CAP));

describe('run limits across an installation', () => {
  it("holds the server's cap whatever a repository writes", async () => {
    await activeElsewhere(SERVER_CAP);
    // A repository without the file, with the cap itself, or with far more, gets the server's cap.
    for (const limits of [
      DEFAULT_REPO_CONFIG.limits,
      parseRepoConfig(`limits:\n  max_active_runs: ${SERVER_CAP}\n`).limits,
      parseRepoConfig('limits:\n  max_active_runs: 1000\n').limits,
    ]) {
      expect(await check(limits)).toEqual({
        field: 'SPECKIT_MAX_ACTIVE_RUNS',
        limit: SERVER_CAP,
        current: SERVER_CAP,
        freesAt: null,
      });
    }
    const reply = renderRunLimit((await check())!, 'The run for `001-demo`');
    expect(reply).toContain(
      'this speckit-bot server allows 4 per installation at a time (`SPECKIT_MAX_ACTIVE_RUNS`',
    );
    expect(reply).not.toContain('raise');
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
