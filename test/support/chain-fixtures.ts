// Runs and queues for chain tests, on a real database and a real pg-boss.
import { PgBoss } from 'pg-boss';
import { createQueues } from '../../src/chain/worker.ts';
import { readConfig } from '../../src/config.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';

export async function startTestBoss(url: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, useListenNotify: true, max: 4 });
  boss.on('error', () => {});
  await boss.start();
  await createQueues(boss, readConfig({}));
  return boss;
}

let counter = 0;

export async function insertRun(
  prisma: PrismaClient,
  overrides: { id?: string; featureKey?: string; currentStep?: string; status?: string } = {},
) {
  counter += 1;
  return prisma.specWorkflowRun.create({
    data: {
      id: overrides.id ?? `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
      repository: 'octo/hello',
      installationId: 1n,
      featureKey: overrides.featureKey ?? `feature-${counter}`,
      triggerKind: 'comment',
      triggerActor: 'octocat',
      cloneUrl: '/tmp/none.git',
      defaultBranch: 'main',
      branchName: 'speckit/x',
      createdBy: 'octocat',
      currentStep: overrides.currentStep ?? 'intake',
      status: overrides.status ?? 'pending',
    },
  });
}
