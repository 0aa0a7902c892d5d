// installation.deleted / installation_repositories.removed: the app lost
// access, so nothing can be reported on GitHub any more. The active runs
// there are settled as cancelled in the database (and their running steps
// aborted through the cancel NOTIFY); a queued step of such a run finds it
// ended and does nothing. Database work only, like every webhook handler.
import type { Context } from 'probot';
import { notifyCancel } from '../chain/cancel-listener.ts';
import { ACTIVE_STATUSES } from '../chain/chain.ts';
import type { Prisma } from '../db/prisma.ts';
import type { WebhookDeps } from './webhook-deps.ts';

export async function cancelRunsOfLostAccess(
  deps: Pick<WebhookDeps, 'prisma'>,
  where: Prisma.SpecWorkflowRunWhereInput,
  reason: string,
): Promise<number> {
  return deps.prisma.$transaction(async (tx) => {
    const runs = await tx.specWorkflowRun.findMany({
      where: { ...where, status: { in: [...ACTIVE_STATUSES] } },
      select: { id: true },
    });
    if (runs.length === 0) return 0;
    await tx.specWorkflowRun.updateMany({
      where: { id: { in: runs.map((run) => run.id) } },
      data: {
        status: 'cancelled',
        conclusion: 'cancelled',
        errorCode: 'installation_removed',
        errorMessage: reason,
        finishedAt: new Date(),
      },
    });
    await tx.specWorkflowTaskState.updateMany({
      where: { runId: { in: runs.map((run) => run.id) }, status: { in: ['running', 'queued'] } },
      data: {
        status: 'cancelled',
        finishedAt: new Date(),
        payload: { error_code: 'installation_removed', message: reason },
      },
    });
    for (const run of runs) await notifyCancel(tx, run.id);
    return runs.length;
  });
}

export async function onInstallationDeleted(
  deps: WebhookDeps,
  context: Context<'installation.deleted'>,
): Promise<void> {
  const { installation, sender } = context.payload;
  const count = await cancelRunsOfLostAccess(
    deps,
    { installationId: BigInt(installation.id) },
    `The app was uninstalled by @${sender.login}.`,
  );
  context.log.info({ installationId: installation.id, cancelled: count }, 'installation deleted');
}

export async function onRepositoriesRemoved(
  deps: WebhookDeps,
  context: Context<'installation_repositories.removed'>,
): Promise<void> {
  const { installation, repositories_removed: removed, sender } = context.payload;
  const names = removed.map((repo) => repo.full_name);
  const count = await cancelRunsOfLostAccess(
    deps,
    { installationId: BigInt(installation.id), repository: { in: names } },
    `The app lost access to this repository (removed from the installation by @${sender.login}).`,
  );
  context.log.info(
    { installationId: installation.id, repositories: names, cancelled: count },
    'repositories removed',
  );
}
