import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { GitError } from '../../src/git/git-error.ts';
import { workflowPermissionRefusal } from '../../src/git/push-refusal.ts';
import { runGit } from '../../src/git/run-git.ts';
import {
  applyPatch,
  cloneRepository,
  commitAll,
  commitAllWithPatch,
  createBranch,
  diffWorkingTree,
  findCommitWithTrailer,
  headSha,
  lsRemoteBranch,
  pushBranch,
  readFileAt,
  stagedChanges,
  workspaceStatus,
} from '../../src/git/workspace.ts';
import {
  type BareRepo,
  createBareRepo,
  FIXTURE_IDENTITY,
  fixtureGit,
  makeTempDir,
  refuseWorkflowPushes,
  removeTempDirs,
  writeFiles,
} from '../support/git-fixtures.ts';

const BOT = { name: 'speckit-bot[bot]', email: '123+speckit-bot[bot]@users.noreply.github.com' };
// A PNG header plus bytes that are not valid UTF-8, and a NUL: git treats it as binary.
const BINARY = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80, 0x7f, 0x00,
]);
const BINARY_V2 = Uint8Array.from([...BINARY, 0xc3, 0x28, 0x00, 0x01]);

const BASE_FILES = {
  'README.md': '# Project\n',
  'specs/001-auth/tasks.md': '## Phase 1: Setup\n- [ ] T001 Create project\n',
  'src/app.ts': 'export const a = 1;\n',
  'src/old.ts': 'export const old = true;\n',
  'assets/logo.png': BINARY,
};

afterAll(removeTempDirs);

const savedEnv = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

async function freshClone(repo: BareRepo, branch = 'main'): Promise<string> {
  const dir = join(await makeTempDir('speckit-clone-'), 'work');
  await cloneRepository({ cloneUrl: repo.cloneUrl, dir, branch });
  return dir;
}

/** Simulates Codex: modifies, deletes, adds text and binary files, including a new directory. */
async function editLikeCodex(dir: string): Promise<void> {
  await writeFiles(dir, {
    'src/app.ts': 'export const a = 2;\nexport const b = 3;\n',
    'src/new/feature.ts': 'export function feature(): string {\n  return "new";\n}\n',
    'assets/logo.png': BINARY_V2,
    'assets/icon.bin': BINARY,
    'docs/naïve file.md': 'unicode name ✓\n',
  });
  await rm(join(dir, 'src/old.ts'));
}

async function treeOf(dir: string): Promise<Record<string, string>> {
  const listing = await fixtureGit(['ls-files', '-z', '--cached', '--others', '--exclude-standard'], dir);
  const tree: Record<string, string> = {};
  for (const path of listing.split('\0').filter(Boolean).sort()) {
    const content = await readFile(join(dir, path)).catch(() => null); // deleted but still in the index
    if (content !== null) tree[path] = content.toString('base64');
  }
  return tree;
}

describe('lsRemoteBranch and cloneRepository', () => {
  it('returns the sha of an existing branch and null for an absent one', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    expect(await lsRemoteBranch(repo.cloneUrl, 'main')).toBe(await repo.readBranch('main'));
    expect(await lsRemoteBranch(repo.cloneUrl, 'speckit/001-auth')).toBeNull();
  });

  it('matches the branch exactly, not by suffix', async () => {
    const repo = await createBareRepo();
    await repo.commitFiles('x/speckit/a', { 'x.txt': 'x\n' });
    expect(await lsRemoteBranch(repo.cloneUrl, 'speckit/a')).toBeNull();
  });

  it('clones the requested branch with its files', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const sha = await repo.commitFiles('speckit/001-auth', { 'feature.txt': 'on the feature branch\n' });
    const dir = join(await makeTempDir(), 'clone');
    await cloneRepository({ cloneUrl: repo.cloneUrl, dir, branch: 'speckit/001-auth' });
    expect(await headSha(dir)).toBe(sha);
    expect(await readFileAt(dir, 'feature.txt')).toBe('on the feature branch\n');
    expect(await fixtureGit(['branch', '--show-current'], dir)).toBe('speckit/001-auth');
  });

  it('clones into an existing empty directory but not a non-empty one', async () => {
    const repo = await createBareRepo();
    const empty = await makeTempDir();
    await cloneRepository({ cloneUrl: repo.cloneUrl, dir: empty, branch: 'main' });
    expect(await readFileAt(empty, 'README.md')).toBe('# fixture\n');
    await expect(cloneRepository({ cloneUrl: repo.cloneUrl, dir: empty, branch: 'main' })).rejects.toThrow(
      /not empty/,
    );
  });

  it('fails with not_found for a branch that does not exist', async () => {
    const repo = await createBareRepo();
    const error = await cloneRepository({
      cloneUrl: repo.cloneUrl,
      dir: join(await makeTempDir(), 'c'),
      branch: 'nope',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).kind).toBe('not_found');
  });

  it('refuses branch names git would not accept before running git', async () => {
    const repo = await createBareRepo();
    await expect(lsRemoteBranch(repo.cloneUrl, '--upload-pack=touch /tmp/pwned')).rejects.toThrow(
      /Invalid branch name/,
    );
    await expect(lsRemoteBranch('--upload-pack=evil', 'main')).rejects.toThrow(/Invalid clone URL/);
  });
});

