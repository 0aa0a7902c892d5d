// What discover hands to the later steps (stored in step_output).
import { z } from 'zod';
import { NonRetryableError } from '../../errors.ts';
import { loadStepOutput } from '../runs.ts';
import type { StepContext } from '../step-context.ts';

export const discoverOutput = z.object({
  /** The branch the run read and builds on. */
  sourceBranch: z.string(),
  /** True when that is the run's own branch (speckit/<feature>) with earlier phases. */
  continuing: z.boolean(),
  /**
   * The sha the run's branch had on the remote when the run decided to start
   * afresh from its base (its previous PR was closed or merged); publish
   * replaces it with a lease on exactly that sha. Null otherwise.
   */
  replacesSha: z.string().nullable().default(null),
  /** The commit the run starts from (after bringing the branch up to date). */
  baseSha: z.string(),
  /** What the run's branch is built from: the Spec Kit feature branch when it exists, else the default branch. */
  baseBranch: z.string().nullable().default(null),
  /**
   * The branch the run's pull request targets: the feature branch when its own
   * (spec) pull request is open — a stacked PR — else the default branch. Null:
   * stored before this existed (the default branch).
   */
  prBase: z.string().nullable().default(null),
  /** Whether the run's branch is the bot's own (updated from its base, its PR retargeted). Null: stored before this existed. */
  ownsBranch: z.boolean().nullable().default(null),
  /** How discover brought the continued branch up to date with its base before Codex, if it had to. */
  branchUpdate: z
    .object({
      mode: z.enum(['merge', 'rebase']),
      base: z.string(),
      baseSha: z.string(),
      before: z.string(),
      after: z.string(),
    })
    .nullable()
    .default(null),
  phase: z.object({ number: z.string().nullable(), title: z.string() }),
  taskIds: z.array(z.string()),
  /** The feature's title (tasks.md `# Tasks: …` or spec.md's first heading). */
  featureTitle: z.string().nullable().default(null),
  warnings: z.array(z.object({ line: z.number(), message: z.string() })).default([]),
  /** The repository's `.github/speckit.yml` as it was when the run started (defaults when absent). */
  repoConfig: z
    .object({
      draft: z.boolean(),
      labels: z.array(z.string()),
      maxFiles: z.number(),
      maxLines: z.number(),
      allowWorkflowChanges: z.boolean(),
      codexMode: z.enum(['local', 'cloud']).nullable(),
      codexModel: z.string().nullable(),
      cloudEnv: z.string().nullable(),
      setup: z.array(z.string()).default([]),
      verify: z.array(z.string()).default([]),
      onVerifyFailure: z.enum(['fail', 'warn']).default('fail'),
    })
    .nullable()
    .default(null),
  /** Where tasks.md is, relative to the repository (the specs directory is configurable). */
  tasksPath: z.string().nullable().default(null),
});
export type DiscoverOutput = z.infer<typeof discoverOutput>;

export async function loadDiscoverOutput(
  ctx: Pick<StepContext, 'prisma'>,
  runId: string,
): Promise<DiscoverOutput> {
  const stored = await loadStepOutput(ctx.prisma, runId, 'discover');
  const parsed = discoverOutput.safeParse(stored?.data);
  if (!parsed.success)
    throw new NonRetryableError(`run ${runId} has no stored discover output; start a new run`);
  return parsed.data;
}
