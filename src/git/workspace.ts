// Workspace operations on a local clone: clone, branch, diff, apply, commit, push.
// Each is one or a few git commands through runGit; parsing lives in git-output.ts.
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, realpath, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { branchNameProblem } from './branch-name.ts';
import { GitError } from './git-error.ts';
import {
  attributesPatternFor,
  conflictPathsFromApplyOutput,
  findTrailerMatch,
  hasUrlCredentials,
  invalidUtf8Sections,
  type NumstatEntry,
  parseLsRemote,
  parseNumstat,
  parsePushPorcelain,
  parseStatusV2,
  remoteMessages,
  splitNul,
  trailerKeyProblem,
  type WorkspaceStatus,
} from './git-output.ts';
import { type GitAuth, runGit, runGitBytes } from './run-git.ts';
import { redact, tokenSecrets } from './secrets.ts';

export type { WorkspaceStatus } from './git-output.ts';
export type { GitAuth } from './run-git.ts';

export interface Identity {
  name: string;
  email: string;
}

/** How many commits a clone fetches by default: enough for findCommitWithTrailer. */
export const DEFAULT_CLONE_DEPTH = 50;

/** Remote operations run outside any repository, so no repository's config applies. */
const NEUTRAL_CWD = tmpdir();

function invalid(message: string, code = 'git_invalid_input'): GitError {
  return new GitError(message, { kind: 'invalid_input', code });
}

export function assertBranchName(branch: string): void {
  const problem = branchNameProblem(branch);
  if (problem !== null)
    throw invalid(`Invalid branch name ${JSON.stringify(branch)}: a branch name ${problem}.`);
}

export function assertRemoteUrl(cloneUrl: string): void {
  if (cloneUrl.length === 0 || cloneUrl.startsWith('-'))
    throw invalid(`Invalid clone URL ${JSON.stringify(cloneUrl)}.`);
  if (hasUrlCredentials(cloneUrl)) {
    throw invalid(
      'The clone URL embeds credentials; pass the token as auth instead so it is never stored in .git/config.',
    );
  }
}

/** The sha of `refs/heads/<branch>` on the remote, or null when the branch does not exist. */
export async function lsRemoteBranch(
  cloneUrl: string,
  branch: string,
  auth?: GitAuth,
): Promise<string | null> {
  return (await lsRemoteBranches(cloneUrl, [branch], auth)).get(branch) ?? null;
}

/**
 * The shas of several branches in one round trip: branch → sha, or null for a branch
 * the remote does not have.
 */
export async function lsRemoteBranches(
  cloneUrl: string,
  branches: readonly string[],
  auth?: GitAuth,
): Promise<Map<string, string | null>> {
  assertRemoteUrl(cloneUrl);
  for (const branch of branches) assertBranchName(branch);
  const unique = [...new Set(branches)];
  const refs = unique.map((branch) => `refs/heads/${branch}`);
  const { stdout } = await runGit(['ls-remote', '--heads', cloneUrl, ...refs], { cwd: NEUTRAL_CWD, auth });
  const found = parseLsRemote(stdout);
  return new Map(unique.map((branch) => [branch, found.get(`refs/heads/${branch}`) ?? null]));
}

/**
 * Clones `branch` of `cloneUrl` into `dir` (absent or empty), shallow (`depth` commits,
 * default 50) and without tags. The remote URL stored in .git/config is `cloneUrl` as
 * given: the token travels only in the command's environment.
 */
export async function cloneRepository(opts: {
  cloneUrl: string;
  dir: string;
  branch: string;
  auth?: GitAuth;
  depth?: number;
  signal?: AbortSignal;
}): Promise<void> {
  assertRemoteUrl(opts.cloneUrl);
  assertBranchName(opts.branch);
  const dir = resolve(opts.dir);
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0) throw invalid(`Cannot clone into ${dir}: the directory is not empty.`);
  const depth = opts.depth ?? DEFAULT_CLONE_DEPTH;
  if (!Number.isInteger(depth) || depth < 1)
    throw invalid(`Clone depth must be a positive integer, got ${depth}.`);
  await runGit(
    [
      'clone',
      '--quiet',
      '--no-tags',
      '--single-branch',
      `--branch=${opts.branch}`,
      `--depth=${depth}`,
      '--',
      opts.cloneUrl,
      dir,
    ],
    { cwd: NEUTRAL_CWD, auth: opts.auth, signal: opts.signal },
  );
}