describe('diffWorkingTree and applyPatch', () => {
  it('sees a same-size edit made in the same second as the last index write (racy git)', async () => {
    const repo = await createBareRepo({ files: { 'tasks.md': '- [ ] T001\n' } });
    const dir = await freshClone(repo);
    // The clone just wrote its index; tick the task at once, keeping the size.
    await writeFile(join(dir, 'tasks.md'), '- [X] T001\n');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { changedPaths, patch } = await diffWorkingTree(dir);
    expect(changedPaths).toEqual(['tasks.md']);
    expect(patch).toContain('+- [X] T001');
  });

  it('captures new, modified and deleted files including binary ones', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const dir = await freshClone(repo);
    await editLikeCodex(dir);

    const { patch, changedPaths } = await diffWorkingTree(dir);
    expect(changedPaths.sort()).toEqual(
      [
        'assets/icon.bin',
        'assets/logo.png',
        'docs/naïve file.md',
        'src/app.ts',
        'src/new/feature.ts',
        'src/old.ts',
      ].sort(),
    );
    expect(patch).toContain('diff --git a/src/old.ts b/src/old.ts\ndeleted file mode 100644');
    expect(patch).toContain('+export const b = 3;');
    expect(patch).toContain('GIT binary patch');
    expect(patch.endsWith('\n')).toBe(true);
  });

  it('leaves the index and the working tree as they were', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const dir = await freshClone(repo);
    await editLikeCodex(dir);
    const statusBefore = await fixtureGit(['status', '--porcelain=v1', '-z'], dir);
    const treeBefore = await treeOf(dir);
    await diffWorkingTree(dir);
    expect(await fixtureGit(['status', '--porcelain=v1', '-z'], dir)).toBe(statusBefore);
    expect(await treeOf(dir)).toEqual(treeBefore);
    expect(statusBefore).toContain('?? src/new/');
  });

  it('returns an empty patch when nothing changed', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const dir = await freshClone(repo);
    expect(await diffWorkingTree(dir)).toEqual({ patch: '', changedPaths: [] });
  });

  it('ignores files matched by .gitignore', async () => {
    const repo = await createBareRepo({ files: { '.gitignore': 'node_modules/\n.env\n' } });
    const dir = await freshClone(repo);
    await writeFiles(dir, { 'node_modules/x/index.js': 'x', '.env': 'SECRET=1\n', 'kept.txt': 'kept\n' });
    expect((await diffWorkingTree(dir)).changedPaths).toEqual(['kept.txt']);
  });

  it('names every file of an applied patch as git stores it, quoted names and binaries included', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const source = await freshClone(repo);
    // Names git C-quotes in a patch header: a non-ASCII byte, a double quote, a tab.
    await writeFiles(source, {
      '.github/workflows/é.yml': 'on: push\n',
      '.github/workflows/say "hi".yml': 'on: push\njobs: {}\n',
      'docs/tab\there.md': 'x\n',
      'assets/icon.bin': BINARY,
    });
    const { patch } = await diffWorkingTree(source);
    expect(patch).toContain('diff --git "a/.github/workflows/\\303\\251.yml"');
    const target = await freshClone(repo);
    await applyPatch(target, patch);
    const changes = await stagedChanges(target);
    expect(changes.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: '.github/workflows/é.yml', added: 1, deleted: 0 },
      { path: '.github/workflows/say "hi".yml', added: 2, deleted: 0 },
      { path: 'assets/icon.bin', added: null, deleted: null },
      { path: 'docs/tab\there.md', added: 1, deleted: 0 },
    ]);
  });

  it('reproduces the tree when its patch is applied to a fresh clone', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const source = await freshClone(repo);
    await editLikeCodex(source);
    const { patch } = await diffWorkingTree(source);

    const target = await freshClone(repo);
    await applyPatch(target, patch);
    expect(await treeOf(target)).toEqual(await treeOf(source));
    // Applied to the index too: a commit needs nothing else.
    expect(await fixtureGit(['diff', '--name-only'], target)).toBe('');
  });

  it('carries text files that are not UTF-8 as binary hunks so the string patch round-trips', async () => {
    const latin1 = Buffer.from('caf\xe9 cr\xe8me\n', 'latin1');
    const repo = await createBareRepo({ files: { 'legacy.txt': Buffer.from('old\n'), 'plain.txt': 'a\n' } });
    const source = await freshClone(repo);
    await writeFiles(source, { 'legacy.txt': latin1, 'new latin[1].txt': latin1, 'plain.txt': 'b\n' });
    const { patch } = await diffWorkingTree(source);
    expect(patch).toContain('+b');
    expect(patch).toMatch(
      /diff --git a\/legacy.txt b\/legacy.txt\nindex [0-9a-f]+\.\.[0-9a-f]+ 100644\nGIT binary patch/,
    );
    expect(patch).not.toContain('\ufffd');
    expect(await stat(join(source, '.git/info/attributes')).catch(() => null)).toBeNull();

    const target = await freshClone(repo);
    await applyPatch(target, patch);
    expect(await readFile(join(target, 'legacy.txt'))).toEqual(latin1);
    expect(await readFile(join(target, 'new latin[1].txt'))).toEqual(latin1);
    expect(await treeOf(target)).toEqual(await treeOf(source));
  });

  it('applies an empty patch as a no-op', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    await applyPatch(dir, '');
    expect(await fixtureGit(['status', '--porcelain'], dir)).toBe('');
  });

  it('merges the patch three-way when the branch moved elsewhere in the file', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const repo = await createBareRepo({ files: { 'f.txt': `${lines.join('\n')}\n` } });
    const source = await freshClone(repo);
    await writeFiles(source, { 'f.txt': `${lines.join('\n').replace('line 18', 'line 18 (codex)')}\n` });
    const { patch } = await diffWorkingTree(source);

    await repo.commitFiles('main', { 'f.txt': `${lines.join('\n').replace('line 2', 'line 2 (human)')}\n` });
    const target = await freshClone(repo);
    await applyPatch(target, patch);
    const merged = await readFileAt(target, 'f.txt');
    expect(merged).toContain('line 2 (human)');
    expect(merged).toContain('line 18 (codex)');
  });

  it('throws a GitError naming the conflicting files', async () => {
    const repo = await createBareRepo({ files: { 'a.txt': 'one\n', 'b.txt': 'same\n' } });
    const source = await freshClone(repo);
    await writeFiles(source, { 'a.txt': 'codex\n', 'b.txt': 'same\nplus\n' });
    const { patch } = await diffWorkingTree(source);

    await repo.commitFiles('main', { 'a.txt': 'human\n' });
    const target = await freshClone(repo);
    const error = await applyPatch(target, patch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).code).toBe('git_patch_conflict');
    expect((error as GitError).paths).toEqual(['a.txt']);
    expect((error as GitError).message).toContain('conflicts in: a.txt');
    expect((error as GitError).transient).toBe(false);
  });

  it('throws naming the file when the patch creates a file that already exists', async () => {
    const repo = await createBareRepo();
    const source = await freshClone(repo);
    await writeFiles(source, { 'new.txt': 'from codex\n' });
    const { patch } = await diffWorkingTree(source);
    await repo.commitFiles('main', { 'new.txt': 'from a human\n' });
    const target = await freshClone(repo);
    const error = await applyPatch(target, patch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).paths).toContain('new.txt');
  });
});

