// The per-installation caps of `.github/speckit.yml` (`limits`), checked
// whenever a run is about to be created: at most `max_active_runs` runs of
// the installation pending, running or cancelling, and at most
// `max_runs_per_day` runs created in the last 24 hours. The check and the
// insert share one transaction holding an advisory lock per installation, so
// two triggers arriving together cannot both take the last place.
//
// The runs counted are the installation's, the limits those of the repository
// that triggered, so a repository's file could lift the cap for the
// installation's other repositories: the server's SPECKIT_MAX_ACTIVE_RUNS is
// the cap, and a repository's `max_active_runs` can only lower it for its own
// triggers.
import type { Tx } from '../db/prisma.ts';
import type { RunLimitExceeded } from '../github/render/run-limit.ts';
import type { RepoConfig } from '../repo-config/index.ts';
import { ACTIVE_STATUSES } from './chain.ts';

/** The window `limits.max_runs_per_day` counts over. */
export const RUNS_PER_DAY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Advisory-lock namespace (first key) for the admission of runs per installation. */
const LIMITS_LOCK_NAMESPACE = 0x5350_4b4c; // "SPKL"

/**
 * Takes the installation's admission lock for the rest of the transaction and
 * tells whether one more run would go over `limits`; null when it fits.
 */
export async function checkRunLimits(
  tx: Tx,
  installationId: bigint,
  limits: RepoConfig['limits'],
  serverMaxActiveRuns: number,
  now: Date = new Date(),
): Promise<RunLimitExceeded | null> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LIMITS_LOCK_NAMESPACE}::int, hashtext(${installationId.toString()}))`;
  const active = await tx.specWorkflowRun.count({
    where: { installationId, status: { in: [...ACTIVE_STATUSES] } },
  });
  const repositoryLowers = limits.maxActiveRuns !== undefined && limits.maxActiveRuns < serverMaxActiveRuns;
  const maxActive = repositoryLowers ? (limits.maxActiveRuns as number) : serverMaxActiveRuns;
  if (active >= maxActive) {
    return {
      field: repositoryLowers ? 'limits.max_active_runs' : 'SPECKIT_MAX_ACTIVE_RUNS',
      limit: maxActive,
      current: active,
      freesAt: null,
    };
  }
  if (limits.maxRunsPerDay === undefined) return null;
  const since = new Date(now.getTime() - RUNS_PER_DAY_WINDOW_MS);
  const today = await tx.specWorkflowRun.count({ where: { installationId, createdAt: { gt: since } } });
  if (today < limits.maxRunsPerDay) return null;
  // The run that leaves the window first frees a place when enough have left.
  const oldest = await tx.specWorkflowRun.findMany({
    where: { installationId, createdAt: { gt: since } },
    orderBy: { createdAt: 'asc' },
    skip: today - limits.maxRunsPerDay,
    take: 1,
    select: { createdAt: true },
  });
  const first = oldest[0]?.createdAt;
  return {
    field: 'limits.max_runs_per_day',
    limit: limits.maxRunsPerDay,
    current: today,
    freesAt: first ? new Date(first.getTime() + RUNS_PER_DAY_WINDOW_MS) : null,
  };
}
