// publish: put apply's commit on the remote branch and find or create the
// pull request. Every part is safe to repeat:
// - the remote already holds the run's commit (found by its Speckit-Run
//   trailer, also after a rebase) → nothing is pushed again;
// - otherwise apply's workspace (when apply ran on this machine) or a commit
//   rebuilt byte-identical from the stored patch is pushed with a lease on the
//   sha the run started from;
// - someone else moved the branch meanwhile → the phase commit is rebased onto
//   it once; a conflict fails the run naming the files, the patch is kept as
//   the attempt's `phase_patch` artifact;
// - the pull request is found by its head branch before one is created, and
//   only the bot's block of its body is rewritten.
// The push log (git's own output, redacted) is written whatever happens.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, NonRetryableError } from '../../errors.ts';
import { GitError } from '../../git/git-error.ts';
import { workflowPermissionRefusal } from '../../git/push-refusal.ts';
import { runGit } from '../../git/run-git.ts';
import {
  applyPatch,
  commitAll,
  createBranch,
  findCommitWithTrailer,
  lsRemoteBranch,
  pushBranch,
} from '../../git/workspace.ts';
import { type Octokit, parseRepository, type Repo, repoParams } from '../../github/octokit.ts';
import { findOrCreatePullRequest } from '../../github/pull-requests.ts';
import { renderBotBlock, replaceBotBlock } from '../../github/render/pull-request-body.ts';
import { phaseLabel } from '../../github/render/run-report.ts';
import { loadStepOutput, type Run } from '../runs.ts';
import type { StepContext, StepHandler } from '../step-context.ts';
import { runTriggerOptions } from '../trigger-options.ts';
import { handOffDir, takeWorkspace } from '../workspace-handoff.ts';
import { type ApplyOutput, applyOutput, BOT_IDENTITY, RUN_TRAILER } from './commit-spec.ts';
import { type DiscoverOutput, loadDiscoverOutput } from './discover-output.ts';
import { cloneStepWorkspace, gitAuth, loadWarnings, ownsBranch } from './workspace-source.ts';

export const PR_LABEL = 'speckit';

export const publishStep: StepHandler = async (run, ctx) => {
  const discovered = await loadDiscoverOutput(ctx, run.id);
  const stored = await loadStepOutput(ctx.prisma, run.id, 'apply');
  const applied = applyOutput.safeParse(stored?.data);
  if (!applied.success || !stored?.patch) {
    throw new NonRetryableError(`run ${run.id} has no stored commit; start a new run`);
  }
  const pushLog: string[] = [];
  let push: PushResult;
  try {
    push = await pushPhaseCommit(run, ctx, discovered, applied.data, stored.patch, pushLog);
  } catch (error) {
    const git = error instanceof Error && !(error instanceof GitError) ? error.cause : error;
    pushLog.push(`failed: ${errorMessage(error)}`);
    if (git instanceof GitError) pushLog.push(git.stdout, git.stderr);
    throw workflowPermissionRefusal(error, run.branchName) ?? error;
  } finally {
    const file = path.join(ctx.artifacts.dir, 'push.log');
    await writeFile(file, `${pushLog.filter(Boolean).join('\n').trimEnd()}\n`);
    await ctx.artifacts.record('gh_push_log', file);
  }

  const codex = await loadStepOutput(ctx.prisma, run.id, 'codex');
  const octokit = await ctx.github.octokit(Number(run.installationId));
  const repo = parseRepository(run.repository);
  const label = phaseLabel({ phaseNumber: discovered.phase.number, phaseTitle: discovered.phase.title });
  const block = renderBotBlock({
    featureKey: run.featureKey,
    phaseLabel: label,
    runId: run.id,
    issueNumber: run.issueNumber,
    phases: applied.data.phases,
    tasks: applied.data.verified,
    unverified: applied.data.unverified,
    binaryFiles: applied.data.binaryFiles,
    codexMessage: (codex?.data.lastMessage as string | null | undefined) ?? null,
    checkRunUrl:
      run.checkRunId === null ? null : `https://github.com/${run.repository}/runs/${run.checkRunId}`,
    dashboardUrl: ctx.config.publicUrl ? `${ctx.config.publicUrl}/runs/${run.id}` : null,
    warnings: await loadWarnings(ctx, run.id),
    ...(discovered.tasksPath ? { tasksPath: discovered.tasksPath } : {}),
    branchUpdate: discovered.branchUpdate,
  });
  const base = discovered.prBase ?? run.defaultBranch;
  const pr = await findOrCreatePullRequest(octokit, repo, {
    head: run.branchName,
    base,
    title: `${run.featureKey}: ${discovered.featureTitle ?? run.featureKey}`,
    body: block,
    updateBody: (current) => replaceBotBlock(current, block),
    draft: discovered.repoConfig?.draft === true || (await runTriggerOptions(ctx.prisma, run)).draft === true,
    labels: [PR_LABEL, ...(discovered.repoConfig?.labels ?? [])],
  });
  // The bot's own PR follows the base discover chose (the spec PR was merged or
  // closed → the default branch; it opened → the feature branch).
  if (!pr.created && discovered.prBase !== null && (discovered.ownsBranch ?? ownsBranch(run))) {
    await retargetPullRequest(octokit, repo, pr, discovered.prBase).catch((error: unknown) =>
      ctx.log.warn(
        { err: error, pr: pr.number, base: discovered.prBase },
        'could not retarget the pull request',
      ),
    );
  }
  const prResponse = path.join(ctx.artifacts.dir, 'pull-request.json');
  await writeFile(prResponse, JSON.stringify(pr.response ?? { number: pr.number, url: pr.url }, null, 2));
  await ctx.artifacts.record('gh_pr_response', prResponse);
  return {
    result: { kind: 'continue' },
    output: {
      pushed: push.pushed,
      rebased: push.rebased,
      commitSha: push.sha,
      prNumber: pr.number,
      prUrl: pr.url,
      prCreated: pr.created,
    },
    runUpdate: { headSha: push.sha, prNumber: pr.number, prUrl: pr.url },
  };
};

