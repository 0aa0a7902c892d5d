// publish: rebuild apply's commit from the stored patch (same sha), push the
// run's branch, and find or create its pull request. Each part is safe to
// repeat: an already pushed commit is not pushed again, and the PR is found
// by its head branch before one is created.
import { NonRetryableError } from '../../errors.ts';
import { runGit } from '../../git/run-git.ts';
import {
  applyPatch,
  cloneRepository,
  commitAll,
  createBranch,
  headSha,
  lsRemoteBranch,
  pushBranch,
} from '../../git/workspace.ts';
import { parseRepository } from '../../github/octokit.ts';
import { findOrCreatePullRequest } from '../../github/pull-requests.ts';
import { renderPullRequestBody } from '../../github/render/pull-request-body.ts';
import { phaseLabel } from '../../github/render/run-report.ts';
import { loadStepOutput } from '../runs.ts';
import type { StepHandler } from '../step-context.ts';
import { loadDiscoverOutput } from './codex.ts';
import { applyOutput, BOT_IDENTITY, RUN_TRAILER } from './commit-spec.ts';
import { gitAuth, loadWarnings } from './workspace-source.ts';

export const publishStep: StepHandler = async (run, ctx) => {
  const discovered = await loadDiscoverOutput(ctx, run.id);
  const stored = await loadStepOutput(ctx.prisma, run.id, 'apply');
  const applied = applyOutput.safeParse(stored?.data);
  if (!applied.success || !stored?.patch)
    throw new NonRetryableError(`run ${run.id} has no stored commit; start a new run`);
  const commit = applied.data;
  const auth = await gitAuth(run, ctx);
  const remoteSha = await lsRemoteBranch(run.cloneUrl, run.branchName, auth);
  let pushed = false;
  if (remoteSha !== commit.commitSha) {
    const expected = discovered.continuing ? commit.parentSha : null;
    if (remoteSha !== expected) {
      throw new NonRetryableError(
        `\`${run.branchName}\` moved while this run worked (now at ${remoteSha ?? 'nothing'}, expected ${expected ?? 'no branch'}). ` +
          'The run will not overwrite it: run the command again to build on the new state.',
      );
    }
    const dir = ctx.workspaceDir;
    await cloneRepository({ cloneUrl: run.cloneUrl, dir, branch: discovered.sourceBranch, auth });
    if ((await headSha(dir)) !== commit.parentSha) {
      // The default branch moved on since apply: rebuild on apply's parent.
      await runGit(['fetch', '--depth=1', 'origin', commit.parentSha], { cwd: dir, auth });
      await runGit(['checkout', '--quiet', '--detach', commit.parentSha], { cwd: dir });
    }
    if (!discovered.continuing) await createBranch(dir, run.branchName);
    await applyPatch(dir, stored.patch);
    const rebuilt = await commitAll(dir, {
      message: commit.message,
      author: BOT_IDENTITY,
      trailers: { [RUN_TRAILER]: run.id },
      date: commit.commitDate,
    });
    if (rebuilt !== commit.commitSha) {
      throw new NonRetryableError(
        `Rebuilding the commit gave ${rebuilt}, not ${commit.commitSha}; start a new run.`,
      );
    }
    ({ pushed } = await pushBranch({
      dir,
      cloneUrl: run.cloneUrl,
      branch: run.branchName,
      auth,
      expectedRemoteSha: remoteSha,
    }));
  }
  const codex = await loadStepOutput(ctx.prisma, run.id, 'codex');
  const octokit = await ctx.github.octokit(Number(run.installationId));
  const label = phaseLabel({ phaseNumber: discovered.phase.number, phaseTitle: discovered.phase.title });
  const pr = await findOrCreatePullRequest(octokit, parseRepository(run.repository), {
    head: run.branchName,
    base: run.defaultBranch,
    title: `Spec Kit: ${run.featureKey}`,
    body: renderPullRequestBody({
      featureKey: run.featureKey,
      phaseLabel: label,
      runId: run.id,
      tasks: commit.verified,
      unverified: commit.unverified,
      codexMessage: (codex?.data.lastMessage as string | null | undefined) ?? null,
      warnings: await loadWarnings(ctx, run.id),
    }),
  });
  return {
    result: { kind: 'continue' },
    output: { pushed, prNumber: pr.number, prUrl: pr.url, prCreated: pr.created },
    runUpdate: { headSha: commit.commitSha, prNumber: pr.number, prUrl: pr.url },
  };
};
