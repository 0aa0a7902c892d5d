import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handOffDir, handOffWorkspace, takeWorkspace } from '../../src/chain/workspace-handoff.ts';
import { cloneRepository, headSha } from '../../src/git/workspace.ts';
import { createBareRepo, fixtureGit, makeTempDir, removeTempDirs } from '../support/git-fixtures.ts';

afterAll(removeTempDirs);

const RUN = '6f1d6a52-0f5e-4c1a-9a57-7f3f1f1b2c3d';
const quiet = { info: () => {}, warn: () => {} };

/** A finished discover attempt's workspace on `main`, handed off; and where the codex step works. */
async function handedOff(): Promise<{ handOff: string; workspace: string; head: string }> {
  const repo = await createBareRepo({ files: { 'README.md': '# Project\n' } });
  const workDir = await makeTempDir('speckit-work-');
  const discover = path.join(workDir, RUN, 'discover-1');
  await mkdir(path.dirname(discover), { recursive: true });
  await cloneRepository({ cloneUrl: repo.cloneUrl, dir: discover, branch: 'main' });
  const handOff = handOffDir(workDir, RUN, 'discover');
  await handOffWorkspace(discover, handOff);
  expect(existsSync(discover)).toBe(false);
  return { handOff, workspace: path.join(workDir, RUN, 'codex-1'), head: await headSha(handOff) };
}

describe('workspace hand-off', () => {
  it('gives the next step the workspace when it holds the expected branch and commit', async () => {
    const { handOff, workspace, head } = await handedOff();
    expect(await takeWorkspace(handOff, workspace, { branch: 'main', head }, quiet)).toBe(true);
    expect(existsSync(handOff)).toBe(false);
    expect(await headSha(workspace)).toBe(head);
    expect(await readFile(path.join(workspace, 'README.md'), 'utf8')).toBe('# Project\n');
  });

  it('says no when nothing was handed off on this machine', async () => {
    const workDir = await makeTempDir('speckit-work-');
    const workspace = path.join(workDir, RUN, 'codex-1');
    const head = 'a'.repeat(40);
    expect(
      await takeWorkspace(handOffDir(workDir, RUN, 'discover'), workspace, { branch: 'main', head }, quiet),
    ).toBe(false);
    expect(existsSync(workspace)).toBe(false);
  });

  it.each([
    ['another commit', async (_dir: string) => ({ branch: 'main', head: 'b'.repeat(40) })],
    ['another branch', async (dir: string) => ({ branch: 'speckit/001', head: await headSha(dir) })],
    [
      'an untracked file',
      async (dir: string) => {
        await writeFile(path.join(dir, 'left-over.txt'), 'x\n');
        return { branch: 'main', head: await headSha(dir) };
      },
    ],
    [
      'a detached HEAD',
      async (dir: string) => {
        await fixtureGit(['checkout', '--quiet', '--detach'], dir);
        return { branch: 'main', head: await headSha(dir) };
      },
    ],
  ])('refuses a workspace with %s and removes it, so the step clones', async (_what, change) => {
    const { handOff, workspace } = await handedOff();
    const expect_ = await change(handOff);
    const said: string[] = [];
    const log = { info: (_: object, message: string) => void said.push(message), warn: () => {} };
    expect(await takeWorkspace(handOff, workspace, expect_, log)).toBe(false);
    expect(existsSync(workspace)).toBe(false);
    expect(existsSync(handOff)).toBe(false);
    expect(said).toEqual(['the handed-off workspace is not what this step needs; cloning instead']);
  });

  it("replaces an earlier attempt's hand-off", async () => {
    const { handOff } = await handedOff();
    const second = path.join(path.dirname(handOff), 'discover-2');
    await mkdir(second);
    await writeFile(path.join(second, 'marker'), 'second attempt\n');
    await handOffWorkspace(second, handOff);
    expect(await readFile(path.join(handOff, 'marker'), 'utf8')).toBe('second attempt\n');
    expect(existsSync(path.join(handOff, 'README.md'))).toBe(false);
  });
});