/** Changes an open PR's base branch when it differs (PATCH /repos/{owner}/{repo}/pulls/{pull_number}). */
async function retargetPullRequest(
  octokit: Octokit,
  repo: Repo,
  pr: { number: number; response: unknown },
  base: string,
): Promise<void> {
  const current = (pr.response as { base?: { ref?: unknown } } | null)?.base?.ref;
  if (typeof current !== 'string' || current === base) return;
  await octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
    ...repoParams(repo),
    pull_number: pr.number,
    base,
  });
}

interface PushResult {
  sha: string;
  pushed: boolean;
  rebased: boolean;
}

/** Puts the phase commit on the remote branch; what it did, and git's output, go to `log`. */
async function pushPhaseCommit(
  run: Run,
  ctx: StepContext,
  discovered: DiscoverOutput,
  commit: ApplyOutput,
  patch: string,
  log: string[],
): Promise<PushResult> {
  const remoteSha = await lsRemoteBranch(run.cloneUrl, run.branchName, await gitAuth(run, ctx));
  if (remoteSha === commit.commitSha) {
    log.push(`${run.branchName} already at ${remoteSha}`);
    return { sha: remoteSha, pushed: false, rebased: false };
  }
  const expected = discovered.continuing ? commit.parentSha : discovered.replacesSha;
  const dir = ctx.workspaceDir;
  if (remoteSha !== null && remoteSha !== expected) {
    // The branch moved. Maybe it holds this run's commit already (pushed,
    // then rebased by an earlier attempt); else rebase the phase onto it —
    // onto exactly the commit seen, which the lease below protects.
    log.push(
      `${run.branchName} is at ${remoteSha}, not ${expected ?? 'absent'}: it moved since the run started`,
    );
    await cloneStepWorkspace(run, ctx, {
      branch: run.branchName,
      at: remoteSha,
      auth: await gitAuth(run, ctx),
    });
    const ours = await findCommitWithTrailer(dir, 'HEAD', RUN_TRAILER, run.id);
    if (ours) {
      log.push(`${run.branchName} already holds ${ours}`);
      return { sha: remoteSha, pushed: false, rebased: false };
    }
    const sha = await commitPatch(
      ctx,
      commit,
      patch,
      `rebasing the phase onto ${run.branchName} at ${remoteSha}`,
    );
    const result = await pushBranch({
      dir,
      cloneUrl: run.cloneUrl,
      branch: run.branchName,
      head: sha,
      auth: await gitAuth(run, ctx),
      expectedRemoteSha: remoteSha,
      signal: ctx.signal,
    });
    log.push(`rebased onto ${remoteSha}; pushed ${sha} to ${run.branchName}`, result.output);
    return { sha, pushed: result.pushed, rebased: true };
  }
  // apply's own workspace when it ran on this machine: it holds exactly the commit.
  const handedOff = await takeWorkspace(
    handOffDir(ctx.config.workDir, run.id, 'apply'),
    dir,
    { branch: run.branchName, head: commit.commitSha },
    ctx.log,
  );
  const sha = handedOff ? commit.commitSha : await rebuildPhaseCommit(run, ctx, discovered, commit, patch);
  const result = await pushBranch({
    dir,
    cloneUrl: run.cloneUrl,
    branch: run.branchName,
    head: sha,
    auth: await gitAuth(run, ctx),
    expectedRemoteSha: remoteSha,
    signal: ctx.signal,
  });
  log.push(
    `pushed ${sha} to ${run.branchName} (was ${remoteSha ?? 'absent'})${handedOff ? ", from apply's workspace" : ''}`,
    result.output,
  );
  return { sha, pushed: result.pushed, rebased: false };
}

