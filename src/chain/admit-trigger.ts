// The first half of the intake job: from a stored trigger to a run. Parses the
// command, checks who asked, answers what is not a run (help, plan, status,
// retry, cancel, refusals), and creates the run row (its id derived from the
// delivery, so a retried intake finds it again).
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { RunCommands } from '../api/run-commands-port.ts';
import { type Command, FEATURE_KEY, parseCommand, type RunTarget, USAGE } from '../commands/parse-command.ts';
import type { Prisma, PrismaClient } from '../db/prisma.ts';
import { UserError } from '../errors.ts';
import { featureBranchName } from '../git/branch-name.ts';
import { addEyesReaction, createComment, removeLabel } from '../github/comments.ts';
import { type GitHubAuth, isNotFound, type Octokit, repoParams } from '../github/octokit.ts';
import { getRepositoryRole, isAllowedRunner, mayRun, needsWriteAccess } from '../github/permissions.ts';
import { renderStatus } from '../github/render/status.ts';
import { loadRepoConfig } from '../repo-config/index.ts';
import {
  type CheckRunTrigger,
  type CommentTrigger,
  type ContinuationTrigger,
  type LabelTrigger,
  type RepositoryRef,
  RUN_LABEL,
  type Trigger,
  trigger as triggerSchema,
} from '../webhooks/trigger.ts';
import { ACTIVE_STATUSES, runIdForTrigger } from './chain.ts';
import { buildPlanReply } from './plan-reply.ts';
import { ACTIONS } from './report-run.ts';
import { resolveFeatureFromRepository } from './resolve-feature.ts';
import { createRunCommands } from './run-commands.ts';
import type { Run } from './runs.ts';
import { type RunTriggerOptions, runTriggerOptions } from './trigger-options.ts';

export interface AdmitDeps {
  prisma: PrismaClient;
  github: GitHubAuth;
  log: Logger;
  /** Needed by retry and cancel (and the check-run buttons); without it they are refused. */
  boss?: PgBoss;
  /** SPECKIT_PUBLIC_URL: links to the dashboard in replies. */
  publicUrl?: string | undefined;
}

const ACTION_RETRY = ACTIONS.retry.identifier;
const ACTION_NEXT = ACTIONS.next.identifier;
const ACTION_ALL = ACTIONS.all.identifier;

interface Admission {
  deps: AdmitDeps;
  octokit: Octokit;
  deliveryId: string;
  runId: string;
  repo: RepositoryRef;
  actor: string;
  installationId: number;
}

export async function admitTrigger(deps: AdmitDeps, deliveryId: string): Promise<string | null> {
  const delivery = await deps.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } });
  if (!delivery) {
    deps.log.warn({ deliveryId }, 'intake job for an unknown delivery');
    return null;
  }
  const trigger = triggerSchema.parse(delivery.trigger);
  if (trigger.kind === 'comment' && parseCommand(trigger.body).kind === 'none') return null;
  const runId = runIdForTrigger(deliveryId);
  // A retried intake: the run exists, the replies below were already made.
  if (await deps.prisma.specWorkflowRun.findUnique({ where: { id: runId }, select: { id: true } }))
    return runId;

  const octokit = await deps.github.octokit(trigger.installationId);
  const admission: Admission = {
    deps,
    octokit,
    deliveryId,
    runId,
    repo: trigger.repository,
    actor: trigger.actor,
    installationId: trigger.installationId,
  };
  switch (trigger.kind) {
    case 'comment':
      return admitComment(admission, trigger);
    case 'label':
      return admitLabel(admission, trigger);
    case 'check_run':
      return admitCheckRun(admission, trigger);
    case 'continuation':
      return admitContinuation(admission, trigger);
  }
}

// --- comments -------------------------------------------------------------