describe('commitAllWithPatch and workspaceStatus', () => {
  it("commits and returns the commit, its tree and diffWorkingTree's patch, which rebuilds the same commit", async () => {
    const repo = await createBareRepo({ files: { ...BASE_FILES, 'legacy.txt': 'plain\n' } });
    const dir = await freshClone(repo);
    await editLikeCodex(dir);
    // Not UTF-8: the patch must carry it as a binary hunk.
    await writeFiles(dir, { 'legacy.txt': Buffer.from('caf\xe9\n', 'latin1') });
    const before = await diffWorkingTree(dir);
    const commit = {
      message: 'Phase 1',
      author: BOT,
      trailers: { 'Speckit-Run-Id': 'r1' },
      date: '2026-12-04T10:00:00Z',
    };
    const made = await commitAllWithPatch(dir, commit);
    expect(made.patch).toBe(before.patch);
    expect(made.patch).toContain('GIT binary patch');
    expect(made.commitSha).toBe(await headSha(dir));
    expect(made.treeSha).toBe((await fixtureGit(['rev-parse', 'HEAD^{tree}'], dir)).trim());
    expect(await workspaceStatus(dir)).toEqual({ head: made.commitSha, branch: 'main', clean: true });

    const again = await freshClone(repo);
    await applyPatch(again, made.patch);
    expect(await commitAll(again, commit)).toBe(made.commitSha);
  });

  it('refuses to commit nothing', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    const error = await commitAllWithPatch(dir, { message: 'nothing', author: BOT }).catch((e: unknown) => e);
    expect((error as GitError).code).toBe('git_nothing_to_commit');
  });

  it('sees untracked and staged files, and a detached HEAD', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const dir = await freshClone(repo);
    const head = await headSha(dir);
    expect(await workspaceStatus(dir)).toEqual({ head, branch: 'main', clean: true });
    await writeFiles(dir, { 'notes/new.txt': 'x\n' });
    expect(await workspaceStatus(dir)).toEqual({ head, branch: 'main', clean: false });
    await fixtureGit(['add', '--all'], dir);
    expect((await workspaceStatus(dir)).clean).toBe(false);
    await fixtureGit(['reset', '--hard', '--quiet'], dir);
    await fixtureGit(['checkout', '--quiet', '--detach'], dir);
    expect(await workspaceStatus(dir)).toEqual({ head, branch: null, clean: true });
  });
});