/** Creates and checks out a new local branch at HEAD. */
export async function createBranch(dir: string, name: string): Promise<void> {
  assertBranchName(name);
  await runGit(['switch', '--quiet', '--create', name], { cwd: dir });
}

/** The commit sha HEAD points to. */
export async function headSha(dir: string): Promise<string> {
  const { stdout } = await runGit(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: dir });
  return stdout.trim();
}

/**
 * HEAD's commit, the branch checked out and whether the working tree and index match HEAD
 * (untracked files count; ignored ones do not), in one git process.
 */
export async function workspaceStatus(dir: string): Promise<WorkspaceStatus> {
  const { stdout } = await runGit(
    ['status', '--porcelain=v2', '--branch', '--untracked-files=all', '--ignore-submodules=none', '-z'],
    { cwd: dir },
  );
  return parseStatusV2(stdout);
}

const DIFF_ARGS = [
  'diff',
  '--cached',
  '--binary',
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '--no-renames',
  '--no-relative',
  '--src-prefix=a/',
  '--dst-prefix=b/',
  'HEAD',
] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Everything changed in the working tree since HEAD (modified, deleted and new untracked
 * files, honouring .gitignore) as one binary-safe patch that `applyPatch` replays on a
 * fresh clone. Works on a temporary index: the real index and the working tree are left
 * as they were. Text files that are not valid UTF-8 are emitted as binary hunks so the
 * patch survives being a string.
 */
export async function diffWorkingTree(
  dir: string,
  /** The repository's git directory when the caller knows it (else asked of git). */
  knownGitDir?: string,
): Promise<{ patch: string; changedPaths: string[] }> {
  const gitDir =
    knownGitDir ?? (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: dir })).stdout.trim();
  const indexFile = join(gitDir, `speckit-index-${randomUUID()}`);
  const env = { GIT_INDEX_FILE: indexFile, GIT_LITERAL_PATHSPECS: '1' };
  try {
    const copied = await copyIndex(join(gitDir, 'index'), indexFile);
    if (!copied) await runGit(['read-tree', 'HEAD'], { cwd: dir, env });
    await runGit(['add', '--all'], { cwd: dir, env });
    const names = await runGit(
      ['diff', '--cached', '--name-only', '-z', '--no-renames', '--no-relative', 'HEAD'],
      {
        cwd: dir,
        env,
      },
    );
    const changedPaths = splitNul(names.stdout);
    if (changedPaths.length === 0) return { patch: '', changedPaths };

    const patch = await stagedPatch(dir, env, async () => changedPaths, gitDir);
    return { patch, changedPaths };
  } finally {
    await rm(indexFile, { force: true });
  }
}

/**
 * The index against HEAD as one binary-safe patch (DIFF_ARGS). Text files that are not
 * valid UTF-8 are diffed again as binary, so the patch survives being a string;
 * `changedPaths` (the same diff's names, in git's order) is asked for only then.
 */
async function stagedPatch(
  dir: string,
  env: Record<string, string>,
  changedPaths: () => Promise<string[]>,
  knownGitDir?: string,
): Promise<string> {
  const bytes = (await runGitBytes(DIFF_ARGS, { cwd: dir, env })).stdout;
  try {
    return utf8.decode(bytes);
  } catch {
    const offending = invalidUtf8Sections(bytes, await changedPaths());
    const gitDir =
      knownGitDir ?? (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: dir })).stdout.trim();
    return withBinaryAttributes(gitDir, offending, async () => {
      const again = (await runGitBytes(DIFF_ARGS, { cwd: dir, env })).stdout;
      return utf8.decode(again);
    });
  }
}

/**
 * Copies the index keeping its timestamps. Git trusts the cached stat data of
 * a file whose mtime is older than the index's ("racy git"); a copy with a new
 * mtime would make an edit of the same size, in the same second as the last
 * index write (ticking `[ ]` → `[X]`), look unchanged, and drop it from the
 * patch.
 */
async function copyIndex(from: string, to: string): Promise<boolean> {
  try {
    await copyFile(from, to);
    const { atime, mtime } = await stat(from);
    await utimes(to, atime, mtime);
    return true;
  } catch {
    return false;
  }
}

