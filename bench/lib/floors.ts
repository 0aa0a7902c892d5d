// Floors: what PostgreSQL, pg-boss and git cost by themselves, measured in the
// same process run as the app so that results can be given as ratios.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PgBoss } from 'pg-boss';
import { createTestDatabase } from '../../test/support/database.ts';
import { DEFAULT_BRANCH } from './repo.ts';
import { now } from './stats.ts';

/**
 * A raw pg-boss chain of 5 jobs with no-op handlers, configured like the app's
 * chain (LISTEN/NOTIFY, notify queues, 2 s polling fallback, one job per
 * fetch): each handler sends the next job. Returns per-hop latencies (send
 * committed → next handler started) and per-chain totals.
 */
export async function pgBossChainFloor(chains: number): Promise<{ hops: number[]; totals: number[] }> {
  const database = await createTestDatabase({ migrate: false });
  const boss = new PgBoss({ connectionString: database.url, useListenNotify: true });
  boss.on('error', () => {});
  await boss.start();
  const names = [1, 2, 3, 4, 5].map((i) => `floor.step${i}`);
  const hops: number[] = [];
  const totals: number[] = [];
  try {
    for (const name of names) await boss.createQueue(name, { notify: true });
    const sentAt = new Map<string, number>();
    const startedAt = new Map<string, number>();
    const done = new Map<number, () => void>();
    for (let k = 0; k < names.length; k++) {
      await boss.work(
        names[k]!,
        { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2, batchSize: 1 },
        async ([job]) => {
          const at = now();
          const { chain } = job!.data as { chain: number };
          startedAt.set(`${chain}:${k}`, at);
          if (k + 1 < names.length) {
            await boss.send(names[k + 1]!, { chain });
            sentAt.set(`${chain}:${k + 1}`, now());
          } else done.get(chain)?.();
        },
      );
    }
    for (let chain = 0; chain < chains; chain++) {
      const finished = new Promise<void>((resolve) => done.set(chain, resolve));
      const start = now();
      await boss.send(names[0]!, { chain });
      sentAt.set(`${chain}:0`, now());
      await finished;
      totals.push((startedAt.get(`${chain}:4`) ?? Number.NaN) - start);
      for (let k = 1; k < names.length; k++) {
        hops.push(Math.max(0, startedAt.get(`${chain}:${k}`)! - sentAt.get(`${chain}:${k}`)!));
      }
    }
  } finally {
    await boss.stop({ graceful: false, close: true });
    await database.drop();
  }
  return { hops, totals };
}

const gitEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

/** Time spent per git subcommand (clone, ls-remote, …) by gitRunFloor, summed over its runs. */
export const gitFloorBreakdown = new Map<string, { count: number; ms: number }>();

