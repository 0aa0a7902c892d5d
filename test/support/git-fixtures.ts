// Local bare repositories with content, and a smart-HTTP git server in front of them,
// for tests of src/git. Uses git directly (not src/git) so fixtures never depend on the
// code under test.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export const FIXTURE_IDENTITY = { name: 'Fixture Bot', email: 'fixture@example.com' };

const fixtureEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: FIXTURE_IDENTITY.name,
  GIT_AUTHOR_EMAIL: FIXTURE_IDENTITY.email,
  GIT_COMMITTER_NAME: FIXTURE_IDENTITY.name,
  GIT_COMMITTER_EMAIL: FIXTURE_IDENTITY.email,
};

/** Runs git for a fixture with a fixed, config-free environment; returns trimmed stdout. */
export async function fixtureGit(args: readonly string[], cwd?: string, input?: string): Promise<string> {
  const { stdout } = await execa('git', [...args], {
    cwd,
    env: fixtureEnv,
    extendEnv: false,
    ...(input === undefined ? {} : { input }),
  });
  return stdout;
}

/** Adds `count` empty commits on top of `branch` of a bare repository in one go (git fast-import). */
export async function appendEmptyCommits(bareDir: string, branch: string, count: number): Promise<string> {
  const from = await fixtureGit(['rev-parse', `refs/heads/${branch}`], bareDir);
  const commits = Array.from({ length: count }, (_, i) => {
    const message = `Filler ${i + 1}\n`;
    return [
      `commit refs/heads/${branch}`,
      `committer ${FIXTURE_IDENTITY.name} <${FIXTURE_IDENTITY.email}> ${1_700_000_000 + i} +0000`,
      `data ${Buffer.byteLength(message)}`,
      message,
      ...(i === 0 ? [`from ${from}`] : []),
      '',
    ].join('\n');
  });
  await fixtureGit(['fast-import', '--quiet'], bareDir, commits.join(''));
  return fixtureGit(['rev-parse', `refs/heads/${branch}`], bareDir);
}

const tempDirs: string[] = [];

