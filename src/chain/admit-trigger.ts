// The first half of the intake job: from a stored trigger to a run. Parses the
// command, checks who asked, answers what is not a run (help, plan, status,
// retry, cancel, refusals), and creates the run row (its id derived from the
// delivery, so a retried intake finds it again). The repository's
// .github/speckit.yml decides the branch (`branch_prefix`), whether the run goes
// on after a success (`auto_continue`), the installation's run limits (`limits`)
// and who may start runs (`allowed_runners`).
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { RunCommands } from '../api/run-commands-port.ts';
import { type Command, FEATURE_KEY, parseCommand, type RunTarget, USAGE } from '../commands/parse-command.ts';
import { DEFAULT_MAX_ACTIVE_RUNS } from '../config.ts';
import type { Prisma, PrismaClient } from '../db/prisma.ts';
import { UserError } from '../errors.ts';
import { DEFAULT_BRANCH_PREFIX, featureBranchName } from '../git/branch-name.ts';
import { addEyesReaction, createComment, removeLabel } from '../github/comments.ts';
import { type GitHubAuth, isNotFound, type Octokit, repoParams } from '../github/octokit.ts';
import { getRepositoryRole, isAllowedRunner, mayRun, needsWriteAccess } from '../github/permissions.ts';
import { renderRunLimit } from '../github/render/run-limit.ts';
import { renderStatus } from '../github/render/status.ts';
import { loadRepoConfig, type RepoConfig } from '../repo-config/index.ts';
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
import { checkRunLimits } from './run-limits.ts';
import type { Run } from './runs.ts';
import { type RunTriggerOptions, runTriggerOptions, triggerOptions } from './trigger-options.ts';

export interface AdmitDeps {
  prisma: PrismaClient;
  github: GitHubAuth;
  log: Logger;
  /** Needed by retry and cancel (and the check-run buttons); without it they are refused. */
  boss?: PgBoss;
  /** SPECKIT_PUBLIC_URL: links to the dashboard in replies. */
  publicUrl?: string | undefined;
  /** SPECKIT_MAX_ACTIVE_RUNS (default DEFAULT_MAX_ACTIVE_RUNS). */
  maxActiveRuns?: number;
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
  /** The repository's .github/speckit.yml (read once per admission); rejects with a RepoConfigError when invalid. */
  config(): Promise<RepoConfig>;
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
  let config: Promise<RepoConfig> | null = null;
  const admission: Admission = {
    deps,
    octokit,
    deliveryId,
    runId,
    repo: trigger.repository,
    actor: trigger.actor,
    installationId: trigger.installationId,
    config: () => {
      config ??= loadRepoConfig(octokit, trigger.repository, trigger.repository.defaultBranch);
      return config;
    },
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
    const authorized = await authorizeRunner(
      a,
      reply,
      verbPhrase(command),
      ` Ask a maintainer to comment \`/speckit ${command.name}\` instead.`,
    );
    if (!authorized) return null;
  }
  // Accepted: the 👀 says so within a second, before any slower work.
  await addEyesReaction(a.octokit, a.repo, trigger.commentId);
  switch (command.name) {
    case 'help':
      await reply(USAGE);
      return null;
    case 'plan': {
      const config = await configOrReply(a, reply);
      if (!config) return null;
      const featureKey = command.featureKey ?? (await featureFromContext(a, trigger, config));
      await reply(
        featureKey
          ? await buildPlanReply(a.octokit, { ...a.repo }, featureKey, config)
          : await noFeatureReply(a, 'plan', config),
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
      const config = await configOrReply(a, reply);
      if (!config) return null;
      const pr = trigger.isPullRequest ? await pullRequestHead(a.octokit, a.repo, trigger.issueNumber) : null;
      if (pr && pr.repoFullName !== a.repo.fullName) {
        await reply(forkRefusal(a, 'comment `/speckit run` on that pull request'));
        return null;
      }
      const featureKey = command.featureKey ?? (await featureFromContext(a, trigger, config, pr));
      if (!featureKey) {
        await reply(await noFeatureReply(a, 'run', config));
        return null;
      }
      // On an open pull request the run works on the PR's own head branch, as
      // the label does (for the bot's own PR that is <branch_prefix><feature>),
      // unless that branch belongs to another feature; elsewhere, on a closed
      // PR, and on a PR whose head is the default branch (never pushed to), on
      // the bot's branch for the feature.
      const headFeature = pr ? featureFromBranch(pr.ref, config.branchPrefix) : null;
      const headBranch =
        pr?.state === 'open' &&
        pr.ref !== a.repo.defaultBranch &&
        (headFeature === null || headFeature === featureKey)
          ? pr.ref
          : null;
      const all = wantsAllPhases(command, config);
      if (all !== command.all || headBranch) {
        await storeOptions(a, { ...triggerOptions(trigger), all, headBranch });
      }
      return createRun(a, config, {
        kind: 'comment',
        featureKey,
        issueNumber: trigger.issueNumber,
        commentId: trigger.commentId,
        branchName: headBranch ?? featureBranchName(featureKey, config.branchPrefix),
        phaseNumber: command.phase,
      });
    }
  }
}

/**
 * Whether a `/speckit run` goes on with the next phase after each success:
 * `--all` says yes, `--once` and `--phase N` say no; without either the
 * repository's `auto_continue` decides (off by default).
 */
export function wantsAllPhases(
  command: Pick<Extract<Command, { name: 'run' }>, 'all' | 'once' | 'phase'>,
  config: RepoConfig,
): boolean {
  if (command.phase !== null || command.once) return false;
  if (command.all) return true;
  return config.autoContinue;
}

/** The repository's configuration, or null after replying with what is wrong in it. */
async function configOrReply(
  a: Admission,
  reply: (body: string) => Promise<unknown>,
): Promise<RepoConfig | null> {
  try {
    return await a.config();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    await reply(`@${a.actor} ${error.message}`);
    return null;
  }
}

/**
 * Whether the sender may start, retry or cancel runs: write, maintain or admin
 * access and, when .github/speckit.yml lists `allowed_runners`, one of them.
 * Returns the configuration when they may; otherwise replies why and returns null.
 */
async function authorizeRunner(
  a: Admission,
  reply: (body: string) => Promise<unknown>,
  verb: string,
  hint = '',
): Promise<RepoConfig | null> {
  // The configuration is read while the role is looked up (reads are not
  // paced): both are on the way to the check run.
  void a.config().catch(() => {});
  const role = await getRepositoryRole(a.octokit, a.repo, a.actor);
  if (!mayRun(role)) {
    await reply(
      `@${a.actor} only collaborators with write, maintain or admin access can ${verb} (your access: ${role}).${hint}`,
    );
    return null;
  }
  const config = await configOrReply(a, reply);
  if (!config) return null;
  const allowed = config.allowedRunners;
  let allowedRunner: boolean;
  try {
    allowedRunner = await isAllowedRunner(a.octokit, allowed, a.actor);
  } catch (error) {
    // e.g. `org/team` entries without the App's Members: read permission: say so.
    if (!(error instanceof UserError)) throw error;
    await reply(`@${a.actor} ${error.message}`);
    return null;
  }
  if (!allowedRunner) {
    await reply(
      `@${a.actor} this repository's \`.github/speckit.yml\` lets only ${allowed.map((x) => `\`${x}\``).join(', ')} ` +
        `${verb}. Ask one of them, or add yourself to \`allowed_runners\`.`,
    );
    return null;
  }
  return config;
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