async function admitComment(a: Admission, trigger: CommentTrigger): Promise<string | null> {
  const parsed = parseCommand(trigger.body);
  const reply = (body: string) => createComment(a.octokit, a.repo, trigger.issueNumber, body);
  if (parsed.kind === 'none') return null;
  if (parsed.kind === 'invalid') {
    await reply(`@${a.actor} ${parsed.message}`);
    return null;
  }
  const command = parsed.command;
  if (needsWriteAccess(command.name)) {
    const role = await getRepositoryRole(a.octokit, a.repo, a.actor);
    if (!mayRun(role)) {
      await reply(
        `@${a.actor} only collaborators with write, maintain or admin access can ${verbPhrase(command)} ` +
          `(your access: ${role}). Ask a maintainer to comment \`/speckit ${command.name}\` instead.`,
      );
      return null;
    }
    // .github/speckit.yml may narrow it further (allowed_runners); an invalid file says what is wrong.
    let allowed: readonly string[];
    try {
      allowed = (await loadRepoConfig(a.octokit, a.repo, a.repo.defaultBranch)).allowedRunners;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await reply(`@${a.actor} ${error.message}`);
      return null;
    }
    if (!(await isAllowedRunner(a.octokit, allowed, a.actor))) {
      await reply(
        `@${a.actor} this repository's \`.github/speckit.yml\` lets only ${allowed.map((x) => `\`${x}\``).join(', ')} ` +
          `${verbPhrase(command)}. Ask one of them, or add yourself to \`allowed_runners\`.`,
      );
      return null;
    }
  }
  // Accepted: the 👀 says so within a second, before any slower work.
  await addEyesReaction(a.octokit, a.repo, trigger.commentId);
  switch (command.name) {
    case 'help':
      await reply(USAGE);
      return null;
    case 'plan': {
      const featureKey = command.featureKey ?? (await featureFromContext(a, trigger));
      await reply(
        featureKey
          ? await buildPlanReply(a.octokit, { ...a.repo }, featureKey)
          : await noFeatureReply(a, 'plan'),
      );
      return null;
    }
    case 'status':
      await reply(await statusReply(a, trigger, command.featureKey));
      return null;
    case 'retry':
    case 'cancel':
      await reply(await runCommandReply(a, trigger, command.name, command.target));
      return null;
    case 'run': {
      const featureKey = command.featureKey ?? (await featureFromContext(a, trigger));
      if (!featureKey) {
        await reply(await noFeatureReply(a, 'run'));
        return null;
      }
      return createRun(a, {
        kind: 'comment',
        featureKey,
        issueNumber: trigger.issueNumber,
        commentId: trigger.commentId,
        branchName: featureBranchName(featureKey),
      });
    }
  }
}

function verbPhrase(command: Command): string {
  switch (command.name) {
    case 'retry':
      return 'retry Spec Kit runs';
    case 'cancel':
      return 'cancel Spec Kit runs';
    default:
      return 'start Spec Kit runs';
  }
}

/** The feature a command without one is about: the PR's branch, else the latest run on this issue or PR. */
async function featureFromContext(a: Admission, trigger: CommentTrigger): Promise<string | null> {
  if (trigger.isPullRequest) {
    const head = await pullRequestHead(a.octokit, a.repo, trigger.issueNumber);
    const feature = head ? featureFromBranch(head.ref) : null;
    if (feature) return feature;
  }
  const latest = await a.deps.prisma.specWorkflowRun.findFirst({
    where: { repository: a.repo.fullName, issueNumber: trigger.issueNumber },
    orderBy: { createdAt: 'desc' },
    select: { featureKey: true },
  });
  if (latest) return latest.featureKey;
  const resolved = await resolveFeatureFromRepository(a.octokit, a.repo, a.repo.defaultBranch);
  return resolved.kind === 'found' ? resolved.featureKey : null;
}

