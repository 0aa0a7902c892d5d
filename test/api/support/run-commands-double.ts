// A stand-in for the chain's run commands (src/chain/run-commands.ts) that
// makes the same database transitions: create inserts a pending run (one
// active run per feature), retry moves a failed run back to running at the
// step that failed, cancel marks an active run cancelling. It enqueues no job.
import { randomUUID } from 'node:crypto';
import type { RunCommands } from '../../../src/api/run-commands-port.ts';
import type { PrismaClient } from '../../../src/db/prisma.ts';

const ACTIVE = ['pending', 'running', 'cancelling'];

export interface RunCommandsDouble extends RunCommands {
  calls: { command: string; runId?: string; input: unknown }[];
}

export function createRunCommandsDouble(
  prisma: PrismaClient,
  options: { installations: Record<string, number> },
): RunCommandsDouble {
  const calls: RunCommandsDouble['calls'] = [];
  return {
    calls,
    async createRun(input) {
      calls.push({ command: 'create', input });
      const installationId = options.installations[input.repository];
      if (installationId === undefined) {
        return {
          kind: 'not_installed',
          message: `The GitHub App is not installed on ${input.repository}: install it on that repository first.`,
        };
      }
      if (!input.featureKey) return { kind: 'invalid', message: 'featureKey is required by this double.' };
      const featureKey = input.featureKey;
      const active = await prisma.specWorkflowRun.findFirst({
        where: { repository: input.repository, featureKey, status: { in: ACTIVE } },
      });
      if (active) return { kind: 'active', runId: active.id };
      const id = randomUUID();
      await prisma.specWorkflowRun.create({
        data: {
          id,
          repository: input.repository,
          installationId: BigInt(installationId),
          featureKey,
          phaseNumber: input.forcePhase ?? null,
          triggerKind: 'api',
          triggerActor: input.createdBy,
          cloneUrl: `https://github.com/${input.repository}.git`,
          defaultBranch: 'main',
          branchName: `speckit/${featureKey}`,
          createdBy: input.createdBy,
        },
      });
      return { kind: 'created', runId: id };
    },
    async retryRun(runId, input) {
      calls.push({ command: 'retry', runId, input });
      return prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT id FROM spec_workflow_run WHERE id = ${runId}::uuid FOR UPDATE`;
        const run = await tx.specWorkflowRun.findUnique({ where: { id: runId } });
        if (!run) return { kind: 'not_found' as const };
        if (run.status !== 'failed') {
          return {
            kind: 'conflict' as const,
            message: `Only a failed run can be retried; this run is ${run.status}.`,
          };
        }
        await tx.specWorkflowRun.update({
          where: { id: runId },
          data: {
            status: 'running',
            currentStep: run.errorStep ?? run.currentStep,
            conclusion: null,
            errorCode: null,
            errorMessage: null,
            errorStep: null,
            finishedAt: null,
          },
        });
        return { kind: 'retried' as const };
      });
    },
    async cancelRun(runId, input) {
      calls.push({ command: 'cancel', runId, input });
      const updated = await prisma.specWorkflowRun.updateMany({
        where: { id: runId, status: { in: ['pending', 'running'] } },
        data: { status: 'cancelling' },
      });
      if (updated.count === 1) return { kind: 'cancelling' };
      const run = await prisma.specWorkflowRun.findUnique({ where: { id: runId } });
      if (!run) return { kind: 'not_found' };
      if (run.status === 'cancelling') return { kind: 'cancelling' };
      return { kind: 'conflict', message: `The run has already finished (${run.status}).` };
    },
  };
}