/**
 * The feature a command without one is about: the PR's branch (`head`, when
 * the caller already looked it up), else the latest run on this issue or PR.
 */
async function featureFromContext(
  a: Admission,
  trigger: CommentTrigger,
  config: RepoConfig,
  head?: PullRequestHead | null,
): Promise<string | null> {
  if (trigger.isPullRequest) {
    const pr = head === undefined ? await pullRequestHead(a.octokit, a.repo, trigger.issueNumber) : head;
    const feature = pr ? featureFromBranch(pr.ref, config.branchPrefix) : null;
    if (feature) return feature;
  }
  const latest = await a.deps.prisma.specWorkflowRun.findFirst({
    where: { repository: a.repo.fullName, issueNumber: trigger.issueNumber },
    orderBy: { createdAt: 'desc' },
    select: { featureKey: true },
  });
  if (latest) return latest.featureKey;
  const resolved = await resolveFeatureFromRepository(
    a.octokit,
    a.repo,
    a.repo.defaultBranch,
    config.specsDir,
  );
  return resolved.kind === 'found' ? resolved.featureKey : null;
}

/** The reply when no feature could be resolved: the candidates and how to choose. */
async function noFeatureReply(a: Admission, verb: 'run' | 'plan', config: RepoConfig): Promise<string> {
  const resolved = await resolveFeatureFromRepository(
    a.octokit,
    a.repo,
    a.repo.defaultBranch,
    config.specsDir,
  );
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

/**
 * `<branch_prefix><feature>` (or the default `speckit/<feature>`, which runs
 * made before a prefix change still use) → feature; a Spec Kit feature branch
 * (`001-user-auth`) is the feature itself.
 */
export function featureFromBranch(ref: string, branchPrefix: string = DEFAULT_BRANCH_PREFIX): string | null {
  const prefix = [branchPrefix, DEFAULT_BRANCH_PREFIX].find((candidate) => ref.startsWith(candidate));
  const name = prefix ? ref.slice(prefix.length) : ref;
  if (!FEATURE_KEY.test(name) || name.includes('..')) return null;
  return prefix || /^\d+-/.test(name) ? name : null;
}

interface PullRequestHead {
  ref: string;
  sha: string;
  /** The repository the head branch lives in; null when that fork was deleted. */
  repoFullName: string | null;
  state: 'open' | 'closed';
}

async function pullRequestHead(
  octokit: Octokit,
  repo: RepositoryRef,
  number: number,
): Promise<PullRequestHead | null> {
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
      ...repoParams(repo),
      pull_number: number,
    });
    return {
      ref: data.head.ref,
      sha: data.head.sha,
      repoFullName: data.head.repo?.full_name ?? null,
      state: data.state === 'open' ? 'open' : 'closed',
    };
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

