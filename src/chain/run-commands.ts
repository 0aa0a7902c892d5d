// What people can do to runs besides commenting: start one through the API,
// retry a failed one from its failed step, cancel an active one. Each is one
// transaction, so concurrent commands on a run end in one consistent state.
import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { fromPrisma } from 'pg-boss';
import type {
  CancelRunResult,
  CreateRunResult,
  RetryRunResult,
  RunCommands,
} from '../api/run-commands-port.ts';
import { FEATURE_KEY } from '../commands/parse-command.ts';
import { DEFAULT_MAX_ACTIVE_RUNS } from '../config.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { UserError } from '../errors.ts';
import { featureBranchName } from '../git/branch-name.ts';
import { findInstalledRepository } from '../github/installations.ts';
import type { GitHubAuth } from '../github/octokit.ts';
import { parseRepository } from '../github/octokit.ts';
import { renderRunLimit } from '../github/render/run-limit.ts';
import { loadRepoConfig, type RepoConfig } from '../repo-config/index.ts';
import { notifyCancel } from './cancel-listener.ts';
import { ACTIVE_STATUSES, isStep, queueName } from './chain.ts';
import { checkRunLimits } from './run-limits.ts';
import { enqueueStep } from './runs.ts';

export interface RunCommandDeps {
  prisma: PrismaClient;
  boss: PgBoss;
  /** Null while the GitHub App is not configured: runs cannot be created then. */
  github: GitHubAuth | null;
  /** SPECKIT_MAX_ACTIVE_RUNS (default DEFAULT_MAX_ACTIVE_RUNS). */
  maxActiveRuns?: number;
}

export function createRunCommands(deps: RunCommandDeps): RunCommands {
  return {
    createRun: (input) => createRun(deps, input),
    retryRun: (runId, input) => retryRun(deps, runId, input),
    cancelRun: (runId, input) => cancelRun(deps, runId, input),
  };
}

async function createRun(
  deps: RunCommandDeps,
  input: { repository: string; featureKey?: string; forcePhase?: string; createdBy: string },
): Promise<CreateRunResult> {
  if (!deps.github)
    return { kind: 'not_installed', message: 'The GitHub App is not configured on this server.' };
  if (!input.featureKey) {
    return {
      kind: 'invalid',
      message: 'featureKey is required: name a directory under specs/, e.g. 001-user-auth.',
    };
  }
  if (!FEATURE_KEY.test(input.featureKey) || input.featureKey.includes('..')) {
    return {
      kind: 'invalid',
      message: `featureKey \`${input.featureKey}\` is not a safe directory name under specs/.`,
    };
  }
  let repo: ReturnType<typeof parseRepository>;
  try {
    repo = parseRepository(input.repository);
  } catch {
    return { kind: 'invalid', message: 'repository must be owner/name.' };
  }
  const github = deps.github;
  const installed = await findInstalledRepository(await github.app(), (id) => github.octokit(id), repo);
  if (!installed) {
    return {
      kind: 'not_installed',
      message: `The app is not installed on ${input.repository}: install it there first.`,
    };
  }
  // The repository's .github/speckit.yml: the branch prefix and the installation's limits.
  let config: RepoConfig;
  try {
    const octokit = await github.octokit(installed.installationId);
    config = await loadRepoConfig(octokit, repo, installed.defaultBranch);
  } catch (error) {
    if (error instanceof UserError) return { kind: 'invalid', message: error.message };
    throw error;
  }
  const featureKey = input.featureKey;
  const runId = randomUUID();
  try {
    const exceeded = await deps.prisma.$transaction(async (tx) => {
      const over = await checkRunLimits(
        tx,
        BigInt(installed.installationId),
        config.limits,
        deps.maxActiveRuns ?? DEFAULT_MAX_ACTIVE_RUNS,
      );
      if (over) return over;
      await tx.specWorkflowRun.create({
        data: {
          id: runId,
          repository: installed.fullName,
          installationId: BigInt(installed.installationId),
          featureKey,
          // A forced phase is chosen up front; discover keeps it.
          phaseNumber: input.forcePhase ?? null,
          triggerKind: 'api',
          triggerActor: input.createdBy,
          cloneUrl: installed.cloneUrl,
          defaultBranch: installed.defaultBranch,
          branchName: featureBranchName(featureKey, config.branchPrefix),
          createdBy: input.createdBy,
        },
      });
      await deps.boss.send(queueName('intake'), { runId }, { id: runId, db: fromPrisma(tx) });
      return null;
    });
    if (exceeded)
      return {
        kind: 'limited',
        field: exceeded.field,
        message: renderRunLimit(exceeded, `The run for \`${featureKey}\``),
      };
    return { kind: 'created', runId };
  } catch (error) {
    const active = await deps.prisma.specWorkflowRun.findFirst({
      where: {
        repository: installed.fullName,
        featureKey: input.featureKey,
        status: { in: [...ACTIVE_STATUSES] },
      },
    });
    if (active) return { kind: 'active', runId: active.id };
    throw error;
  }
}

async function retryRun(
  deps: RunCommandDeps,
  runId: string,
  input: { notes?: string; actor: string },
): Promise<RetryRunResult> {
  try {
    return await deps.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM spec_workflow_run WHERE id = ${runId}::uuid FOR UPDATE`;
      const run = await tx.specWorkflowRun.findUnique({ where: { id: runId } });
      if (!run) return { kind: 'not_found' } as const;
      if (run.status !== 'failed') {
        return {
          kind: 'conflict',
          message: `Only failed runs can be retried; this run is ${run.status}.`,
        } as const;
      }
      const step = run.errorStep && isStep(run.errorStep) ? run.errorStep : 'intake';
      // Resumes at the failed step; what earlier steps stored (the Codex
      // patch, the commit) is reused, and new attempts are added.
      await tx.specWorkflowRun.update({
        where: { id: runId },
        data: {
          status: 'running',
          currentStep: step,
          conclusion: null,
          summary: input.notes ? `Retried by ${input.actor}: ${input.notes}` : null,
          errorCode: null,
          errorMessage: null,
          errorStep: null,
          finishedAt: null,
        },
      });
      await enqueueStep(tx, deps.boss, runId, step);
      return { kind: 'retried' } as const;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      return {
        kind: 'conflict',
        message: 'Another run for this feature is active; wait for it or cancel it first.',
      };
    }
    throw error;
  }
}

async function cancelRun(
  deps: RunCommandDeps,
  runId: string,
  input: { actor: string },
): Promise<CancelRunResult> {
  return deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM spec_workflow_run WHERE id = ${runId}::uuid FOR UPDATE`;
    const run = await tx.specWorkflowRun.findUnique({ where: { id: runId } });
    if (!run) return { kind: 'not_found' } as const;
    if (!ACTIVE_STATUSES.includes(run.status as (typeof ACTIVE_STATUSES)[number])) {
      return { kind: 'conflict', message: `The run already ended (${run.status}).` } as const;
    }
    if (run.status !== 'cancelling') {
      await tx.specWorkflowRun.update({
        where: { id: runId },
        data: { status: 'cancelling', summary: `Cancelled by ${input.actor}.` },
      });
      await notifyCancel(tx, runId);
    }
    return { kind: 'cancelling' } as const;
  });
}

function isUniqueViolation(error: unknown): boolean {
  const text = `${(error as Error)?.message ?? ''} ${JSON.stringify((error as { meta?: unknown })?.meta ?? {})}`;
  return (error as { code?: string })?.code === 'P2002' || /unique constraint|23505/i.test(text);
}
