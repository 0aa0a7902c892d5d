// A run's workspace, cloned through a per-repository mirror cache.
//
// MIRROR_DIR holds one bare, shallow repository per remote (`<slug>-<hash>.git`)
// with only the branches runs used. Making a workspace:
// 1. under an in-process lock per mirror: create the mirror if needed, then
//    fetch the wanted branches from the remote into it (--depth, explicit
//    refspecs, the token in the environment only) — skipped when the caller
//    names the commit it needs (`at`) and the mirror already holds it;
// 2. under the same lock, clone locally from the mirror over file:// (--depth,
//    --single-branch: objects are copied, never hardlinked or borrowed through
//    alternates, so a workspace handed to another OS user shares nothing with
//    the mirror);
// 3. point `origin` at the real remote, so later fetches and pushes work as
//    with a plain clone.
// The mirror is only an optimization: when anything about it fails, the
// workspace is cloned straight from the remote. A mirror is removed (to be
// rebuilt by the next run) only when git says it is damaged, twice in a row.
import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../logger.ts';
import { GitError } from './git-error.ts';
import { createMirrorLocks } from './mirror-locks.ts';
import { type GitAuth, runGit } from './run-git.ts';
import {
  assertBranchName,
  assertRemoteUrl,
  cloneRepository,
  DEFAULT_CLONE_DEPTH,
  headSha,
} from './workspace.ts';

/** Touched whenever a run uses the mirror; retention removes mirrors idle for long. */
export const MIRROR_USED_FILE = 'speckit-last-used';
/** Mirrors are `<slug>-<hash>.git` directories directly under MIRROR_DIR. */
export const MIRROR_NAME = /^[A-Za-z0-9._-]+-[0-9a-f]{16}\.git$/;
/** A lock file older than this was left by a git that died (git's own timeout is 10 minutes). */
const STALE_LOCK_MS = 15 * 60_000;
const NEUTRAL_CWD = tmpdir();
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const COMMIT_UNAVAILABLE = 'git_commit_unavailable';
/** What git servers answer when asked for a commit they do not have (or will not serve). */
const UNKNOWN_COMMIT =
  /not our ref|unadvertised object|no such remote ref|couldn't find remote ref|bad object/i;

export interface CloneWorkspaceOptions {
  /** MIRROR_DIR; null or undefined clones straight from the remote. */
  mirrorDir?: string | null;
  cloneUrl: string;
  /** The workspace (absent or empty). */
  dir: string;
  /** The branch checked out in the workspace. */
  branch: string;
  /**
   * The commit the workspace must start at (the local `branch` is set to it).
   * When the mirror already holds it, the remote is not contacted at all.
   * Unset: the branch's current tip, always fetched from the remote.
   */
  at?: string;
  /** More branches, fetched along as `refs/remotes/origin/<name>` (e.g. a base to merge). */
  alsoFetch?: readonly string[];
  auth?: GitAuth;
  /** Commits of history per branch; default DEFAULT_CLONE_DEPTH. */
  depth?: number;
  signal?: AbortSignal;
  log?: Pick<Logger, 'warn'>;
}

export interface ClonedWorkspace {
  /** Where the workspace's objects came from. */
  source: 'mirror' | 'remote';
  /** Whether the remote was asked for objects (false: the mirror held everything). */
  fetchedRemote: boolean;
  head: string;
}