/**
 * The reply to a run asked for on a pull request from a fork: the app never
 * pushes to a fork nor runs a fork's code, so it starts nothing there.
 */
function forkRefusal(a: Admission, then: string): string {
  return (
    `@${a.actor} Spec Kit runs only on pull requests whose branch is in ${a.repo.fullName}; ` +
    `this one comes from a fork, so nothing was started (the app never pushes to a fork or runs its code). ` +
    `Push the branch to this repository and ${then}, or comment \`/speckit run <feature>\` on an issue to work on the bot's own branch.`
  );
}

// --- the label ------------------------------------------------------------

async function admitLabel(a: Admission, trigger: LabelTrigger): Promise<string | null> {
  const reply = (body: string) => createComment(a.octokit, a.repo, trigger.issueNumber, body);
  if (trigger.fork) {
    await reply(forkRefusal(a, 'label that pull request'));
    return null;
  }
  const config = await authorizeRunner(a, reply, 'start Spec Kit runs');
  if (!config) return null;
  const headBranch = trigger.headBranch ?? '';
  if (headBranch === a.repo.defaultBranch) {
    await reply(
      `@${a.actor} this pull request's head branch is the default branch \`${headBranch}\`, and the app never pushes ` +
        'phase commits onto the default branch, so nothing was started. Comment `/speckit run <feature>` instead: ' +
        `the run then works on \`${config.branchPrefix}<feature>\` and opens its own pull request.`,
    );
    return null;
  }
  const featureKey = featureFromBranch(headBranch, config.branchPrefix);
  if (!featureKey) {
    await reply(
      `@${a.actor} the branch \`${headBranch}\` does not name a Spec Kit feature (e.g. \`001-user-auth\` or \`${config.branchPrefix}001-user-auth\`); ` +
        'comment `/speckit run <feature>` instead.',
    );
    return null;
  }
  // The label says nothing about continuing: the repository's auto_continue decides.
  const all = wantsAllPhases({ all: false, once: false, phase: null }, config);
  if (all) await storeOptions(a, { ...triggerOptions(trigger), all });
  const runId = await createRun(a, config, {
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
  const config = await authorizeRunner(a, reply, 're-run Spec Kit runs');
  if (!config) return null;
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
  // The buttons say whether to go on ("Run all") or not ("Next phase", Re-run).
  const previous = await runTriggerOptions(prisma, run);
  await storeOptions(a, { ...previous, all: intent === 'all' });
  return createRun(a, config, {
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

// --- the next phase after a success (--all, auto_continue) ----------------

async function admitContinuation(a: Admission, trigger: ContinuationTrigger): Promise<string | null> {
  // The person who asked for --all was authorized when the first run started;
  // the run limits are checked again, as for any run.
  const previous = await a.deps.prisma.specWorkflowRun.findUnique({ where: { id: trigger.previousRunId } });
  const issueNumber = trigger.issueNumber;
  const config = await configOrReply(a, (body) =>
    issueNumber !== null ? createComment(a.octokit, a.repo, issueNumber, body) : Promise.resolve(0),
  );
  if (!config) return null;
  return createRun(a, config, {
    kind: 'continuation',
    featureKey: trigger.featureKey,
    issueNumber: trigger.issueNumber,
    commentId: null,
    // The branch goes on as the first run named it, whatever the prefix is now.
    branchName:
      previous?.branchName ??
      trigger.headBranch ??
      featureBranchName(trigger.featureKey, config.branchPrefix),
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

/**
 * Creates the run row unless an installation limit of .github/speckit.yml is
 * reached (then replies naming it and creates nothing) or the feature already
 * has an active run (then replies linking it).
 */
async function createRun(
  a: Admission,
  config: RepoConfig,
  params: {
    kind: Trigger['kind'];
    featureKey: string;
    issueNumber: number | null;
    commentId: number | null;
    branchName: string;
    /** A phase forced with `--phase N` (discover keeps it); null: the next unfinished phase. */
    phaseNumber?: string | null;
  },
): Promise<string | null> {
  const { featureKey } = params;
  try {
    const exceeded = await a.deps.prisma.$transaction(async (tx) => {
      const over = await checkRunLimits(
        tx,
        BigInt(a.installationId),
        config.limits,
        a.deps.maxActiveRuns ?? DEFAULT_MAX_ACTIVE_RUNS,
      );
      if (over) return over;
      await tx.specWorkflowRun.create({
        data: {
          id: a.runId,
          repository: a.repo.fullName,
          installationId: BigInt(a.installationId),
          featureKey,
          phaseNumber: params.phaseNumber ?? null,
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
      return null;
    });
    if (exceeded) {
      a.deps.log.info({ deliveryId: a.deliveryId, ...exceeded }, 'run refused: installation limit');
      const what = params.kind === 'continuation' ? 'the next phase of' : 'the run for';
      if (params.issueNumber !== null) {
        await createComment(
          a.octokit,
          a.repo,
          params.issueNumber,
          `@${a.actor} ${renderRunLimit(exceeded, `${what} \`${featureKey}\``)}`,
        );
      }
      return null;
    }
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
