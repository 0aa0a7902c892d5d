import { chmod, lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertUserCanUse, chownTree, resolveRunAs } from '../../src/codex/run-as.ts';
import { ConfigError } from '../../src/errors.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('resolveRunAs', () => {
  it('takes uid:gid as is and looks a name up in passwd', async () => {
    expect(resolveRunAs('1001:1002')).toEqual({ uid: 1001, gid: 1002, spec: '1001:1002' });
    const dir = await mkdtemp(join(tmpdir(), 'speckit-runas-'));
    dirs.push(dir);
    await writeFile(
      join(dir, 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\ncodex:x:990:985::/home/codex:/usr/sbin/nologin\n',
    );
    expect(resolveRunAs('codex', join(dir, 'passwd'))).toEqual({ uid: 990, gid: 985, spec: 'codex' });
    expect(() => resolveRunAs('ghost', join(dir, 'passwd'))).toThrow(/does not exist here/);
    expect(() => resolveRunAs('a b')).toThrow(ConfigError);
  });
});

describe.runIf(process.getuid?.() === 0)('as root', () => {
  it('hands a tree over without following symbolic links', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'speckit-runas-'));
    dirs.push(dir);
    const outside = join(dir, 'outside.txt');
    await writeFile(outside, 'root only');
    await mkdir(join(dir, 'tree', 'sub'), { recursive: true });
    await writeFile(join(dir, 'tree', 'sub', 'a.txt'), 'a');
    await symlink(outside, join(dir, 'tree', 'link'));

    await chownTree(join(dir, 'tree'), 65534, 65534);

    expect((await stat(join(dir, 'tree', 'sub', 'a.txt'))).uid).toBe(65534);
    expect((await lstat(join(dir, 'tree', 'link'))).uid).toBe(65534);
    expect((await stat(outside)).uid).toBe(0);
    await chownTree(join(dir, 'tree'), 0, 0);
    expect((await stat(join(dir, 'tree', 'sub'))).uid).toBe(0);
  });

  it('names the directories the user cannot reach or write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'speckit-runas-')); // 0700
    dirs.push(dir);
    await mkdir(join(dir, 'home'));
    const nobody = resolveRunAs('65534:65534');
    await expect(assertUserCanUse(join(dir, 'home'), nobody, 'CODEX_HOME')).rejects.toThrow(
      `${dir} is not searchable by it`,
    );
    await expect(assertUserCanUse(dir, nobody, 'CODEX_HOME', { writable: true })).rejects.toThrow(
      `chown -R 65534:65534 ${dir}`,
    );
  });

  it('says when the worker itself cannot write CODEX_HOME (no CODEX_RUN_AS)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'speckit-runas-'));
    dirs.push(dir);
    await chmod(dir, 0o755); // searchable, writable only by its owner (root here)
    const worker = { uid: 65534, gid: 65534, spec: '65534' };
    const error = await assertUserCanUse(dir, worker, 'CODEX_HOME', { writable: true, self: true }).catch(
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(
      `Codex runs as the worker's user (uid 65534) and must write CODEX_HOME ${dir}, but cannot. ` +
        `Run \`chown -R 65534:65534 ${dir}\` or point CODEX_HOME elsewhere.`,
    );
    expect(error).toMatchObject({ name: 'ConfigError' });
  });
});
