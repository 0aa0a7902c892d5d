// `--all` (or `auto_continue: true` in .github/speckit.yml, resolved into the
// stored trigger's `all` at admission): after a successful phase the app
// starts the next one through the same path as a new trigger (a
// webhook_delivery row and an intake job in one transaction). The delivery id
// is derived from the finished run, so however often this is called for a run
// — by the worker that settled it, by the reconciler — the next run is started
// once; admission checks the installation's run limits again.
import type { PgBoss } from 'pg-boss';
import type { PrismaClient } from '../db/prisma.ts';
import { parseRepository } from '../github/octokit.ts';
import { recordTrigger } from '../webhooks/record-trigger.ts';
import type { ContinuationTrigger, RepositoryRef } from '../webhooks/trigger.ts';
import { trigger as triggerSchema } from '../webhooks/trigger.ts';
import type { Run } from './runs.ts';
import { runTriggerOptions } from './trigger-options.ts';

/** The delivery id of the run that continues `runId` (one per run). */
export function continuationDeliveryId(runId: string): string {
  return `continue:${runId}`;
}

/** Whether a finished run asks to go on: it succeeded with a change, and its trigger said `--all` (or auto_continue did). */
export function shouldContinue(run: Pick<Run, 'status' | 'conclusion'>, all: boolean): boolean {
  return all && run.status === 'succeeded' && run.conclusion === 'success';
}

/** The repository as the original trigger stored it (its web URL), or rebuilt from the run. */
export async function repositoryOfRun(
  prisma: Pick<PrismaClient, 'webhookDelivery'>,
  run: Pick<Run, 'repository' | 'cloneUrl' | 'defaultBranch' | 'triggerDeliveryId'>,
): Promise<RepositoryRef> {
  if (run.triggerDeliveryId) {
    const delivery = await prisma.webhookDelivery.findUnique({ where: { id: run.triggerDeliveryId } });
    const parsed = triggerSchema.safeParse(delivery?.trigger);
    if (parsed.success) return parsed.data.repository;
  }
  const { owner, name } = parseRepository(run.repository);
  return {
    owner,
    name,
    fullName: run.repository,
    cloneUrl: run.cloneUrl,
    defaultBranch: run.defaultBranch,
    htmlUrl: repositoryHtmlUrl(run),
  };
}

/** The repository's web page: from an https clone URL, else github.com. */
export function repositoryHtmlUrl(run: Pick<Run, 'repository' | 'cloneUrl'>): string {
  if (/^https?:\/\//.test(run.cloneUrl)) return run.cloneUrl.replace(/\.git$/, '');
  return `https://github.com/${run.repository}`;
}

/**
 * Starts the next phase after `run` when its trigger asked for `--all`.
 * Returns what happened; 'duplicate' when it was already started.
 */
export async function continueAfterSuccess(
  deps: { prisma: PrismaClient; boss: PgBoss },
  run: Run,
): Promise<'accepted' | 'duplicate' | 'not_asked'> {
  const options = await runTriggerOptions(deps.prisma, run);
  if (!shouldContinue(run, options.all)) return 'not_asked';
  const trigger: ContinuationTrigger = {
    kind: 'continuation',
    installationId: Number(run.installationId),
    repository: await repositoryOfRun(deps.prisma, run),
    actor: run.triggerActor,
    ...(options.actorId !== null ? { actorId: options.actorId } : {}),
    previousRunId: run.id,
    featureKey: run.featureKey,
    issueNumber: run.issueNumber,
    codexMode: options.codexMode,
    draft: options.draft,
    all: true,
    ...(options.headBranch ? { headBranch: options.headBranch } : {}),
  };
  return recordTrigger(
    deps,
    { id: continuationDeliveryId(run.id), event: 'speckit.continuation', action: null },
    trigger,
  );
}
