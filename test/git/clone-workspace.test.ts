// Workspaces through the per-repository mirror, with real git against a
// smart-HTTP server that requires the token: a second workspace fetches only
// new objects, or nothing at all when the mirror holds the commit; the token
// never reaches a file; a broken mirror falls back to the remote.
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneWorkspace, mirrorPath } from '../../src/git/clone-workspace.ts';
import { cloneRepository } from '../../src/git/workspace.ts';
import {
  type BareRepo,
  createBareRepo,
  fixtureGit,
  type GitHttpServer,
  makeTempDir,
  removeTempDirs,
  startGitHttpServer,
} from '../support/git-fixtures.ts';

const TOKEN = 'ghs_mirrorTestToken00000000000000000000';
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const auth = { token: TOKEN };

let repo: BareRepo;
let server: GitHttpServer;
let cloneUrl: string;
const requests: string[] = [];

beforeAll(async () => {
  repo = await createBareRepo({ files: { 'README.md': '# mirrored\n', 'src/a.txt': 'a\n' } });
  for (let i = 1; i <= 8; i += 1) await repo.commitFiles('main', { [`history/${i}.txt`]: `${i}\n` });
  await repo.commitFiles('feature', { 'feature.txt': 'feature\n' }, 'Feature work', 'main');
  server = await startGitHttpServer({
    projectRoot: path.dirname(repo.bareDir),
    token: TOKEN,
    onRequest: (method, url) => {
      requests.push(`${method} ${url}`);
      return false;
    },
  });
  cloneUrl = `${server.url}/${path.basename(repo.bareDir)}`;
});

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

async function workspace(): Promise<string> {
  return path.join(await makeTempDir('speckit-ws-'), 'work');
}