/** The reply when no feature could be resolved: the candidates and how to choose. */
async function noFeatureReply(a: Admission, verb: 'run' | 'plan'): Promise<string> {
  const resolved = await resolveFeatureFromRepository(a.octokit, a.repo, a.repo.defaultBranch);
  const example = (feature: string) => `\`/speckit ${verb} ${feature}\``;
  if (resolved.kind === 'ambiguous') {
    return (
      `@${a.actor} several features have pending tasks; name one:\n` +
      resolved.candidates.map((feature) => `- ${example(feature)}`).join('\n')
    );
  }
  const known =
    resolved.kind === 'none' && resolved.features.length > 0
      ? ` (features: ${resolved.features.map((f) => `\`${f}\``).join(', ')}, none with pending tasks)`
      : '';
  return `@${a.actor} name the feature to ${verb}, e.g. ${example('001-user-auth')}${known}.\n\n${USAGE}`;
}

/** `speckit/<feature>` → feature; a Spec Kit feature branch (`001-user-auth`) is the feature itself. */
export function featureFromBranch(ref: string): string | null {
  const name = ref.startsWith('speckit/') ? ref.slice('speckit/'.length) : ref;
  if (!FEATURE_KEY.test(name) || name.includes('..')) return null;
  return ref.startsWith('speckit/') || /^\d+-/.test(name) ? name : null;
}

async function pullRequestHead(
  octokit: Octokit,
  repo: RepositoryRef,
  number: number,
): Promise<{ ref: string; sha: string; repoFullName: string | null } | null> {
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
      ...repoParams(repo),
      pull_number: number,
    });
    return { ref: data.head.ref, sha: data.head.sha, repoFullName: data.head.repo?.full_name ?? null };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

async function statusReply(
  a: Admission,
  trigger: CommentTrigger,
  featureKey: string | null,
): Promise<string> {
  const prisma = a.deps.prisma;
  const select = {
    id: true,
    featureKey: true,
    phaseNumber: true,
    phaseTitle: true,
    status: true,
    conclusion: true,
    currentStep: true,
    prUrl: true,
    checkRunId: true,
    triggerActor: true,
    createdAt: true,
  } as const;
  const repository = a.repo.fullName;
  let scope = featureKey ? `\`${featureKey}\`` : `#${trigger.issueNumber}`;
  let runs = await prisma.specWorkflowRun.findMany({
    where: featureKey ? { repository, featureKey } : { repository, issueNumber: trigger.issueNumber },
    orderBy: { createdAt: 'desc' },
    take: 10,
    select,
  });
  if (!featureKey && runs.length === 0) {
    scope = a.repo.fullName;
    runs = await prisma.specWorkflowRun.findMany({
      where: { repository },
      orderBy: { createdAt: 'desc' },
      take: 10,
      select,
    });
  }
  return renderStatus({ scope, runs, repositoryUrl: a.repo.htmlUrl, publicUrl: a.deps.publicUrl });
}

/** Finds the run a retry or cancel is about; null with a reason when there is none. */
async function findTargetRun(
  a: Admission,
  issueNumber: number | null,
  target: RunTarget | null,
  statuses: readonly string[],
): Promise<Run | { missing: string }> {
  const prisma = a.deps.prisma;
  const repository = a.repo.fullName;
  const wanted = statuses === ACTIVE_STATUSES ? 'active' : statuses.join(' or ');
  if (target?.kind === 'run') {
    const run = await prisma.specWorkflowRun.findUnique({ where: { id: target.runId } });
    if (!run || run.repository !== repository)
      return { missing: `There is no run \`${target.runId}\` in ${repository}.` };
    return run;
  }
  const where: Prisma.SpecWorkflowRunWhereInput = { repository, status: { in: [...statuses] } };
  if (target?.kind === 'feature') where.featureKey = target.featureKey;
  else if (issueNumber !== null) where.issueNumber = issueNumber;
  const run = await prisma.specWorkflowRun.findFirst({ where, orderBy: { createdAt: 'desc' } });
  if (run) return run;
  const scope = target?.kind === 'feature' ? `\`${target.featureKey}\`` : 'this thread';
  return { missing: `There is no ${wanted} run for ${scope}.` };
}

function runCommands(a: Admission): RunCommands | null {
  return a.deps.boss ? createRunCommands({ prisma: a.deps.prisma, boss: a.deps.boss, github: null }) : null;
}

