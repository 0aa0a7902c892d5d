// Retention of the git mirrors: a mirror no run used for MIRROR_IDLE_DAYS goes
// (the next run of its repository rebuilds it), a recently used one stays, as
// does anything in MIRROR_DIR that is not a mirror; leftovers of interrupted
// creations go after a day.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloneWorkspace, MIRROR_USED_FILE, mirrorPath } from '../../src/git/clone-workspace.ts';
import { deleteUnusedMirrors, MIRROR_IDLE_DAYS } from '../../src/retention/retention.ts';
import { createBareRepo, makeTempDir, removeTempDirs } from '../support/git-fixtures.ts';

const DAY = 86_400_000;

afterAll(removeTempDirs);

describe('mirror retention', () => {
  it('deletes mirrors idle for longer than MIRROR_IDLE_DAYS and keeps recently used ones', async () => {
    const mirrorDir = await makeTempDir('speckit-mirrors-');
    const [idleRepo, usedRepo] = await Promise.all([createBareRepo(), createBareRepo()]);
    for (const repo of [idleRepo, usedRepo]) {
      const dir = path.join(await makeTempDir('speckit-ws-'), 'work');
      await cloneWorkspace({ mirrorDir, cloneUrl: repo.cloneUrl, dir, branch: 'main' });
    }
    const idle = mirrorPath(mirrorDir, idleRepo.cloneUrl);
    const used = mirrorPath(mirrorDir, usedRepo.cloneUrl);
    const now = Date.now();
    const long = new Date(now - (MIRROR_IDLE_DAYS + 1) * DAY);
    const recent = new Date(now - (MIRROR_IDLE_DAYS - 1) * DAY);
    await utimes(path.join(idle, MIRROR_USED_FILE), long, long);
    await utimes(path.join(used, MIRROR_USED_FILE), recent, recent);
    // An interrupted creation from two days ago, one in progress, and a stranger.
    const leftover = `${idle.replace(/\.git$/, '')}-0000000000000000.git.tmp-11111111-2222-4333-8444-555555555555`;
    const fresh = `${used}.tmp-66666666-2222-4333-8444-555555555555`;
    for (const dir of [leftover, fresh, path.join(mirrorDir, 'lost+found')]) await mkdir(dir);
    await utimes(leftover, new Date(now - 2 * DAY), new Date(now - 2 * DAY));
    await writeFile(path.join(mirrorDir, 'README'), 'not a mirror');

    expect(await deleteUnusedMirrors({ config: { mirrorDir } })).toBe(2);
    expect((await readdir(mirrorDir)).sort()).toEqual(
      [path.basename(used), path.basename(fresh), 'lost+found', 'README'].sort(),
    );
    expect(await deleteUnusedMirrors({ config: { mirrorDir } })).toBe(0);
  });

  it('finds nothing to do when MIRROR_DIR does not exist', async () => {
    const mirrorDir = path.join(await makeTempDir('speckit-mirrors-'), 'absent');
    expect(await deleteUnusedMirrors({ config: { mirrorDir } })).toBe(0);
  });
});