/** Objects stored in a repository (loose and packed). */
async function objectCount(gitDir: string): Promise<number> {
  const out = await fixtureGit(['count-objects', '-v'], gitDir);
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
  return field('count') + field('in-pack');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('cloneWorkspace through a mirror', () => {
  it('fetches only new objects for a second workspace, and nothing when the mirror holds the commit', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const mirror = mirrorPath(mirrorDir, cloneUrl);

    const first = await workspace();
    const started = performance.now();
    const one = await cloneWorkspace({ mirrorDir, cloneUrl, dir: first, branch: 'main', auth, depth: 5 });
    const firstMs = performance.now() - started;
    expect(one).toMatchObject({ source: 'mirror', fetchedRemote: true, head: await repo.readBranch('main') });
    expect(await fixtureGit(['remote', 'get-url', 'origin'], first)).toBe(cloneUrl);
    expect(await fixtureGit(['rev-parse', '--is-shallow-repository'], first)).toBe('true');
    expect((await fixtureGit(['rev-list', '--count', 'HEAD'], first)).trim()).toBe('5');
    expect((await stat(path.dirname(mirror))).mode & 0o777).toBe(0o700);
    const before = await objectCount(mirror);

    // One new commit adding one file: a commit, a tree and a blob.
    const tip = await repo.commitFiles('main', { 'new.txt': 'new\n' });
    const second = await workspace();
    const two = await cloneWorkspace({ mirrorDir, cloneUrl, dir: second, branch: 'main', auth, depth: 5 });
    expect(two).toMatchObject({ source: 'mirror', fetchedRemote: true, head: tip });
    expect((await objectCount(mirror)) - before).toBe(3);

    // A later step that names the commit: the remote is not asked for anything.
    const requestsBefore = requests.length;
    const third = await workspace();
    const fromCache = performance.now();
    const three = await cloneWorkspace({
      mirrorDir,
      cloneUrl,
      dir: third,
      branch: 'main',
      at: one.head,
      auth,
      depth: 5,
    });
    const cachedMs = performance.now() - fromCache;
    expect(three).toMatchObject({ source: 'mirror', fetchedRemote: false, head: one.head });
    expect(requests.length).toBe(requestsBefore);
    expect(await fixtureGit(['symbolic-ref', '--short', 'HEAD'], third)).toBe('main');
    expect(await fixtureGit(['remote', 'get-url', 'origin'], third)).toBe(cloneUrl);
    // No hardlinks or alternates: the workspace owns its objects.
    await expect(stat(path.join(third, '.git/objects/info/alternates'))).rejects.toThrow();
    for (const file of await filesUnder(path.join(third, '.git/objects'))) {
      expect((await stat(file)).nlink).toBe(1);
    }

    const plain = await workspace();
    const fresh = performance.now();
    await cloneRepository({ cloneUrl, dir: plain, branch: 'main', auth, depth: 5 });
    const plainMs = performance.now() - fresh;
    console.log(
      `workspace: first through the mirror ${firstMs.toFixed(0)} ms, from the mirror without fetching ` +
        `${cachedMs.toFixed(0)} ms, plain clone over HTTP ${plainMs.toFixed(0)} ms`,
    );

    // Every request carried the token; no file of the mirror or the workspaces holds it.
    expect(server.authorizations.every((h) => h?.toLowerCase() === `basic ${BASIC}`.toLowerCase())).toBe(
      true,
    );
    for (const dir of [mirrorDir, first, second, third]) {
      for (const file of await filesUnder(dir)) {
        const text = await readFile(file, 'latin1');
        expect(text.includes(TOKEN) || text.includes(BASIC), file).toBe(false);
      }
    }
  });

  it('needs no network at all when the mirror holds the commit', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const tip = (await repo.readBranch('main')) as string;
    await cloneWorkspace({ mirrorDir, cloneUrl, dir: await workspace(), branch: 'main', auth });
    const unreachable = cloneUrl.replace(/:\d+\//, ':9/');
    // Same mirror (it is keyed by URL): copy the mirror under the unreachable URL's name.
    await fixtureGit([
      'clone',
      '--quiet',
      '--bare',
      mirrorPath(mirrorDir, cloneUrl),
      mirrorPath(mirrorDir, unreachable),
    ]);
    await writeFile(path.join(mirrorPath(mirrorDir, unreachable), 'speckit-last-used'), '');
    const dir = await workspace();
    const result = await cloneWorkspace({
      mirrorDir,
      cloneUrl: unreachable,
      dir,
      branch: 'main',
      at: tip,
      auth,
    });
    expect(result).toMatchObject({ source: 'mirror', fetchedRemote: false, head: tip });
    // Without the commit, the unreachable remote is a real failure.
    await expect(
      cloneWorkspace({ mirrorDir, cloneUrl: unreachable, dir: await workspace(), branch: 'main', auth }),
    ).rejects.toMatchObject({ kind: 'network' });
  });

  it('fetches further branches as origin/<name>, and one fetch serves clones asked for together', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const dirs = await Promise.all([workspace(), workspace(), workspace()]);
    const results = await Promise.all(
      dirs.map((dir) =>
        cloneWorkspace({ mirrorDir, cloneUrl, dir, branch: 'feature', alsoFetch: ['main'], auth }),
      ),
    );
    expect(results.map((r) => r.source)).toEqual(['mirror', 'mirror', 'mirror']);
    // The first fetch began after all three asked: the other two use it.
    expect(results.filter((r) => r.fetchedRemote)).toHaveLength(1);
    for (const dir of dirs) {
      expect(await fixtureGit(['rev-parse', 'refs/remotes/origin/main'], dir)).toBe(
        await repo.readBranch('main'),
      );
      expect(await fixtureGit(['rev-parse', 'HEAD'], dir)).toBe(await repo.readBranch('feature'));
    }
    // The mirror keeps only the branches runs asked for.
    const refs = await fixtureGit(['for-each-ref', '--format=%(refname)'], mirrorPath(mirrorDir, cloneUrl));
    expect(refs.split('\n').sort()).toEqual(['refs/heads/feature', 'refs/heads/main']);
  });

  it('falls back to the remote when the mirror is broken, and rebuilds it next time', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const mirror = mirrorPath(mirrorDir, cloneUrl);
    const tip = (await repo.readBranch('main')) as string;
    await cloneWorkspace({ mirrorDir, cloneUrl, dir: await workspace(), branch: 'main', auth });
    // Its objects are gone, its refs remain.
    await rm(path.join(mirror, 'objects'), { recursive: true });
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => void warnings.push(args) };
    const dir = await workspace();
    const result = await cloneWorkspace({ mirrorDir, cloneUrl, dir, branch: 'main', at: tip, auth, log });
    expect(result).toMatchObject({ source: 'remote', head: tip });
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).toContain('"removed":true');
    await expect(stat(mirror)).rejects.toThrow();
    expect((await readdir(mirrorDir)).filter((name) => name.includes('.trash-'))).toEqual([]);

    const again = await cloneWorkspace({ mirrorDir, cloneUrl, dir: await workspace(), branch: 'main', auth });
    expect(again).toMatchObject({ source: 'mirror', fetchedRemote: true, head: tip });
  });

  it('keeps the mirror when the workspace clone fails for a reason that is not the mirror', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const mirror = mirrorPath(mirrorDir, cloneUrl);
    const tip = (await repo.readBranch('main')) as string;
    await cloneWorkspace({ mirrorDir, cloneUrl, dir: await workspace(), branch: 'main', auth });
    // Something left a file where the workspace goes: the local clone refuses.
    const dir = await workspace();
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'leftover.txt'), 'left by a crashed attempt\n');
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => void warnings.push(args) };
    const result = await cloneWorkspace({ mirrorDir, cloneUrl, dir, branch: 'main', at: tip, auth, log });
    expect(result).toMatchObject({ source: 'remote', head: tip });
    expect(JSON.stringify(warnings)).toContain('"removed":false');
    expect(JSON.stringify(warnings)).toContain('already exists and is not an empty directory');
    // The mirror is intact and serves the next workspace without the network.
    expect((await stat(mirror)).isDirectory()).toBe(true);
    const again = await cloneWorkspace({
      mirrorDir,
      cloneUrl,
      dir: await workspace(),
      branch: 'main',
      at: tip,
      auth,
    });
    expect(again).toMatchObject({ source: 'mirror', fetchedRemote: false, head: tip });
  });

  it('falls back without removing the mirror while another git holds its lock, and clears a stale lock', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const mirror = mirrorPath(mirrorDir, cloneUrl);
    await cloneWorkspace({ mirrorDir, cloneUrl, dir: await workspace(), branch: 'main', auth });
    await repo.commitFiles('main', { 'locked.txt': 'x\n' });
    // A fetch of another process holds the shallow file's lock.
    const lock = path.join(mirror, 'shallow.lock');
    await writeFile(lock, '');
    const busy = await cloneWorkspace({ mirrorDir, cloneUrl, dir: await workspace(), branch: 'main', auth });
    expect(busy.source).toBe('remote');
    expect((await stat(mirror)).isDirectory()).toBe(true);
    // The same lock left by a git killed long ago is removed.
    const old = new Date(Date.now() - 3_600_000);
    await utimes(lock, old, old);
    const cleared = await cloneWorkspace({
      mirrorDir,
      cloneUrl,
      dir: await workspace(),
      branch: 'main',
      auth,
    });
    expect(cleared).toMatchObject({
      source: 'mirror',
      fetchedRemote: true,
      head: await repo.readBranch('main'),
    });
  });

  it('says the commit is gone when neither the mirror nor the remote has it, keeping the mirror', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const at = 'f'.repeat(40);
    const error = await cloneWorkspace({
      mirrorDir,
      cloneUrl,
      dir: await workspace(),
      branch: 'main',
      at,
      auth,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'git_commit_unavailable', kind: 'not_found' });
    expect((error as Error).message).toContain(
      `The commit ${at} this run started from is no longer available`,
    );
    expect((await stat(mirrorPath(mirrorDir, cloneUrl))).isDirectory()).toBe(true);
  });

  it('replaces a stray file where the mirror belongs', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const mirror = mirrorPath(mirrorDir, cloneUrl);
    await writeFile(mirror, 'not a directory');
    const result = await cloneWorkspace({
      mirrorDir,
      cloneUrl,
      dir: await workspace(),
      branch: 'main',
      auth,
    });
    expect(result.source).toBe('mirror');
    expect((await stat(mirror)).isDirectory()).toBe(true);
  });
});
