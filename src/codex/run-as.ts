// CODEX_RUN_AS: the unprivileged user Codex runs as when the worker runs as root, so the
// commands the model runs cannot read the app's private key, `.env` or `var/` (the sandbox
// limits writes, not reads). The workspace is handed to that user for the run and back to
// the app's user afterwards (git refuses a tree owned by someone else: "dubious ownership").

import { readFileSync } from 'node:fs';
import { lchown, lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

export interface RunAsUser {
  uid: number;
  gid: number;
  /** What the operator wrote (a user name or uid:gid), for messages. */
  spec: string;
}

const UID_GID = /^(\d+):(\d+)$/;
const USER_NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;

/**
 * Resolves CODEX_RUN_AS (`nobody` or `65534:65534`) to numeric ids, reading `passwd`
 * (default /etc/passwd) for a name. Throws a ConfigError naming the fix.
 */
export function resolveRunAs(spec: string, passwd = '/etc/passwd'): RunAsUser {
  const text = spec.trim();
  const ids = UID_GID.exec(text);
  if (ids) return { uid: Number(ids[1]), gid: Number(ids[2]), spec: text };
  if (!USER_NAME.test(text)) {
    throw new ConfigError(`CODEX_RUN_AS must be a user name or uid:gid, got "${spec}".`, {
      code: 'codex_run_as_invalid',
    });
  }
  let entries = '';
  try {
    entries = readFileSync(passwd, 'utf8');
  } catch (cause) {
    throw new ConfigError(`CODEX_RUN_AS: cannot read ${passwd} to look up "${text}"; give uid:gid instead.`, {
      code: 'codex_run_as_invalid',
      cause,
    });
  }
  for (const line of entries.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === text && uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid)) {
      return { uid: Number(uid), gid: Number(gid), spec: text };
    }
  }
  throw new ConfigError(
    `CODEX_RUN_AS names the user "${text}", which does not exist here; create it (useradd --system ${text}) or give uid:gid.`,
    { code: 'codex_run_as_invalid' },
  );
}

/**
 * Hands a tree to uid:gid without following symbolic links (a link in the repository must
 * never make root chown its target). Entries that vanish while we walk are skipped.
 */
export async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  const walk = async (path: string): Promise<void> => {
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(path);
    } catch {
      return;
    }
    if (info.uid !== uid || info.gid !== gid) await lchown(path, uid, gid).catch(() => undefined);
    if (!info.isDirectory()) return;
    let names: string[] = [];
    try {
      names = await readdir(path);
    } catch {
      return;
    }
    for (const name of names) await walk(join(path, name));
  };
  await walk(root);
}

function allows(info: { uid: number; gid: number; mode: number }, user: RunAsUser, bits: number): boolean {
  // bits: 1 = execute/search, 2 = write (permission classes checked in the kernel's order)
  if (info.uid === user.uid) return ((info.mode >> 6) & bits) === bits;
  if (info.gid === user.gid) return ((info.mode >> 3) & bits) === bits;
  return (info.mode & bits) === bits;
}

/**
 * Checks, as far as modes and owners tell, that `user` can reach `dir` (search permission on
 * every ancestor) and, with `writable`, write in it. Throws a ConfigError naming the fix.
 */
export async function assertUserCanUse(
  dir: string,
  user: RunAsUser,
  what: string,
  options: { writable?: boolean /** The user is the worker's own (no CODEX_RUN_AS). */; self?: boolean } = {},
): Promise<void> {
  const who = options.self ? `the worker's user (uid ${user.uid})` : `${user.spec} (CODEX_RUN_AS)`;
  const target = resolve(dir);
  let current = dirname(target);
  const blocked: string[] = [];
  for (;;) {
    const info = await stat(current).catch(() => null);
    if (info && !allows(info, user, 1)) blocked.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (blocked.length > 0) {
    throw new ConfigError(
      `Codex runs as ${who} but cannot reach ${what} ${target}: ` +
        `${blocked.reverse().join(', ')} ${blocked.length === 1 ? 'is' : 'are'} not searchable by it. ` +
        'Allow it (chmod o+x on those directories, which lists nothing) or move the directory.',
      { code: 'codex_run_as_unreachable' },
    );
  }
  if (options.writable) {
    const info = await stat(target).catch(() => null);
    if (!info || !allows(info, user, 3)) {
      throw new ConfigError(
        `Codex runs as ${who} and must write ${what} ${target}, but cannot. ` +
          `Run \`chown -R ${user.uid}:${user.gid} ${target}\`${options.self ? ' or point CODEX_HOME elsewhere' : ''}.`,
        { code: 'codex_run_as_unreachable' },
      );
    }
  }
}