/** Marks `paths` as binary for diff in $GIT_DIR/info/attributes while `fn` runs. */
async function withBinaryAttributes<T>(
  gitDir: string,
  paths: readonly string[],
  fn: () => Promise<T>,
): Promise<T> {
  const file = join(gitDir, 'info', 'attributes');
  const before = await readFile(file).catch(() => null);
  await mkdir(join(gitDir, 'info'), { recursive: true });
  const lines = paths.map((p) => `${attributesPatternFor(p)} -diff\n`).join('');
  const prefix = before && before.length > 0 && before[before.length - 1] !== 0x0a ? '\n' : '';
  await writeFile(file, Buffer.concat([before ?? Buffer.alloc(0), Buffer.from(prefix + lines)]));
  try {
    return await fn();
  } finally {
    if (before === null) await rm(file, { force: true });
    else await writeFile(file, before);
  }
}

/**
 * Applies a patch from diffWorkingTree to a clone (index and working tree), falling back
 * to a three-way merge. A patch that does not apply throws a GitError (code
 * `git_patch_conflict`, `paths` = the files) and may leave conflict markers behind:
 * discard the clone.
 */
export async function applyPatch(dir: string, patch: string): Promise<void> {
  if (patch.trim().length === 0) return;
  try {
    await runGit(['apply', '--index', '--3way', '--binary', '--whitespace=nowarn', '-'], {
      cwd: dir,
      input: patch,
    });
  } catch (error) {
    if (!(error instanceof GitError) || error.exitCode === null) throw error;
    const unmerged = await runGit(['diff', '--name-only', '-z', '--diff-filter=U'], { cwd: dir }).then(
      (r) => splitNul(r.stdout),
      () => [] as string[],
    );
    const paths = [...new Set([...unmerged, ...conflictPathsFromApplyOutput(error.stderr)])].sort();
    const where = paths.length > 0 ? paths.join(', ') : 'unknown files (see stderr)';
    throw new GitError(
      `The patch does not apply cleanly; conflicts in: ${where}. The branch changed since the patch was ` +
        'made: re-run the phase so Codex works from the current branch.',
      {
        kind: 'conflict',
        code: 'git_patch_conflict',
        args: error.args,
        exitCode: error.exitCode,
        stdout: error.stdout,
        stderr: error.stderr,
        paths,
        cause: error,
      },
    );
  }
}

/**
 * What the index changes against HEAD, file by file (lines added and deleted, null for
 * binary files), as git itself names the files: after `applyPatch`, the patch's files.
 */
export async function stagedChanges(dir: string): Promise<NumstatEntry[]> {
  const { stdout } = await runGit(
    ['diff', '--cached', '--numstat', '-z', '--no-renames', '--no-relative', '--no-ext-diff', 'HEAD'],
    { cwd: dir },
  );
  return parseNumstat(stdout);
}

function assertIdentity(who: string, identity: Identity): void {
  for (const [field, value] of Object.entries(identity)) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: git identities are one line without <>
    if (typeof value !== 'string' || value.trim().length === 0 || /[<>\u0000-\u001f]/.test(value)) {
      throw invalid(
        `The commit ${who} ${field} ${JSON.stringify(value)} is empty or contains <, > or a newline.`,
      );
    }
  }
}

/** A date in git's internal format `@<unix seconds> +0000`, which every git parses alike. */
function gitDate(value: string | Date): string {
  const ms = (typeof value === 'string' ? new Date(value) : value).getTime();
  if (Number.isNaN(ms)) throw invalid(`Invalid commit date ${JSON.stringify(String(value))}: use ISO 8601.`);
  return `@${Math.floor(ms / 1000)} +0000`;
}

export interface CommitOptions {
  message: string;
  author: Identity;
  committer?: Identity;
  trailers?: Record<string, string>;
  allowEmpty?: boolean;
  /**
   * Author and committer date (ISO 8601 string or Date; whole seconds, stored as UTC).
   * With the same tree, parent, message, identities and date the commit sha is the
   * same, so a later step can rebuild the exact commit.
   */
  date?: string | Date;
}

/**
 * Stages everything (`git add --all`) and commits it with an explicit author and
 * committer (no git config needed), appending `trailers` as git trailers. Returns the
 * new commit's sha. Throws GitError `git_nothing_to_commit` when nothing changed, unless
 * `allowEmpty`.
 */
export async function commitAll(dir: string, opts: CommitOptions): Promise<string> {
  const commit = commitCommand(opts);
  await runGit(['add', '--all'], { cwd: dir });
  if (!opts.allowEmpty) {
    const staged = await runGit(['diff', '--cached', '--name-only', '-z', 'HEAD'], { cwd: dir });
    if (staged.stdout.length === 0) throw nothingToCommit();
  }
  await runGit(commit.args, { cwd: dir, ...commit.options });
  return headSha(dir);
}