describe('commitAll and findCommitWithTrailer', () => {
  it('commits with an explicit author when HOME is unset and there is no git identity', async () => {
    delete process.env.HOME;
    delete process.env.XDG_CONFIG_HOME;
    process.env.GIT_AUTHOR_NAME = 'Inherited Should Not Win';
    const repo = await createBareRepo({ files: BASE_FILES });
    const dir = await freshClone(repo);
    await editLikeCodex(dir);
    const sha = await commitAll(dir, {
      message: 'speckit: Phase 1 Setup (001-auth)\n\nImplements tasks T001.',
      author: BOT,
      trailers: { 'Speckit-Run-Id': 'run-123', 'Speckit-Phase': '1' },
    });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await headSha(dir)).toBe(sha);
    expect(await fixtureGit(['status', '--porcelain'], dir)).toBe('');

    const fields = await fixtureGit(['log', '-1', '--format=%an|%ae|%cn|%ce'], dir);
    expect(fields).toBe(`${BOT.name}|${BOT.email}|${BOT.name}|${BOT.email}`);
    const body = await fixtureGit(['log', '-1', '--format=%B'], dir);
    expect(body.trimEnd()).toBe(
      'speckit: Phase 1 Setup (001-auth)\n\nImplements tasks T001.\n\nSpeckit-Run-Id: run-123\nSpeckit-Phase: 1',
    );
    const trailers = await fixtureGit(
      ['log', '-1', '--format=%(trailers:key=Speckit-Run-Id,valueonly)'],
      dir,
    );
    expect(trailers.trim()).toBe('run-123');
  });

  it('commits with an empty HOME directory too, and a distinct committer', async () => {
    process.env.HOME = await makeTempDir('speckit-home-');
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    await writeFiles(dir, { 'x.txt': 'x\n' });
    await commitAll(dir, { message: 'x', author: BOT, committer: FIXTURE_IDENTITY });
    expect(await fixtureGit(['log', '-1', '--format=%an|%cn'], dir)).toBe(
      `${BOT.name}|${FIXTURE_IDENTITY.name}`,
    );
  });

  it('rebuilds the identical commit from the same patch, message and date', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const source = await freshClone(repo);
    await editLikeCodex(source);
    const { patch } = await diffWorkingTree(source);
    const date = '2026-11-03T10:15:30.123Z';
    const commit = { message: 'Phase 1', author: BOT, trailers: { 'Speckit-Run-Id': 'r1' }, date };
    const shas: string[] = [];
    for (const _ of [1, 2]) {
      const dir = await freshClone(repo);
      await createBranch(dir, 'speckit/001-auth');
      await applyPatch(dir, patch);
      shas.push(await commitAll(dir, commit));
      expect(await fixtureGit(['log', '-1', '--format=%aI|%cI'], dir)).toBe(
        '2026-11-03T10:15:30+00:00|2026-11-03T10:15:30+00:00',
      );
    }
    expect(shas[0]).toBe(shas[1]);
    await expect(commitAll(source, { ...commit, date: 'not a date' })).rejects.toThrow(/Invalid commit date/);
  });

  it('refuses to make an empty commit unless asked', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    const error = await commitAll(dir, { message: 'nothing', author: BOT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).code).toBe('git_nothing_to_commit');
    const sha = await commitAll(dir, { message: 'empty on purpose', author: BOT, allowEmpty: true });
    expect(await headSha(dir)).toBe(sha);
  });

  it('keeps # lines of the message and refuses malformed trailers and identities', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    await writeFiles(dir, { 'x.txt': 'x\n' });
    await expect(commitAll(dir, { message: 'm', author: BOT, trailers: { 'bad key': 'v' } })).rejects.toThrow(
      /Invalid commit trailer/,
    );
    await expect(commitAll(dir, { message: 'm', author: BOT, trailers: { Key: 'a\nb' } })).rejects.toThrow(
      /several lines/,
    );
    await expect(commitAll(dir, { message: 'm', author: { name: 'x', email: '<a>' } })).rejects.toThrow(
      /contains </,
    );
    await commitAll(dir, { message: 'Fix #12\n\n# not a comment', author: BOT });
    expect((await fixtureGit(['log', '-1', '--format=%B'], dir)).trimEnd()).toBe(
      'Fix #12\n\n# not a comment',
    );
  });

  it('does not run hooks planted in the clone', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    const marker = join(dir, '..', 'hook-ran');
    await writeFile(join(dir, '.git/hooks/pre-commit'), `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, {
      mode: 0o755,
    });
    await writeFiles(dir, { 'x.txt': 'x\n' });
    await commitAll(dir, { message: 'x', author: BOT });
    expect(await stat(marker).catch(() => null)).toBeNull();
  });

  it('finds the commit carrying a trailer, and null for other values or refs', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    await writeFiles(dir, { 'a.txt': 'a\n' });
    const first = await commitAll(dir, {
      message: 'one',
      author: BOT,
      trailers: { 'Speckit-Run-Id': 'run-1' },
    });
    await writeFiles(dir, { 'b.txt': 'b\n' });
    const second = await commitAll(dir, {
      message: 'two',
      author: BOT,
      trailers: { 'Speckit-Run-Id': 'run-2' },
    });
    await writeFiles(dir, { 'c.txt': 'c\n' });
    await commitAll(dir, { message: 'three', author: BOT });

    expect(await findCommitWithTrailer(dir, 'HEAD', 'Speckit-Run-Id', 'run-1')).toBe(first);
    expect(await findCommitWithTrailer(dir, 'main', 'speckit-run-id', 'run-2')).toBe(second);
    expect(await findCommitWithTrailer(dir, 'HEAD', 'Speckit-Run-Id', 'run-3')).toBeNull();
    expect(await findCommitWithTrailer(dir, 'HEAD', 'Speckit-Run-Id', 'run-1', 2)).toBeNull();
    expect(await findCommitWithTrailer(dir, 'refs/heads/absent', 'Speckit-Run-Id', 'run-1')).toBeNull();
    expect(await findCommitWithTrailer(dir, 'HEAD', 'Speckit-Run-Id', 'run')).toBeNull();
  });

  it('finds the trailer through a fresh shallow clone of the pushed branch', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    await createBranch(dir, 'speckit/001-auth');
    await writeFiles(dir, { 'a.txt': 'a\n' });
    const sha = await commitAll(dir, {
      message: 'phase',
      author: BOT,
      trailers: { 'Speckit-Run-Id': 'r-9' },
    });
    await pushBranch({ dir, cloneUrl: repo.cloneUrl, branch: 'speckit/001-auth', expectedRemoteSha: null });
    const again = await freshClone(repo, 'speckit/001-auth');
    expect(await findCommitWithTrailer(again, 'HEAD', 'Speckit-Run-Id', 'r-9')).toBe(sha);
  });
});

describe('createBranch and pushBranch', () => {
  it('creates the branch on the bare repository, then is a no-op when pushed again', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const dir = await freshClone(repo);
    await createBranch(dir, 'speckit/001-auth');
    expect(await fixtureGit(['branch', '--show-current'], dir)).toBe('speckit/001-auth');
    await editLikeCodex(dir);
    const sha = await commitAll(dir, {
      message: 'Phase 1',
      author: BOT,
      trailers: { 'Speckit-Run-Id': 'r1' },
    });

    const branch = 'speckit/001-auth';
    expect(await pushBranch({ dir, cloneUrl: repo.cloneUrl, branch, expectedRemoteSha: null })).toMatchObject(
      {
        pushed: true,
        remoteSha: sha,
      },
    );
    expect(await repo.readBranch(branch)).toBe(sha);
    const [top] = await repo.log(branch);
    expect(top).toMatchObject({ sha, subject: 'Phase 1', authorName: BOT.name, committerEmail: BOT.email });
    expect(top?.body).toContain('Speckit-Run-Id: r1');

    // Plain push again, then the retry of the same step with the same (now stale) lease.
    expect(await pushBranch({ dir, cloneUrl: repo.cloneUrl, branch })).toMatchObject({
      pushed: false,
      remoteSha: sha,
    });
    expect(await pushBranch({ dir, cloneUrl: repo.cloneUrl, branch, expectedRemoteSha: null })).toMatchObject(
      {
        pushed: false,
        remoteSha: sha,
      },
    );
    expect(await repo.readBranch(branch)).toBe(sha);
  });

  it('updates the branch when the lease matches, even when it is not a fast-forward', async () => {
    const repo = await createBareRepo();
    const branch = 'speckit/002-x';
    const old = await repo.commitFiles(branch, { 'old.txt': 'old run\n' });
    const dir = await freshClone(repo); // from main: not a descendant of `old`
    await writeFiles(dir, { 'new.txt': 'new run\n' });
    const sha = await commitAll(dir, { message: 'rebuilt', author: BOT });
    expect(await pushBranch({ dir, cloneUrl: repo.cloneUrl, branch, expectedRemoteSha: old })).toMatchObject({
      pushed: true,
      remoteSha: sha,
    });
    expect(await repo.readBranch(branch)).toBe(sha);
  });

  it('refuses with force-with-lease when the remote branch moved', async () => {
    const repo = await createBareRepo();
    const branch = 'speckit/003-y';
    const dir = await freshClone(repo);
    await createBranch(dir, branch);
    await writeFiles(dir, { 'a.txt': 'a\n' });
    const first = await commitAll(dir, { message: 'first', author: BOT });
    await pushBranch({ dir, cloneUrl: repo.cloneUrl, branch, expectedRemoteSha: null });

    const moved = await repo.commitFiles(branch, { 'human.txt': 'a human pushed\n' });
    await writeFiles(dir, { 'b.txt': 'b\n' });
    await commitAll(dir, { message: 'second', author: BOT });
    const error = await pushBranch({ dir, cloneUrl: repo.cloneUrl, branch, expectedRemoteSha: first }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).code).toBe('git_push_rejected');
    expect((error as GitError).message).toContain(moved);
    expect(await repo.readBranch(branch)).toBe(moved);

    // "Must not exist yet" is refused too once it exists.
    await expect(
      pushBranch({ dir, cloneUrl: repo.cloneUrl, branch, expectedRemoteSha: null }),
    ).rejects.toThrow(/rejected/);
    // And a plain push never overwrites someone else's commits.
    await expect(pushBranch({ dir, cloneUrl: repo.cloneUrl, branch })).rejects.toThrow(/rejected/);
    expect(await repo.readBranch(branch)).toBe(moved);
  });

  it('reports a push the remote itself refused with its reason, not as a moved branch', async () => {
    const repo = await createBareRepo();
    await refuseWorkflowPushes(repo.bareDir);
    const dir = await freshClone(repo);
    await writeFiles(dir, { '.github/workflows/ci.yml': 'on: push\n' });
    await commitAll(dir, { message: 'Add CI', author: BOT });
    const error = await pushBranch({
      dir,
      cloneUrl: repo.cloneUrl,
      branch: 'speckit/wf',
      expectedRemoteSha: null,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rejected', code: 'git_push_remote_rejected' });
    expect((error as GitError).message).toContain(
      'refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission',
    );
    expect((error as GitError).message).not.toContain('Someone else changed the branch');
    expect(await repo.readBranch('speckit/wf')).toBeNull();
    const refusal = workflowPermissionRefusal(error, 'speckit/wf');
    expect(refusal).toBeInstanceOf(UserError);
    expect(refusal?.message).toContain('changes `.github/workflows/ci.yml`');
    expect(refusal?.message).toContain('**Workflows: read & write**');
    expect(refusal?.message).toContain('README');
    expect(workflowPermissionRefusal(new GitError('rejected', { kind: 'rejected' }), 'x')).toBeNull();
  });

  it('refuses a malformed expected sha', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    await expect(
      pushBranch({ dir, cloneUrl: repo.cloneUrl, branch: 'speckit/a', expectedRemoteSha: 'abc' }),
    ).rejects.toThrow(/full commit sha/);
  });

  it('leaves no token in .git/config after a tokened push to a path remote', async () => {
    const token = 'ghs_PathRemoteToken000111222';
    const repo = await createBareRepo();
    const dir = join(await makeTempDir(), 'clone');
    await cloneRepository({ cloneUrl: repo.cloneUrl, dir, branch: 'main', auth: { token } });
    await writeFiles(dir, { 'a.txt': 'a\n' });
    await commitAll(dir, { message: 'a', author: BOT });
    await pushBranch({
      dir,
      cloneUrl: repo.cloneUrl,
      branch: 'speckit/t',
      auth: { token },
      expectedRemoteSha: null,
    });
    const config = await readFile(join(dir, '.git/config'), 'utf8');
    expect(config).not.toContain(token);
    expect(config.toLowerCase()).not.toContain('extraheader');
    const listed = await fixtureGit(['config', '--list', '--show-origin'], dir);
    expect(listed.toLowerCase()).not.toContain('extraheader');
    expect(listed).not.toContain(token);
    // While a tokened command runs, git sees the header only from the command line scope.
    const during = await runGit(['config', '--list', '--show-origin', '--show-scope'], {
      cwd: dir,
      auth: { token },
    });
    expect(during.stdout).toMatch(/^command\s+command line:\s+http\.extraheader=AUTHORIZATION: basic /m);
  });
});

describe('readFileAt', () => {
  it('reads working-tree files and returns null for missing files or directories', async () => {
    const repo = await createBareRepo({ files: BASE_FILES });
    const dir = await freshClone(repo);
    expect(await readFileAt(dir, 'specs/001-auth/tasks.md')).toContain('T001');
    await writeFiles(dir, { 'untracked.md': 'fresh\n' });
    expect(await readFileAt(dir, 'untracked.md')).toBe('fresh\n');
    expect(await readFileAt(dir, 'specs/002-none/tasks.md')).toBeNull();
    expect(await readFileAt(dir, 'README.md/child')).toBeNull();
    expect(await readFileAt(dir, 'specs')).toBeNull();
  });

  it('refuses paths and symbolic links that lead outside the workspace', async () => {
    const repo = await createBareRepo();
    const dir = await freshClone(repo);
    const outside = join(dir, '..', 'secret.pem');
    await writeFile(outside, 'PRIVATE KEY');
    await mkdir(join(dir, 'specs'), { recursive: true });
    await symlink(outside, join(dir, 'specs/tasks.md'));
    await expect(readFileAt(dir, 'specs/tasks.md')).rejects.toThrow(/symbolic link to outside/);
    await expect(readFileAt(dir, '../secret.pem')).rejects.toThrow(/outside the repository/);
    await expect(readFileAt(dir, outside)).rejects.toThrow(/absolute path/);
  });
});