async function runCommandReply(
  a: Admission,
  trigger: CommentTrigger,
  name: 'retry' | 'cancel',
  target: RunTarget | null,
): Promise<string> {
  const commands = runCommands(a);
  if (!commands) return `@${a.actor} this server cannot ${name} runs from comments.`;
  const found = await findTargetRun(
    a,
    trigger.issueNumber,
    target,
    name === 'retry' ? ['failed'] : ACTIVE_STATUSES,
  );
  if ('missing' in found) return `@${a.actor} ${found.missing} Comment \`/speckit status\` to see the runs.`;
  if (name === 'retry') {
    const result = await commands.retryRun(found.id, { actor: a.actor });
    if (result.kind === 'retried')
      return `@${a.actor} retrying run \`${found.id}\` (\`${found.featureKey}\`) from step \`${found.errorStep ?? 'intake'}\`.`;
    return `@${a.actor} run \`${found.id}\` cannot be retried: ${'message' in result ? result.message : 'it was not found.'}`;
  }
  const result = await commands.cancelRun(found.id, { actor: a.actor });
  if (result.kind === 'cancelling')
    return `@${a.actor} cancelling run \`${found.id}\` (\`${found.featureKey}\`, step ${found.currentStep}).`;
  return `@${a.actor} run \`${found.id}\` cannot be cancelled: ${'message' in result ? result.message : 'it was not found.'}`;
}

// --- the label ------------------------------------------------------------

async function admitLabel(a: Admission, trigger: LabelTrigger): Promise<string | null> {
  const reply = (body: string) => createComment(a.octokit, a.repo, trigger.issueNumber, body);
  if (trigger.fork) {
    await reply(
      `@${a.actor} Spec Kit runs only on pull requests whose branch is in ${a.repo.fullName}; ` +
        'this one comes from a fork, so nothing was started. Push the branch to this repository and label that pull request.',
    );
    return null;
  }
  const role = await getRepositoryRole(a.octokit, a.repo, a.actor);
  if (!mayRun(role)) {
    await reply(
      `@${a.actor} only collaborators with write, maintain or admin access can start Spec Kit runs (your access: ${role}).`,
    );
    return null;
  }
  const headBranch = trigger.headBranch ?? '';
  const featureKey = featureFromBranch(headBranch);
  if (!featureKey) {
    await reply(
      `@${a.actor} the branch \`${headBranch}\` does not name a Spec Kit feature (e.g. \`001-user-auth\` or \`speckit/001-user-auth\`); ` +
        'comment `/speckit run <feature>` instead.',
    );
    return null;
  }
  const runId = await createRun(a, {
    kind: 'label',
    featureKey,
    issueNumber: trigger.issueNumber,
    commentId: null,
    branchName: headBranch,
  });
  // Accepted: the label goes, so that adding it again triggers again.
  if (runId) await removeLabel(a.octokit, a.repo, trigger.issueNumber, trigger.label || RUN_LABEL);
  return runId;
}

// --- check-run buttons and Re-run ------------------------------------------

async function admitCheckRun(a: Admission, trigger: CheckRunTrigger): Promise<string | null> {
  const prisma = a.deps.prisma;
  const run = trigger.externalId
    ? await prisma.specWorkflowRun.findUnique({ where: { id: trigger.externalId } }).catch(() => null)
    : null;
  if (!run || run.repository !== a.repo.fullName) {
    a.deps.log.info({ externalId: trigger.externalId }, 'check run event for a run this app does not know');
    return null;
  }
  const reply = (body: string) =>
    run.issueNumber !== null ? createComment(a.octokit, a.repo, run.issueNumber, body) : Promise.resolve(0);
  const role = await getRepositoryRole(a.octokit, a.repo, a.actor);
  if (!mayRun(role)) {
    await reply(
      `@${a.actor} only collaborators with write, maintain or admin access can re-run Spec Kit runs (your access: ${role}).`,
    );
    return null;
  }
  const intent = checkRunIntent(trigger, run);
  if (intent === 'none') return null;
  if (intent === 'retry') {
    const commands = runCommands(a);
    const result = await commands?.retryRun(run.id, { actor: a.actor });
    if (result && result.kind !== 'retried' && 'message' in result)
      await reply(`@${a.actor} run \`${run.id}\` cannot be retried: ${result.message}`);
    return null;
  }
  // A new run for the next phase, on the same branch, reported in the same thread.
  const previous = await runTriggerOptions(prisma, run);
  await storeOptions(a, { ...previous, all: intent === 'all' });
  return createRun(a, {
    kind: 'check_run',
    featureKey: run.featureKey,
    issueNumber: run.issueNumber,
    commentId: null,
    branchName: run.branchName,
  });
}