/**
 * commitAll (never empty) that also returns what apply stores: the commit's tree and its
 * change against the parent as a diffWorkingTree-style patch. The patch is the staged diff
 * taken before committing, so making it costs one git process, not a second staging.
 */
export async function commitAllWithPatch(
  dir: string,
  opts: Omit<CommitOptions, 'allowEmpty'>,
): Promise<{ commitSha: string; treeSha: string; patch: string }> {
  const commit = commitCommand(opts);
  await runGit(['add', '--all'], { cwd: dir });
  const patch = await stagedPatch(dir, {}, async () => {
    const names = await runGit(
      ['diff', '--cached', '--name-only', '-z', '--no-renames', '--no-relative', 'HEAD'],
      { cwd: dir },
    );
    return splitNul(names.stdout);
  });
  if (patch.length === 0) throw nothingToCommit();
  await runGit(commit.args, { cwd: dir, ...commit.options });
  const { stdout } = await runGit(['rev-parse', 'HEAD^{commit}', 'HEAD^{tree}'], { cwd: dir });
  const [commitSha = '', treeSha = ''] = stdout.trim().split('\n');
  return { commitSha, treeSha, patch };
}

function nothingToCommit(): GitError {
  return new GitError('There is nothing to commit: the working tree matches HEAD.', {
    kind: 'nothing_to_commit',
  });
}

/** `git commit` of the index as `opts` describe it: arguments, stdin and identity environment (validated). */
function commitCommand(opts: CommitOptions): {
  args: string[];
  options: { input: string; env: Record<string, string> };
} {
  if (opts.message.trim().length === 0) throw invalid('The commit message is empty.');
  const committer = opts.committer ?? opts.author;
  assertIdentity('author', opts.author);
  assertIdentity('committer', committer);
  const trailerArgs: string[] = [];
  for (const [key, value] of Object.entries(opts.trailers ?? {})) {
    const problem = trailerKeyProblem(key) ?? (/[\r\n]/.test(value) ? 'its value spans several lines' : null);
    if (problem !== null) throw invalid(`Invalid commit trailer ${JSON.stringify(key)}: ${problem}.`);
    trailerArgs.push(`--trailer=${key}: ${value}`);
  }
  const date = opts.date === undefined ? undefined : gitDate(opts.date);
  return {
    args: [
      'commit',
      '--quiet',
      '--no-verify',
      '--cleanup=whitespace',
      ...(opts.allowEmpty ? ['--allow-empty'] : []),
      '--file=-',
      ...trailerArgs,
    ],
    options: {
      input: opts.message,
      env: {
        GIT_AUTHOR_NAME: opts.author.name,
        GIT_AUTHOR_EMAIL: opts.author.email,
        GIT_COMMITTER_NAME: committer.name,
        GIT_COMMITTER_EMAIL: committer.email,
        ...(date === undefined ? {} : { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
      },
    },
  };
}

/**
 * The newest of the last `maxCount` (default 50) commits reachable from `ref` that has
 * the trailer `key: value` (key compared case-insensitively, value exactly), or null.
 * A ref that does not exist gives null.
 */
export async function findCommitWithTrailer(
  dir: string,
  ref: string,
  key: string,
  value: string,
  maxCount: number = DEFAULT_CLONE_DEPTH,
): Promise<string | null> {
  const problem = trailerKeyProblem(key);
  if (problem !== null) throw invalid(`Invalid trailer key ${JSON.stringify(key)}: ${problem}.`);
  if (value.trim().length === 0) throw invalid(`The trailer value to look for (key ${key}) is empty.`);
  if (ref.length === 0 || ref.startsWith('-')) throw invalid(`Invalid ref ${JSON.stringify(ref)}.`);
  const commit = await runGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: dir }).then(
    (r) => r.stdout.trim(),
    (error: unknown) => {
      if (error instanceof GitError && error.exitCode === 1) return null;
      throw error;
    },
  );
  if (commit === null) return null;
  const { stdout } = await runGit(
    [
      'log',
      `--max-count=${Math.max(1, Math.floor(maxCount))}`,
      `--format=%H%x1f%(trailers:key=${key},valueonly,separator=%x1f)%x1e`,
      commit,
      '--',
    ],
    { cwd: dir },
  );
  return findTrailerMatch(stdout, value);
}

