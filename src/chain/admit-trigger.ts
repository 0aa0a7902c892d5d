// The first half of the intake job: from a stored trigger to a run. Parses the
// command, checks who asked, answers what is not a run, and creates the run
// row (its id derived from the delivery, so a retried intake finds it again).
import type { Logger } from 'pino';
import { parseCommand, USAGE } from '../commands/parse-command.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { featureBranchName } from '../git/branch-name.ts';
import { addEyesReaction, createComment } from '../github/comments.ts';
import type { GitHubAuth, Octokit } from '../github/octokit.ts';
import { getRepositoryRole, mayRun } from '../github/permissions.ts';
import { type CommentTrigger, trigger as triggerSchema } from '../webhooks/trigger.ts';
import { ACTIVE_STATUSES, runIdForTrigger } from './chain.ts';
import { buildPlanReply } from './plan-reply.ts';

export interface AdmitDeps {
  prisma: PrismaClient;
  github: GitHubAuth;
  log: Logger;
}

export async function admitTrigger(deps: AdmitDeps, deliveryId: string): Promise<string | null> {
  const delivery = await deps.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } });
  if (!delivery) {
    deps.log.warn({ deliveryId }, 'intake job for an unknown delivery');
    return null;
  }
  const trigger = triggerSchema.parse(delivery.trigger);
  const parsed = parseCommand(trigger.body);
  if (parsed.kind === 'none') return null;
  const runId = runIdForTrigger(deliveryId);
  // A retried intake: the run exists, the replies below were already made.
  if (await deps.prisma.specWorkflowRun.findUnique({ where: { id: runId }, select: { id: true } }))
    return runId;

  const octokit = await deps.github.octokit(trigger.installationId);
  const reply = (body: string) => createComment(octokit, trigger.repository, trigger.issueNumber, body);
  if (parsed.kind === 'invalid') {
    await reply(`@${trigger.actor} ${parsed.message}`);
    return null;
  }
  if (parsed.command.name === 'help') {
    await reply(USAGE);
    return null;
  }
  const role = await getRepositoryRole(octokit, trigger.repository, trigger.actor);
  if (!mayRun(role)) {
    await reply(
      `@${trigger.actor} only collaborators with write, maintain or admin access can start Spec Kit runs ` +
        `(your access: ${role}). Ask a maintainer to comment \`/speckit run\` instead.`,
    );
    return null;
  }
  const featureKey = parsed.command.featureKey;
  if (parsed.command.name === 'plan') {
    await reply(
      featureKey
        ? await buildPlanReply(octokit, { ...trigger.repository }, featureKey)
        : `@${trigger.actor} name the feature to plan, e.g. \`/speckit plan 001-user-auth\`.`,
    );
    return null;
  }
  if (!featureKey) {
    await reply(
      `@${trigger.actor} name the feature to run, e.g. \`/speckit run 001-user-auth\`.\n\n${USAGE}`,
    );
    return null;
  }
  await addEyesReaction(octokit, trigger.repository, trigger.commentId);
  return createRun(deps, octokit, { runId, deliveryId, trigger, featureKey });
}

/** Where a person can watch a run: its check run once it has one, else where it was asked for. */
function activeRunLink(
  run: { checkRunId: bigint | null; issueNumber: number | null },
  trigger: CommentTrigger,
): string {
  if (run.checkRunId !== null) return `${trigger.repository.htmlUrl}/runs/${run.checkRunId}`;
  return `${trigger.repository.htmlUrl}/issues/${run.issueNumber ?? trigger.issueNumber}`;
}

async function createRun(
  deps: AdmitDeps,
  octokit: Octokit,
  params: { runId: string; deliveryId: string; trigger: CommentTrigger; featureKey: string },
): Promise<string | null> {
  const { trigger, featureKey } = params;
  try {
    await deps.prisma.specWorkflowRun.create({
      data: {
        id: params.runId,
        repository: trigger.repository.fullName,
        installationId: BigInt(trigger.installationId),
        featureKey,
        triggerKind: trigger.kind,
        triggerActor: trigger.actor,
        triggerDeliveryId: params.deliveryId,
        issueNumber: trigger.issueNumber,
        commentId: BigInt(trigger.commentId),
        cloneUrl: trigger.repository.cloneUrl,
        defaultBranch: trigger.repository.defaultBranch,
        branchName: featureBranchName(featureKey),
        createdBy: trigger.actor,
      },
    });
    return params.runId;
  } catch (error) {
    // The partial unique index allows one active run per feature.
    const active = await deps.prisma.specWorkflowRun.findFirst({
      where: { repository: trigger.repository.fullName, featureKey, status: { in: [...ACTIVE_STATUSES] } },
    });
    if (!active) throw error;
    await createComment(
      octokit,
      trigger.repository,
      trigger.issueNumber,
      `@${trigger.actor} a Spec Kit run for \`${featureKey}\` is already in progress ` +
        `(run \`${active.id}\`, step ${active.currentStep}): ${activeRunLink(active, trigger)}. ` +
        'Wait for it to finish, then run the command again.',
    );
    return null;
  }
}