/**
 * Rebuilds apply's commit on apply's parent (even if the source branch moved
 * on since): from this machine's mirror without a fetch when it already holds
 * that commit. Returns the rebuilt commit's sha.
 */
async function rebuildPhaseCommit(
  run: Run,
  ctx: StepContext,
  discovered: DiscoverOutput,
  commit: ApplyOutput,
  patch: string,
): Promise<string> {
  const dir = ctx.workspaceDir;
  await cloneStepWorkspace(run, ctx, {
    branch: discovered.sourceBranch,
    at: commit.parentSha,
    auth: await gitAuth(run, ctx),
  });
  if (!discovered.continuing) await createBranch(dir, run.branchName);
  const sha = await commitPatch(ctx, commit, patch, 'rebuilding the phase commit');
  if (sha !== commit.commitSha) {
    // The same patch on the same parent must give the same content. If only
    // the commit's metadata differs, the rebuilt commit is pushed (a repeated
    // publish still finds it by its Speckit-Run trailer); a different tree is
    // a real inconsistency and stops the run.
    const rebuilt = (await runGit(['cat-file', '-p', sha], { cwd: dir })).stdout;
    const tree = /^tree ([0-9a-f]+)/.exec(rebuilt)?.[1];
    if (!commit.treeSha || tree !== commit.treeSha) {
      throw new NonRetryableError(
        `Rebuilding the commit gave ${sha}, not ${commit.commitSha} (apply's tree ${commit.treeSha ?? '?'}); ` +
          `start a new run. Rebuilt commit:\n${rebuilt}`,
      );
    }
    ctx.log.warn(
      { expected: commit.commitSha, rebuilt: sha, commit: rebuilt },
      'rebuilt commit differs only in metadata',
    );
  }
  return sha;
}

/**
 * Applies the stored phase patch in the workspace and commits it as apply
 * described. A conflict keeps the patch as the attempt's `phase_patch`
 * artifact and fails naming the files.
 */
async function commitPatch(
  ctx: StepContext,
  commit: ApplyOutput,
  patch: string,
  doing: string,
): Promise<string> {
  const dir = ctx.workspaceDir;
  try {
    await applyPatch(dir, patch);
  } catch (error) {
    if (error instanceof GitError && error.kind === 'conflict') {
      const file = path.join(ctx.artifacts.dir, 'phase.patch');
      await writeFile(file, patch);
      await ctx.artifacts.record('phase_patch', file);
      throw new NonRetryableError(
        `Conflict while ${doing}: ${error.paths.join(', ') || 'see the push log'} changed on the branch too. ` +
          `The phase patch is kept as the run's \`${path.basename(file)}\` artifact (publish step, attempt ${ctx.attempt}); ` +
          'apply it by hand, or run the phase again to build on the branch as it is now.',
        { code: 'publish_conflict', cause: error },
      );
    }
    throw error;
  }
  return commitAll(dir, {
    message: commit.message,
    author: BOT_IDENTITY,
    trailers: commit.trailers,
    date: commit.commitDate,
  });
}
