// Bringing a branch up to date with its base, with real git: merge (two
// parents, the bot as author and committer), rebase (linear, authors kept),
// already up to date, conflicts naming the files, and a shallow workspace
// deepened until the merge base is found.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cloneWorkspace } from '../../src/git/clone-workspace.ts';
import { GitError } from '../../src/git/git-error.ts';
import { updateBranch } from '../../src/git/update-branch.ts';
import {
  appendEmptyCommits,
  type BareRepo,
  createBareRepo,
  FIXTURE_IDENTITY,
  fixtureGit,
  makeTempDir,
  removeTempDirs,
} from '../support/git-fixtures.ts';

const BOT = { name: 'speckit-bot[bot]', email: 'speckit-bot[bot]@users.noreply.github.com' };
const DATE = '2026-01-02T03:04:05Z';

afterAll(removeTempDirs);

/** main with one commit; `speckit/f` one commit ahead of it; main then moved on by `mainFiles`. */
async function diverged(mainFiles: Record<string, string>): Promise<BareRepo> {
  const repo = await createBareRepo({ files: { 'README.md': '# x\n', 'shared.txt': 'one\n' } });
  await repo.commitFiles('speckit/f', { 'phase1.txt': 'phase 1\n' }, 'Phase 1', 'main');
  await repo.commitFiles('main', mainFiles, 'Base moved');
  return repo;
}

async function workspaceOf(repo: BareRepo, depth?: number): Promise<string> {
  const dir = path.join(await makeTempDir('speckit-update-'), 'work');
  await cloneWorkspace({
    // file:// so that --depth applies (git ignores it for plain local paths).
    cloneUrl: pathToFileURL(repo.bareDir).href,
    dir,
    branch: 'speckit/f',
    alsoFetch: ['main'],
    ...(depth ? { depth } : {}),
  });
  return dir;
}

const parentsOf = async (dir: string, rev = 'HEAD') =>
  (await fixtureGit(['rev-list', '--parents', '-n', '1', rev], dir)).split(' ').slice(1);