/** Clones `branch` (at `at`, when given) into `dir`, through the repository's mirror when there is one. */
export async function cloneWorkspace(options: CloneWorkspaceOptions): Promise<ClonedWorkspace> {
  assertRemoteUrl(options.cloneUrl);
  for (const branch of [options.branch, ...(options.alsoFetch ?? [])]) assertBranchName(branch);
  if (options.at !== undefined && !SHA.test(options.at)) {
    throw new GitError(`Expected a full commit sha to clone at, got ${JSON.stringify(options.at)}.`, {
      kind: 'invalid_input',
    });
  }
  if (options.mirrorDir) {
    const mirror = mirrorPath(options.mirrorDir, options.cloneUrl);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await cloneFromMirror(options, options.mirrorDir, mirror);
      } catch (error) {
        if (options.signal?.aborted || (error instanceof GitError && error.kind === 'cancelled')) throw error;
        await rm(options.dir, { recursive: true, force: true });
        const corrupt = looksCorrupt(error);
        // Another process's gc or fetch can make a sound mirror look corrupt
        // for a moment: only a second failure of the same kind removes it.
        if (corrupt && attempt === 1) continue;
        options.log?.warn(
          { err: error, mirror, removed: corrupt },
          'the repository mirror failed; cloning from the remote instead',
        );
        if (corrupt) await exclusive(mirror, () => removeMirror(mirror)).catch(() => {});
        break;
      }
    }
  }
  return cloneFromRemote(options);
}