/** A fresh temporary directory, removed by `removeTempDirs()`. */
export async function makeTempDir(prefix = 'speckit-git-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory made by makeTempDir (call it in afterAll). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export type FileContent = string | Uint8Array;

/** Writes files (creating parent directories) under `root`. */
export async function writeFiles(root: string, files: Record<string, FileContent>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}

export interface LogEntry {
  sha: string;
  subject: string;
  body: string;
  authorName: string;
  authorEmail: string;
  committerName: string;
  committerEmail: string;
}

export interface BareRepo {
  bareDir: string;
  /** A local path (what `git clone` accepts); production uses https URLs. */
  cloneUrl: string;
  /** The sha of refs/heads/<branch>, or null. */
  readBranch(branch: string): Promise<string | null>;
  /** Commits of `branch`, newest first. */
  log(branch: string): Promise<LogEntry[]>;
  /** The tree of `branch` as path → content (UTF-8 decoded). */
  readTree(branch: string): Promise<Record<string, string>>;
  /** Adds a commit with `files` (null deletes) on top of `branch` (created from `from` if absent). */
  commitFiles(
    branch: string,
    files: Record<string, FileContent | null>,
    message?: string,
    from?: string,
  ): Promise<string>;
}

/** A bare repository whose `branch` (default main) holds one commit with `files`. */
export async function createBareRepo(
  options: { files?: Record<string, FileContent>; branch?: string } = {},
): Promise<BareRepo> {
  const branch = options.branch ?? 'main';
  const root = await makeTempDir('speckit-bare-');
  const bareDir = join(root, 'origin.git');
  await fixtureGit(['init', '--quiet', '--bare', `--initial-branch=${branch}`, bareDir]);
  const work = join(root, 'seed');
  await fixtureGit(['init', '--quiet', `--initial-branch=${branch}`, work]);
  await writeFiles(work, options.files ?? { 'README.md': '# fixture\n' });
  await fixtureGit(['add', '--all'], work);
  await fixtureGit(['commit', '--quiet', '-m', 'Initial commit'], work);
  await fixtureGit(['push', '--quiet', bareDir, `HEAD:refs/heads/${branch}`], work);

  const readBranch = async (name: string): Promise<string | null> => {
    try {
      return await fixtureGit(['rev-parse', '--verify', '--quiet', `refs/heads/${name}`], bareDir);
    } catch {
      return null;
    }
  };

  return {
    bareDir,
    cloneUrl: bareDir,
    readBranch,
    async log(name) {
      const out = await fixtureGit(
        ['log', '--format=%H%x1f%s%x1f%b%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1e', `refs/heads/${name}`],
        bareDir,
      );
      return out
        .split('\x1e')
        .map((r) => r.replace(/^\n/, ''))
        .filter((r) => r.length > 0)
        .map((r) => {
          const [
            sha = '',
            subject = '',
            body = '',
            authorName = '',
            authorEmail = '',
            committerName = '',
            committerEmail = '',
          ] = r.split('\x1f');
          return { sha, subject, body, authorName, authorEmail, committerName, committerEmail };
        });
    },
    async readTree(name) {
      const listing = await fixtureGit(['ls-tree', '-r', '-z', '--name-only', `refs/heads/${name}`], bareDir);
      const tree: Record<string, string> = {};
      for (const path of listing.split('\0').filter(Boolean)) {
        const { stdout } = await execa('git', ['show', `refs/heads/${name}:${path}`], {
          cwd: bareDir,
          env: fixtureEnv,
          extendEnv: false,
          encoding: 'buffer',
        });
        tree[path] = Buffer.from(stdout).toString('utf8');
      }
      return tree;
    },
    async commitFiles(name, files, message = 'Fixture change', from = branch) {
      const dir = await makeTempDir('speckit-push-');
      const start = (await readBranch(name)) ? name : from;
      await fixtureGit(['clone', '--quiet', `--branch=${start}`, bareDir, dir]);
      for (const [path, content] of Object.entries(files)) {
        if (content === null) await rm(join(dir, path), { force: true });
        else await writeFiles(dir, { [path]: content });
      }
      await fixtureGit(['add', '--all'], dir);
      await fixtureGit(['commit', '--quiet', '--allow-empty', '-m', message], dir);
      await fixtureGit(['push', '--quiet', 'origin', `HEAD:refs/heads/${name}`], dir);
      return fixtureGit(['rev-parse', 'HEAD'], dir);
    },
  };
}

/**
 * Pushes a commit with `files` onto `branch` of a bare repository without
 * yielding to the event loop: for a hook that must move a branch before the
 * request it sees is answered (the fakes' onRequest callbacks are synchronous).
 */
export function commitFilesNow(
  bareDir: string,
  branch: string,
  files: Record<string, string>,
  message = 'Fixture change',
): string {
  const git = (args: string[], cwd: string) =>
    execFileSync('git', args, { cwd, env: fixtureEnv, encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'speckit-push-now-'));
  try {
    git(['clone', '--quiet', `--branch=${branch}`, bareDir, dir], tmpdir());
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    git(['add', '--all'], dir);
    git(['commit', '--quiet', '-m', message], dir);
    git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], dir);
    return git(['rev-parse', 'HEAD'], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GitHub's words for a GitHub App without the `workflows` permission, as a pre-receive hook. */
const WORKFLOW_REFUSAL_HOOK = String.raw`#!/bin/sh
zero=0000000000000000000000000000000000000000
while read old new ref; do
  if [ "$old" = "$zero" ]; then files=$(git log --format= --name-only "$new" --not --branches)
  else files=$(git diff --name-only "$old" "$new"); fi
  file=$(printf '%s
' "$files" | grep '^\.github/workflows/' | head -n 1)
  if [ -n "$file" ]; then
    echo "refusing to allow a GitHub App to create or update workflow \`$file\` without \`workflows\` permission" >&2
    exit 1
  fi
done
`;

/**
 * Makes a bare repository refuse a push that adds or changes a file under
 * `.github/workflows/`, as GitHub refuses a GitHub App without the
 * `workflows` permission.
 */
export async function refuseWorkflowPushes(bareDir: string): Promise<void> {
  const hook = join(bareDir, 'hooks', 'pre-receive');
  await writeFile(hook, WORKFLOW_REFUSAL_HOOK);
  await chmod(hook, 0o755);
}

export interface GitHttpServer {
  /** http://127.0.0.1:<port> — repositories are at `${url}/<name>.git`. */
  url: string;
  /** Authorization headers received, in order. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/**
 * A smart-HTTP git server (`git http-backend` as CGI) serving the bare repositories under
 * `projectRoot`. With `token`, every request must carry `Authorization: basic
 * base64(x-access-token:<token>)`, as GitHub expects; others get 401.
 */
export async function startGitHttpServer(options: {
  projectRoot: string;
  token?: string;
  /** Sees every request first; returning true drops it unanswered (a crash test's kill point). */
  onRequest?: (method: string, path: string) => boolean;
}): Promise<GitHttpServer> {
  const authorizations: (string | undefined)[] = [];
  const expected =
    options.token === undefined
      ? undefined
      : `basic ${Buffer.from(`x-access-token:${options.token}`).toString('base64')}`;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (options.onRequest?.(req.method ?? 'GET', req.url ?? '/')) {
      req.socket.destroy();
      return;
    }
    const header = req.headers.authorization;
    authorizations.push(header);
    if (expected !== undefined && header?.toLowerCase() !== expected.toLowerCase()) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fixture"' }).end('unauthorized\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://fixture');
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: options.projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'x-access-token', // enables receive-pack (push)
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
    });
    req.pipe(child.stdin);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('close', () => {
      const out = Buffer.concat(chunks);
      const end = out.indexOf('\r\n\r\n');
      const sepLength = end === -1 ? 2 : 4;
      const headerEnd = end === -1 ? out.indexOf('\n\n') : end;
      if (headerEnd === -1) {
        res.writeHead(500).end();
        return;
      }
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of out.subarray(0, headerEnd).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon === -1) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers).end(out.subarray(headerEnd + sepLength));
    });
  };

  const server = createServer(handle);
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authorizations,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