/**
 * Pushes HEAD to `refs/heads/<branch>` of `cloneUrl`. Idempotent: when the remote already
 * points at HEAD it returns `pushed: false`. With `expectedRemoteSha` the push is
 * `--force-with-lease=<branch>:<expected>` (null: the branch must not exist yet) and a
 * remote that moved elsewhere throws GitError `git_push_rejected`; without it only a
 * fast-forward is pushed. A remote that refuses the push itself (a hook, a policy)
 * throws GitError `git_push_remote_rejected` with its reason. `output` is what git
 * printed (porcelain status and the remote's messages), redacted.
 */
export async function pushBranch(opts: {
  dir: string;
  cloneUrl: string;
  branch: string;
  /** HEAD's sha when the caller knows it (else asked of git). */
  head?: string;
  auth?: GitAuth;
  expectedRemoteSha?: string | null;
  signal?: AbortSignal;
}): Promise<{ pushed: boolean; remoteSha: string; output: string }> {
  assertRemoteUrl(opts.cloneUrl);
  assertBranchName(opts.branch);
  const ref = `refs/heads/${opts.branch}`;
  const expected = opts.expectedRemoteSha;
  if (typeof expected === 'string' && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(expected)) {
    throw invalid(`expectedRemoteSha must be a full commit sha, got ${JSON.stringify(expected)}.`);
  }
  const head = opts.head ?? (await headSha(opts.dir));
  const lease = expected === undefined ? [] : [`--force-with-lease=${ref}:${expected ?? ''}`];
  const secrets = opts.auth ? tokenSecrets(opts.auth.token) : [];
  try {
    const { stdout, stderr } = await runGit(
      [
        'push',
        '--porcelain',
        '--no-verify',
        '--no-recurse-submodules',
        ...lease,
        opts.cloneUrl,
        `HEAD:${ref}`,
      ],
      { cwd: opts.dir, auth: opts.auth, signal: opts.signal },
    );
    const status = parsePushPorcelain(stdout, ref);
    return { pushed: status?.flag !== '=', remoteSha: head, output: redact(stdout + stderr, secrets) };
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    const status = parsePushPorcelain(error.stdout, ref);
    if (status?.flag !== '!') throw error;
    const details = {
      kind: 'rejected' as const,
      args: error.args,
      exitCode: error.exitCode,
      stdout: error.stdout,
      stderr: error.stderr,
      cause: error,
    };
    if (status.summary.startsWith('[remote rejected]')) {
      const said = remoteMessages(error.stderr);
      throw new GitError(
        `The remote refused the push of ${opts.branch} (${status.summary})${said ? `: ${said}` : ''}. ` +
          'Nothing was changed on the remote; fix what it names, then retry.',
        { ...details, code: 'git_push_remote_rejected' },
      );
    }
    // Rejected: fine if an earlier attempt already pushed exactly this commit.
    const remote = await lsRemoteBranch(opts.cloneUrl, opts.branch, opts.auth);
    if (remote === head) return { pushed: false, remoteSha: head, output: `${error.stdout}${error.stderr}` };
    const expectation =
      expected === undefined ? 'a fast-forward' : expected === null ? 'no branch yet' : `it at ${expected}`;
    throw new GitError(
      `Pushing ${opts.branch} was rejected (${status.summary}): the remote branch is at ${remote ?? 'nothing'} ` +
        `but we expected ${expectation}. Someone else changed the branch; re-run the phase to build on it.`,
      { ...details, code: 'git_push_rejected' },
    );
  }
}

/**
 * The content of a working-tree file (UTF-8), or null when it does not exist or is not a
 * regular file. Refuses paths, and symbolic links, that lead outside the workspace.
 */
export async function readFileAt(dir: string, path: string): Promise<string | null> {
  if (isAbsolute(path))
    throw invalid(`Expected a path inside the repository, got the absolute path ${path}.`);
  const root = await realpath(dir);
  const inside = (p: string) => {
    const rel = relative(root, p);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  };
  if (!inside(resolve(root, path))) throw invalid(`The path ${path} leads outside the repository.`);
  let target: string;
  try {
    target = await realpath(resolve(root, path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  if (!inside(target)) {
    throw invalid(
      `The file ${path} is a symbolic link to outside the repository; refusing to read it.`,
      'git_path_outside_workspace',
    );
  }
  const info = await stat(target);
  if (!info.isFile()) return null;
  return readFile(target, 'utf8');
}
