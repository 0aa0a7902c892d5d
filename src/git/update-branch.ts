// Bringing the checked-out branch of a workspace up to date with its base:
// a merge (fast-forward when possible) or a rebase, committed as the given
// identity with an explicit date. A conflict leaves the workspace as it was
// and throws a GitError naming the files.
import { GitError } from './git-error.ts';
import { splitNul } from './git-output.ts';
import { type GitAuth, runGit } from './run-git.ts';
import { assertBranchName, headSha, type Identity } from './workspace.ts';

export type BranchUpdateMode = 'merge' | 'rebase';

export interface BranchUpdateResult {
  /** The branch's commit before the update. */
  before: string;
  /** Its commit after the update. */
  after: string;
  /** The base commit that was brought in. */
  baseSha: string;
}

/** How many more commits a shallow workspace fetches, per try, to find the merge base. */
const DEEPEN_STEPS = [100, 400, 1600] as const;

/**
 * Brings HEAD of `dir` up to date with `origin/<base>` (already fetched). Returns null
 * when the branch already contains the base. A shallow workspace is deepened from
 * `origin` (with `auth`) until the merge base is in its history.
 */
export async function updateBranch(
  dir: string,
  options: {
    /** The branch checked out in `dir`. */
    branch: string;
    /** The base branch; its tip is `refs/remotes/origin/<base>`. */
    base: string;
    mode: BranchUpdateMode;
    identity: Identity;
    /** Committer (and merge author) date: ISO 8601 or a Date. */
    date: string | Date;
    auth?: GitAuth;
    signal?: AbortSignal;
  },
): Promise<BranchUpdateResult | null> {
  assertBranchName(options.branch);
  assertBranchName(options.base);
  const baseRef = `refs/remotes/origin/${options.base}`;
  const before = await headSha(dir);
  const mergeBase = await findMergeBase(dir, baseRef, options);
  // Read after deepening, which fetches the base again.
  const baseSha = (
    await runGit(['rev-parse', '--verify', `${baseRef}^{commit}`], { cwd: dir })
  ).stdout.trim();
  if (mergeBase === null) {
    throw new GitError(
      `\`${options.branch}\` and \`${options.base}\` share no history, so the branch cannot be brought up to date.`,
      { kind: 'conflict', code: 'git_unrelated_histories' },
    );
  }
  if (mergeBase === baseSha) return null;

  const seconds = Math.floor(new Date(options.date).getTime() / 1000);
  if (Number.isNaN(seconds)) throw new GitError('Invalid update date.', { kind: 'invalid_input' });
  const date = `@${seconds} +0000`;
  const env = {
    GIT_AUTHOR_NAME: options.identity.name,
    GIT_AUTHOR_EMAIL: options.identity.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: options.identity.name,
    GIT_COMMITTER_EMAIL: options.identity.email,
    GIT_COMMITTER_DATE: date,
  };
  const args =
    options.mode === 'merge'
      ? [
          'merge',
          '--quiet',
          '--no-edit',
          '--no-stat',
          `--message=Merge branch '${options.base}' into ${options.branch}`,
          baseRef,
        ]
      : // Rebasing keeps each commit's author; the bot becomes the committer.
        ['rebase', '--quiet', '--no-autosquash', baseRef];
  try {
    await runGit(args, { cwd: dir, env, signal: options.signal });
  } catch (error) {
    if (!(error instanceof GitError) || error.exitCode === null) throw error;
    const unmerged = await runGit(['diff', '--name-only', '-z', '--diff-filter=U'], { cwd: dir }).then(
      (r) => splitNul(r.stdout),
      () => [] as string[],
    );
    await runGit([options.mode, '--abort'], { cwd: dir }).catch(() => {});
    if (unmerged.length === 0) throw error;
    throw new GitError(
      `${options.mode === 'merge' ? 'Merging' : 'Rebasing onto'} \`${options.base}\` conflicts in: ${unmerged.join(', ')}.`,
      {
        kind: 'conflict',
        code: 'git_update_conflict',
        args: error.args,
        exitCode: error.exitCode,
        stdout: error.stdout,
        stderr: error.stderr,
        paths: unmerged,
        cause: error,
      },
    );
  }
  return { before, after: await headSha(dir), baseSha };
}

async function findMergeBase(
  dir: string,
  baseRef: string,
  options: { branch: string; base: string; auth?: GitAuth; signal?: AbortSignal },
): Promise<string | null> {
  const refspecs = [options.branch, options.base].map(
    (branch) => `+refs/heads/${branch}:refs/remotes/origin/${branch}`,
  );
  const mergeBase = () =>
    runGit(['merge-base', 'HEAD', baseRef], { cwd: dir }).then(
      (r) => r.stdout.trim() || null,
      (error: unknown) => {
        if (error instanceof GitError && error.exitCode === 1) return null;
        throw error;
      },
    );
  for (const step of [...DEEPEN_STEPS, null]) {
    const found = await mergeBase();
    if (found) return found;
    const shallow = (await runGit(['rev-parse', '--is-shallow-repository'], { cwd: dir })).stdout.trim();
    if (shallow !== 'true') return null;
    await runGit(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        step === null ? '--unshallow' : `--deepen=${step}`,
        'origin',
        ...refspecs,
      ],
      { cwd: dir, auth: options.auth, signal: options.signal },
    );
  }
  // The whole history is here now: the last word on whether the two meet.
  return mergeBase();
}