/** What a check-run event asks for, given the run it reports. */
export function checkRunIntent(
  trigger: Pick<CheckRunTrigger, 'action' | 'identifier'>,
  run: Pick<Run, 'status' | 'conclusion'>,
): 'retry' | 'next' | 'all' | 'none' {
  if (ACTIVE_STATUSES.includes(run.status as (typeof ACTIVE_STATUSES)[number])) return 'none';
  if (trigger.action === 'rerequested') return run.status === 'failed' ? 'retry' : 'next';
  switch (trigger.identifier) {
    case ACTION_RETRY:
      return run.status === 'failed' ? 'retry' : 'none';
    case ACTION_NEXT:
      return 'next';
    case ACTION_ALL:
      return 'all';
    default:
      return 'none';
  }
}

// --- the next phase after a success (--all) -------------------------------

async function admitContinuation(a: Admission, trigger: ContinuationTrigger): Promise<string | null> {
  // The person who asked for --all was authorized when the first run started.
  const previous = await a.deps.prisma.specWorkflowRun.findUnique({ where: { id: trigger.previousRunId } });
  return createRun(a, {
    kind: 'continuation',
    featureKey: trigger.featureKey,
    issueNumber: trigger.issueNumber,
    commentId: null,
    branchName: previous?.branchName ?? trigger.headBranch ?? featureBranchName(trigger.featureKey),
  });
}

// --- run creation ---------------------------------------------------------

/** Writes the resolved run options into the stored trigger, where the steps read them. */
async function storeOptions(a: Admission, options: RunTriggerOptions): Promise<void> {
  const delivery = await a.deps.prisma.webhookDelivery.findUnique({ where: { id: a.deliveryId } });
  const stored = (delivery?.trigger ?? {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = {
    ...stored,
    codexMode: options.codexMode,
    draft: options.draft,
    all: options.all,
  };
  if (options.headBranch) merged.headBranch = options.headBranch;
  await a.deps.prisma.webhookDelivery.update({
    where: { id: a.deliveryId },
    data: { trigger: merged as Prisma.InputJsonValue },
  });
}

/** Where a person can watch a run: its check run once it has one, else where it was asked for. */
function activeRunLink(
  run: { checkRunId: bigint | null; issueNumber: number | null },
  repo: RepositoryRef,
  issueNumber: number | null,
): string {
  if (run.checkRunId !== null) return `${repo.htmlUrl}/runs/${run.checkRunId}`;
  const number = run.issueNumber ?? issueNumber;
  return number !== null ? `${repo.htmlUrl}/issues/${number}` : repo.htmlUrl;
}

async function createRun(
  a: Admission,
  params: {
    kind: Trigger['kind'];
    featureKey: string;
    issueNumber: number | null;
    commentId: number | null;
    branchName: string;
  },
): Promise<string | null> {
  const { featureKey } = params;
  try {
    await a.deps.prisma.specWorkflowRun.create({
      data: {
        id: a.runId,
        repository: a.repo.fullName,
        installationId: BigInt(a.installationId),
        featureKey,
        triggerKind: params.kind,
        triggerActor: a.actor,
        triggerDeliveryId: a.deliveryId,
        issueNumber: params.issueNumber,
        commentId: params.commentId === null ? null : BigInt(params.commentId),
        cloneUrl: a.repo.cloneUrl,
        defaultBranch: a.repo.defaultBranch,
        branchName: params.branchName,
        createdBy: a.actor,
      },
    });
    return a.runId;
  } catch (error) {
    // The partial unique index allows one active run per feature.
    const active = await a.deps.prisma.specWorkflowRun.findFirst({
      where: { repository: a.repo.fullName, featureKey, status: { in: [...ACTIVE_STATUSES] } },
    });
    if (!active) throw error;
    if (params.issueNumber !== null) {
      await createComment(
        a.octokit,
        a.repo,
        params.issueNumber,
        `@${a.actor} a Spec Kit run for \`${featureKey}\` is already in progress ` +
          `(run \`${active.id}\`, step ${active.currentStep}): ${activeRunLink(active, a.repo, params.issueNumber)}. ` +
          'Wait for it to finish, then run the command again.',
      );
    }
    return null;
  }
}
