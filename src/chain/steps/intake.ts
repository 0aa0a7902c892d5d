// intake (second half, after admitTrigger created the run): the check run
// "queued" on the commit being worked on and the progress comment. Both are
// found before they are created, so a repeated intake makes neither twice.

import { NonRetryableError } from '../../errors.ts';
import { getBranchSha } from '../../github/branches.ts';
import { checkRunName, createCheckRun, findCheckRun } from '../../github/check-runs.ts';
import { createComment, findBotComment } from '../../github/comments.ts';
import { createOnce } from '../../github/create-once.ts';
import { parseRepository } from '../../github/octokit.ts';
import { progressCommentMarker, renderProgressComment } from '../../github/render/run-report.ts';
import type { StepHandler } from '../step-context.ts';

export const intakeStep: StepHandler = async (run, ctx) => {
  const octokit = await ctx.github.octokit(Number(run.installationId));
  const repo = parseRepository(run.repository);
  // The commit the run will build on, in the order discover chooses its source
  // (asked for together: reads are not paced, and this is on the way to the check run).
  const candidates = [...new Set([run.branchName, run.featureKey, run.defaultBranch])];
  const shas = await Promise.all(candidates.map((branch) => getBranchSha(octokit, repo, branch)));
  const headSha = shas.find((sha) => sha !== null) ?? null;
  if (!headSha) {
    throw new NonRetryableError(
      `The default branch \`${run.defaultBranch}\` of ${run.repository} was not found; push it, then run the command again.`,
    );
  }
  // A check run can only exist already when an earlier intake attempt made it
  // and died before storing its id; the first attempt of a run need not look.
  // (Within an attempt, createOnce looks before it sends the create again.)
  const findOwnCheckRun = () => findCheckRun(octokit, repo, headSha, run.id);
  let checkRunId =
    run.checkRunId !== null ? Number(run.checkRunId) : ctx.attempt > 1 ? await findOwnCheckRun() : null;
  if (checkRunId === null) {
    checkRunId = await createOnce(
      () =>
        createCheckRun(octokit, repo, {
          name: checkRunName(run.featureKey),
          headSha,
          runId: run.id,
          ...(ctx.config.publicUrl ? { detailsUrl: `${ctx.config.publicUrl}/runs/${run.id}` } : {}),
          output: { title: `Queued: ${run.featureKey}`, summary: `Waiting for a worker. Run \`${run.id}\`.` },
        }),
      findOwnCheckRun,
    );
    await ctx.prisma.specWorkflowRun.update({
      where: { id: run.id },
      data: { checkRunId: BigInt(checkRunId) },
    });
  }
  let progressCommentId = run.progressCommentId === null ? null : Number(run.progressCommentId);
  const issueNumber = run.issueNumber;
  // An earlier attempt may have made the comment and lost GitHub's answer: it names the run.
  const findOwnComment = () =>
    issueNumber === null
      ? Promise.resolve(null)
      : findBotComment(octokit, repo, issueNumber, {
          marker: progressCommentMarker(run.id),
          appId: ctx.config.github.appId,
          since: new Date(run.createdAt.getTime() - 60_000),
        });
  if (progressCommentId === null && ctx.attempt > 1) progressCommentId = await findOwnComment();
  if (progressCommentId === null && issueNumber !== null) {
    progressCommentId = await createOnce(
      () => createComment(octokit, repo, issueNumber, renderProgressComment(run, [])),
      findOwnComment,
    );
    // Stored at once (not only at the transition) so that a retried intake
    // finds it instead of posting a second comment.
    await ctx.prisma.specWorkflowRun.update({
      where: { id: run.id },
      data: { progressCommentId: BigInt(progressCommentId) },
    });
  }
  return {
    result: { kind: 'continue' },
    output: { headSha, checkRunId, progressCommentId },
    runUpdate: {
      headSha,
      checkRunId: BigInt(checkRunId),
      ...(progressCommentId === null ? {} : { progressCommentId: BigInt(progressCommentId) }),
    },
  };
};