function git(
  args: string[],
  options: { cwd: string; input?: string; env?: Record<string, string>; untimed?: boolean },
) {
  const start = now();
  const kind = args[0] ?? '';
  const tally = () => {
    const entry = gitFloorBreakdown.get(kind) ?? { count: 0, ms: 0 };
    entry.count += 1;
    entry.ms += now() - start;
    gitFloorBreakdown.set(kind, entry);
  };
  return new Promise<string>((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd: options.cwd, env: { ...gitEnv, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (!options.untimed) tally();
        if (error) reject(error);
        else resolve(stdout);
      },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'speckit-bot',
  GIT_AUTHOR_EMAIL: 'bot@example.com',
  GIT_COMMITTER_NAME: 'speckit-bot',
  GIT_COMMITTER_EMAIL: 'bot@example.com',
  GIT_AUTHOR_DATE: '@1800000000 +0000',
  GIT_COMMITTER_DATE: '@1800000000 +0000',
};

/** diffWorkingTree's commands: a temporary index, add --all, names, binary diff. */
async function diffWorkingTree(dir: string): Promise<string> {
  const gitDir = (await git(['rev-parse', '--absolute-git-dir'], { cwd: dir })).trim();
  const index = path.join(gitDir, 'floor-index');
  await copyFile(path.join(gitDir, 'index'), index);
  const env = { GIT_INDEX_FILE: index, GIT_LITERAL_PATHSPECS: '1' };
  await git(['add', '--all'], { cwd: dir, env });
  await git(['diff', '--cached', '--name-only', '-z', '--no-renames', '--no-relative', 'HEAD'], {
    cwd: dir,
    env,
  });
  const patch = await git(
    [
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
    ],
    { cwd: dir, env },
  );
  await rm(index, { force: true });
  return patch;
}

/** commitAllWithPatch's commands: add --all, the staged patch, commit, commit and tree shas. */
async function commitAllWithPatch(dir: string, message: string): Promise<void> {
  await git(['add', '--all'], { cwd: dir });
  await git(
    [
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
    ],
    { cwd: dir },
  );
  await git(
    [
      'commit',
      '--quiet',
      '--no-verify',
      '--cleanup=whitespace',
      '--file=-',
      '--trailer=Speckit-Run-Id: floor',
    ],
    {
      cwd: dir,
      input: message,
      env: IDENTITY,
    },
  );
  await git(['rev-parse', 'HEAD^{commit}', 'HEAD^{tree}'], { cwd: dir });
}

/**
 * The git commands one run makes (discover, codex, apply, publish — read from
 * src/git/clone-workspace.ts, src/git/workspace.ts and src/chain/steps, and
 * checked against a trace of the app's git processes), run directly one after
 * another: discover's and apply's workspaces are cloned over file:// from a
 * shallow bare mirror that is fetched into first (warm, as after the app's
 * first run), codex and publish take them over (one status each), and the
 * stub Codex's two file edits are done in place (no Codex process).
 * Returns the wall time and the number of git processes.
 */
export async function gitRunFloor(
  url: string,
  feature: string,
  root: string,
): Promise<{ ms: number; commands: number }> {
  let commands = 0;
  const counted = <T>(p: Promise<T>) => {
    commands += 1;
    return p;
  };
  const branch = `speckit/${feature}`;
  const mirror = path.join(root, 'mirror.git');
  const work = path.join(root, 'work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const fetchArgs = (ref: string) => [
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-write-fetch-head',
    '--depth=50',
    url,
    `+refs/heads/${ref}:refs/heads/${ref}`,
  ];
  const fetchMirror = (ref: string) => counted(git(fetchArgs(ref), { cwd: mirror }));
  // The mirror exists and holds the default branch before the timed part, as it does for the app.
  await mkdir(mirror, { recursive: true });
  await git(['init', '--quiet', '--bare', mirror], { cwd: root, untimed: true });
  await git(fetchArgs(DEFAULT_BRANCH), { cwd: mirror, untimed: true });
  const start = now();
  const cloneFromMirror = async (dir: string) => {
    await counted(
      git(
        [
          'clone',
          '--quiet',
          '--no-tags',
          '--single-branch',
          `--branch=${DEFAULT_BRANCH}`,
          '--depth=50',
          '--',
          pathToFileURL(mirror).href,
          dir,
        ],
        { cwd: work },
      ),
    );
    await counted(git(['remote', 'set-url', 'origin', url], { cwd: dir }));
    await counted(git(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: dir }));
  };
  const lsRemote = (...refs: string[]) =>
    counted(git(['ls-remote', '--heads', url, ...refs.map((r) => `refs/heads/${r}`)], { cwd: root }));
  // How a step checks the workspace the step before handed it.
  const status = (dir: string) =>
    counted(
      git(
        ['status', '--porcelain=v2', '--branch', '--untracked-files=all', '--ignore-submodules=none', '-z'],
        {
          cwd: dir,
        },
      ),
    );
  // discover
  await lsRemote(branch, feature, DEFAULT_BRANCH);
  await fetchMirror(DEFAULT_BRANCH);
  const d1 = path.join(work, 'discover');
  await cloneFromMirror(d1);
  // codex, in discover's workspace
  await status(d1);
  await mkdir(path.join(d1, 'src', feature), { recursive: true });
  await writeFile(path.join(d1, 'src', feature, 'hello.txt'), `Hello from ${feature}\n`);
  await writeFile(
    path.join(d1, 'README.md'),
    `${await readFile(path.join(d1, 'README.md'), 'utf8')}See it.\n`,
  );
  const patch = await diffWorkingTree(d1);
  commands += 4;
  // apply
  await fetchMirror(DEFAULT_BRANCH);
  const d3 = path.join(work, 'apply');
  await cloneFromMirror(d3);
  await counted(git(['switch', '--quiet', '--create', branch], { cwd: d3 }));
  await counted(
    git(['apply', '--index', '--3way', '--binary', '--whitespace=nowarn', '-'], { cwd: d3, input: patch }),
  );
  await counted(git(['diff', '--cached', '--numstat', '-z', '--no-renames', 'HEAD'], { cwd: d3 }));
  const tasks = path.join(d3, 'specs', feature, 'tasks.md');
  await writeFile(tasks, (await readFile(tasks, 'utf8')).replace('- [ ] T001', '- [X] T001'));
  await commitAllWithPatch(d3, `feat(${feature}): phase 1 – Setup`);
  commands += 4;
  // publish, in apply's workspace
  await lsRemote(branch);
  await status(d3);
  await counted(git(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: d3 }));
  await counted(
    git(
      [
        'push',
        '--porcelain',
        '--no-verify',
        '--no-recurse-submodules',
        `--force-with-lease=refs/heads/${branch}:`,
        url,
        `HEAD:refs/heads/${branch}`,
      ],
      { cwd: d3 },
    ),
  );
  const ms = now() - start;
  await rm(work, { recursive: true, force: true });
  return { ms, commands };
}