/** Where the mirror of `cloneUrl` lives: a readable slug and a hash of the whole URL. */
export function mirrorPath(mirrorDir: string, cloneUrl: string): string {
  const hash = createHash('sha256').update(cloneUrl).digest('hex').slice(0, 16);
  const slug =
    cloneUrl
      .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
      .replace(/\.git\/?$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(-80) || 'repository';
  return path.join(path.resolve(mirrorDir), `${slug}-${hash}.git`);
}

async function cloneFromRemote(options: CloneWorkspaceOptions): Promise<ClonedWorkspace> {
  const { dir, auth, signal } = options;
  const depth = options.depth ?? DEFAULT_CLONE_DEPTH;
  await cloneRepository({ cloneUrl: options.cloneUrl, dir, branch: options.branch, auth, depth, signal });
  const also = options.alsoFetch ?? [];
  if (also.length > 0) {
    await runGit(
      ['fetch', '--quiet', '--no-tags', `--depth=${depth}`, 'origin', ...also.map(trackingRefspec)],
      {
        cwd: dir,
        auth,
        signal,
      },
    );
  }
  // Checked out at `at`, HEAD is `at`; else the branch tip the clone checked out.
  const head = options.at !== undefined ? await checkoutAt(dir, options, 'origin', auth) : await headSha(dir);
  return { source: 'remote', fetchedRemote: true, head };
}

async function cloneFromMirror(
  options: CloneWorkspaceOptions,
  mirrorDir: string,
  mirror: string,
): Promise<ClonedWorkspace> {
  const branches = [...new Set([options.branch, ...(options.alsoFetch ?? [])])];
  let fetchedRemote = false;
  const askedAt = performance.now();
  await exclusive(mirror, async () => {
    await ensureMirror(mirrorDir, mirror);
    const used = path.join(mirror, MIRROR_USED_FILE);
    const now = new Date();
    await utimes(used, now, now).catch(() => writeFile(used, ''));
    const present =
      options.at !== undefined &&
      (await hasCommit(mirror, options.at)) &&
      (await hasBranches(mirror, branches));
    // A fetch of these branches that began after this clone was asked for saw
    // the remote at least as late as a fetch of its own would: many runs of one
    // repository arriving together fetch once, not once each.
    // (The branches must still be there: the mirror may have been rebuilt since.)
    const fresh =
      !present &&
      branches.every((branch) => (fetchStarted.get(fetchKey(mirror, branch)) ?? -1) >= askedAt) &&
      (await hasBranches(mirror, branches));
    if (!present && !fresh) {
      const started = performance.now();
      fetchedRemote = await fetchIntoMirror(options, mirror, branches);
      for (const branch of branches) fetchStarted.set(fetchKey(mirror, branch), started);
    }
  });
  // Copied out under the shared lock: a fetch or gc of this process never
  // rewrites the mirror while a clone reads it, and clones do not wait for
  // each other. (A change between the two only adds objects or moves a
  // branch on; a clone that needs a commit checks it out by sha.)
  const head = await shared(mirror, () => copyFromMirror(options, mirror));
  // From now on the workspace talks to the real remote, as a plain clone would.
  await runGit(['remote', 'set-url', 'origin', options.cloneUrl], { cwd: options.dir });
  return { source: 'mirror', fetchedRemote, head };
}

/** Fetches `branches` from the remote into the mirror, then lets git tidy it up; true once fetched. */
async function fetchIntoMirror(
  options: CloneWorkspaceOptions,
  mirror: string,
  branches: readonly string[],
): Promise<boolean> {
  const { signal } = options;
  const depth = options.depth ?? DEFAULT_CLONE_DEPTH;
  await removeStaleLocks(mirror);
  await runGit(
    fetchArgs(
      depth,
      options.cloneUrl,
      branches.map((branch) => `+refs/heads/${branch}:refs/heads/${branch}`),
    ),
    { cwd: mirror, auth: options.auth, signal },
  );
  // Many small fetches leave many packs and loose objects; let git tidy up
  // now and then (its own thresholds decide; asking after every fetch was a
  // git process per fetch that almost always found nothing to do): the first
  // fetch of every ten, so each process start tidies too.
  const earlier = fetchCount.get(mirror) ?? 0;
  fetchCount.set(mirror, earlier + 1);
  if (earlier % GC_EVERY_FETCHES !== 0) return true;
  await runGit(['gc', '--auto', '--quiet'], {
    cwd: mirror,
    config: { 'gc.auto': '6700', 'gc.autoPackLimit': '50', 'gc.autoDetach': 'false' },
    signal,
  }).catch((error: unknown) => options.log?.warn({ err: error, mirror }, 'git gc of the mirror failed'));
  return true;
}

/** Clones the workspace locally from the mirror (file://: objects copied, nothing shared); returns HEAD. */
async function copyFromMirror(options: CloneWorkspaceOptions, mirror: string): Promise<string> {
  const { dir, signal } = options;
  const depth = options.depth ?? DEFAULT_CLONE_DEPTH;
  const source = pathToFileURL(mirror).href;
  await runGit(
    [
      'clone',
      '--quiet',
      '--no-tags',
      '--single-branch',
      `--branch=${options.branch}`,
      `--depth=${depth}`,
      '--',
      source,
      path.resolve(dir),
    ],
    { cwd: NEUTRAL_CWD, signal },
  );
  const also = options.alsoFetch ?? [];
  if (also.length > 0) {
    await runGit(fetchArgs(depth, source, also.map(trackingRefspec)), { cwd: dir, signal });
  }
  return options.at !== undefined ? checkoutAt(dir, options, source) : headSha(dir);
}

/** A shallow fetch of `refspecs` from `source` that writes only the refs it names. */
function fetchArgs(depth: number, source: string, refspecs: readonly string[]): string[] {
  return ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', `--depth=${depth}`, source, ...refspecs];
}

function trackingRefspec(branch: string): string {
  return `+refs/heads/${branch}:refs/remotes/origin/${branch}`;
}

/** Moves the local branch to `options.at` (returned), fetching that commit from `from` when the clone lacks it. */
async function checkoutAt(
  dir: string,
  options: CloneWorkspaceOptions,
  from: string,
  auth?: GitAuth,
): Promise<string> {
  const at = options.at as string;
  if ((await headSha(dir)) === at) return at;
  if (!(await hasCommit(dir, at))) {
    try {
      await runGit(
        [
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          `--depth=${options.depth ?? DEFAULT_CLONE_DEPTH}`,
          from,
          at,
        ],
        { cwd: dir, auth, signal: options.signal, config: { 'uploadpack.allowAnySHA1InWant': 'true' } },
      );
    } catch (error) {
      if (!(error instanceof GitError) || !UNKNOWN_COMMIT.test(error.stderr)) throw error;
      throw new GitError(
        `The commit ${at} this run started from is no longer available on ${options.branch} ` +
          `(was the branch force-pushed?): ${error.message} Start a new run.`,
        {
          kind: 'not_found',
          code: COMMIT_UNAVAILABLE,
          args: error.args,
          exitCode: error.exitCode,
          stderr: error.stderr,
          cause: error,
        },
      );
    }
  }
  await runGit(['checkout', '--quiet', '-B', options.branch, at], { cwd: dir });
  return at;
}

async function hasCommit(repo: string, sha: string): Promise<boolean> {
  return runGit(['cat-file', '-e', `${sha}^{commit}`], { cwd: repo }).then(
    () => true,
    (error: unknown) => {
      if (error instanceof GitError && error.exitCode !== null && error.kind !== 'cancelled') return false;
      throw error;
    },
  );
}

async function hasBranches(mirror: string, branches: readonly string[]): Promise<boolean> {
  const { stdout } = await runGit(['for-each-ref', '--format=%(refname)', 'refs/heads/'], { cwd: mirror });
  const refs = new Set(stdout.split('\n').filter(Boolean));
  return branches.every((branch) => refs.has(`refs/heads/${branch}`));
}

/** Creates the mirror (atomically: initialised aside, then renamed into place). */
async function ensureMirror(mirrorDir: string, mirror: string): Promise<void> {
  const info = await stat(mirror).catch(() => null);
  if (info?.isDirectory()) return;
  if (info) await removeMirror(mirror);
  await mkdir(mirrorDir, { recursive: true, mode: 0o700 });
  // Mirrors hold other repositories' code: readable by the app's user only
  // (Codex may run as another user).
  await chmod(mirrorDir, 0o700).catch(() => {});
  const fresh = `${mirror}.tmp-${randomUUID()}`;
  await runGit(['init', '--quiet', '--bare', fresh], {
    cwd: NEUTRAL_CWD,
    config: { 'init.defaultBranch': 'main' },
  });
  await writeFile(path.join(fresh, MIRROR_USED_FILE), '');
  await chmod(fresh, 0o700);
  try {
    await rename(fresh, mirror);
  } catch (error) {
    await rm(fresh, { recursive: true, force: true });
    // Another process created it first: use theirs.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
  }
}

/** Moves the mirror aside, then deletes it, so a new one can be created at once. */
export async function removeMirror(mirror: string): Promise<void> {
  const trash = `${mirror}.trash-${randomUUID()}`;
  try {
    await rename(mirror, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
}

/** Lock files left behind by a git process that died would block every later fetch. */
async function removeStaleLocks(mirror: string): Promise<void> {
  const cutoff = Date.now() - STALE_LOCK_MS;
  const candidates = [
    ...(await readdir(mirror)).map((name) => path.join(mirror, name)),
    ...(await readdir(path.join(mirror, 'refs'), { recursive: true }).catch(() => [] as string[])).map(
      (name) => path.join(mirror, 'refs', name),
    ),
  ].filter((file) => file.endsWith('.lock'));
  for (const file of candidates) {
    const info = await stat(file).catch(() => null);
    if (info && info.mtimeMs < cutoff) await rm(file, { force: true });
  }
}

/**
 * What git says when a repository's objects or refs are damaged (or it is no
 * repository at all any more). Anything else — a full disk, a workspace that
 * is not empty, another git's lock, the remote's own trouble — says nothing
 * about the mirror, which is then kept.
 */
const CORRUPTION =
  /not a git repository|is corrupt|corrupt (loose )?object|bad object|missing (blob|tree|commit|object)|unable to read (tree|sha1 file|[0-9a-f]{40})|did not send all necessary objects|invalid sha1 pointer|bad packed object|packfile .* cannot be accessed|inflate returned|object file .* is empty|failed to read object/i;

/** Whether a failure shows the mirror itself is damaged (the server's `remote:` lines do not count). */
function looksCorrupt(error: unknown): boolean {
  if (!(error instanceof GitError) || error.code === COMMIT_UNAVAILABLE) return false;
  const local = error.stderr
    .split('\n')
    .filter((line) => !line.startsWith('remote:'))
    .join('\n');
  return CORRUPTION.test(local);
}

const { exclusive, shared } = createMirrorLocks();

/** Fetches into each mirror by this process. */
const fetchCount = new Map<string, number>();
const GC_EVERY_FETCHES = 10;

/** When the last fetch of a branch into a mirror began (performance.now()), in this process. */
const fetchStarted = new Map<string, number>();
const fetchKey = (mirror: string, branch: string) => `${mirror}\0${branch}`;