describe('updateBranch', () => {
  it('merges a base that moved ahead, as the bot with the given date', async () => {
    const repo = await diverged({ 'base.txt': 'base\n' });
    const dir = await workspaceOf(repo);
    const before = await fixtureGit(['rev-parse', 'HEAD'], dir);
    const result = await updateBranch(dir, {
      branch: 'speckit/f',
      base: 'main',
      mode: 'merge',
      identity: BOT,
      date: DATE,
    });
    const main = await repo.readBranch('main');
    expect(result).toEqual({ before, after: await fixtureGit(['rev-parse', 'HEAD'], dir), baseSha: main });
    expect(await parentsOf(dir)).toEqual([before, main]);
    expect(await fixtureGit(['log', '-1', '--format=%an <%ae>|%cn <%ce>|%at|%ct|%s'], dir)).toBe(
      `${BOT.name} <${BOT.email}>|${BOT.name} <${BOT.email}>|1767323045|1767323045|Merge branch 'main' into speckit/f`,
    );
    // Merged again: nothing to do.
    expect(
      await updateBranch(dir, {
        branch: 'speckit/f',
        base: 'main',
        mode: 'merge',
        identity: BOT,
        date: DATE,
      }),
    ).toBeNull();
  });

  it('rebases onto the base, keeping the authors and making the bot the committer', async () => {
    const repo = await diverged({ 'base.txt': 'base\n' });
    const dir = await workspaceOf(repo);
    const result = await updateBranch(dir, {
      branch: 'speckit/f',
      base: 'main',
      mode: 'rebase',
      identity: BOT,
      date: DATE,
    });
    const main = (await repo.readBranch('main')) as string;
    expect(result?.baseSha).toBe(main);
    expect(await parentsOf(dir)).toEqual([main]);
    expect(await fixtureGit(['log', '-1', '--format=%an|%cn|%ct|%s'], dir)).toBe(
      `${FIXTURE_IDENTITY.name}|${BOT.name}|1767323045|Phase 1`,
    );
    expect(await fixtureGit(['symbolic-ref', '--short', 'HEAD'], dir)).toBe('speckit/f');
  });

  it('returns null when the branch already contains the base', async () => {
    const repo = await createBareRepo();
    await repo.commitFiles('speckit/f', { 'phase1.txt': 'x\n' }, 'Phase 1', 'main');
    const dir = await workspaceOf(repo);
    for (const mode of ['merge', 'rebase'] as const) {
      expect(
        await updateBranch(dir, { branch: 'speckit/f', base: 'main', mode, identity: BOT, date: DATE }),
      ).toBe(null);
    }
  });

  it('names the conflicting files and leaves the workspace as it was', async () => {
    for (const mode of ['merge', 'rebase'] as const) {
      const repo = await createBareRepo({ files: { 'shared.txt': 'one\n' } });
      await repo.commitFiles('speckit/f', { 'shared.txt': 'branch\n' }, 'Phase 1', 'main');
      await repo.commitFiles('main', { 'shared.txt': 'base\n' }, 'Base moved');
      const dir = await workspaceOf(repo);
      const before = await fixtureGit(['rev-parse', 'HEAD'], dir);
      const error = await updateBranch(dir, {
        branch: 'speckit/f',
        base: 'main',
        mode,
        identity: BOT,
        date: DATE,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitError);
      expect(error).toMatchObject({ kind: 'conflict', code: 'git_update_conflict', paths: ['shared.txt'] });
      expect((error as Error).message).toContain('shared.txt');
      expect(await fixtureGit(['rev-parse', 'HEAD'], dir)).toBe(before);
      expect(await fixtureGit(['status', '--porcelain'], dir)).toBe('');
      expect(await fixtureGit(['symbolic-ref', '--short', 'HEAD'], dir)).toBe('speckit/f');
    }
  });

  it('finds a merge base that only the full history holds, after unshallowing', async () => {
    const repo = await createBareRepo();
    const phase1 = await repo.commitFiles('speckit/f', { 'phase1.txt': '1\n' }, 'Phase 1', 'main');
    // Further back than every deepening step together (100 + 400 + 1600).
    const main = await appendEmptyCommits(repo.bareDir, 'main', 2_200);
    const dir = await workspaceOf(repo, 1);
    const result = await updateBranch(dir, {
      branch: 'speckit/f',
      base: 'main',
      mode: 'merge',
      identity: BOT,
      date: DATE,
    });
    expect(result?.baseSha).toBe(main);
    expect(await parentsOf(dir)).toEqual([phase1, main]);
    expect(await fixtureGit(['rev-parse', '--is-shallow-repository'], dir)).toBe('false');
  });

  it('deepens a shallow workspace until the merge base is in its history', async () => {
    const repo = await createBareRepo();
    await repo.commitFiles('speckit/f', { 'phase1.txt': '1\n' }, 'Phase 1', 'main');
    await repo.commitFiles('speckit/f', { 'phase2.txt': '2\n' }, 'Phase 2');
    await repo.commitFiles('speckit/f', { 'phase3.txt': '3\n' }, 'Phase 3');
    for (let i = 0; i < 3; i += 1) await repo.commitFiles('main', { [`base${i}.txt`]: `${i}\n` });
    const dir = await workspaceOf(repo, 1);
    expect(await fixtureGit(['rev-parse', '--is-shallow-repository'], dir)).toBe('true');
    expect(await fixtureGit(['merge-base', 'HEAD', 'origin/main'], dir).catch(() => null)).toBeNull();
    const result = await updateBranch(dir, {
      branch: 'speckit/f',
      base: 'main',
      mode: 'merge',
      identity: BOT,
      date: DATE,
    });
    expect(result?.baseSha).toBe(await repo.readBranch('main'));
    expect((await fixtureGit(['ls-files'], dir)).split('\n')).toEqual(
      expect.arrayContaining(['phase3.txt', 'base2.txt']),
    );
  });
});
