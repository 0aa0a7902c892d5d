// The container image, proven without a Docker engine: the Dockerfile's
// stages are executed as a file-tree recipe in a temporary directory (the
// same COPY lists; Prisma client generation in the build stage; production
// dependencies only in the runtime stage), then both roles start from that
// tree as a non-root user with only the variables docker-compose.yml and the
// Kubernetes manifests define — each of which must pass readConfig — and
// complete a whole run: a signed issue_comment to the web process, the steps
// shared with a worker process, git over smart HTTP, the tree's own Codex CLI
// against a fake model, a fake GitHub Enterprise Server API, a PR at the end.
//
// The stages' RUN lines run as written (`sh -c`, in the stage's directory, with
// the base image's PATH and nothing else: no node_modules/.bin), COPY honours
// .dockerignore, and the HEALTHCHECK command runs inside each role's
// "container" (a PID namespace of its own, as docker gives it).
//
// Stand-ins, because nothing is pulled here: `npm ci` is a hard-linked copy of
// this checkout's node_modules (installed from the same package-lock.json), and
// `npm ci --omit=dev` is that copy pruned with `npm prune --omit=dev`;
// `npm cache clean` is skipped (npm's cache is outside /app). Mounted
// secrets and volumes (/run/secrets/…, /app/var/…) map to files in the tree,
// the `postgres` host to the test server; the runtime stage's mkdir/chown run
// on the tree with `nobody` as the image's user, and a named volume whose
// directory the image lacks starts root-owned, as docker makes it. Web and
// worker share one tree here (separate containers in compose): only the
// volumes are shared there, and runs use per-run paths.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { readConfig } from '../../src/config.ts';
import { createPrismaClient } from '../../src/db/prisma.ts';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { waitFor } from '../support/app-harness.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  applyPatchCall,
  FAKE_API_KEY_ENV,
  finalMessage,
  isToolFollowUp,
  startFakeModelServer,
  writeCodexHome,
} from '../support/fake-model-server.ts';
import { createBareRepo, makeTempDir, removeTempDirs, startGitHttpServer } from '../support/git-fixtures.ts';
import { INSTALLATION_TOKEN, startFakeGitHubServer } from '../support/github-api.ts';
import { repoFileReaders } from '../support/repo-files.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';
import { findProcesses } from '../support/worker-process.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const node = process.execPath;
/** npm itself: next to this Node, else the machine's (the `node` npm package ships no npm). */
const NPM_CLI = [
  path.join(path.dirname(node), '../lib/node_modules/npm/bin/npm-cli.js'),
  '/usr/lib/node_modules/npm/bin/npm-cli.js',
].find((file) => existsSync(file)) as string;

/** The node:24 image's PATH, with this Node's directory standing in for /usr/local/bin. */
const IMAGE_PATH = `${path.dirname(node)}:/usr/sbin:/usr/bin:/sbin:/bin`;

interface Stage {
  name: string;
  copies: { from: string | null; sources: string[]; dest: string }[];
  runs: string[];
  /** The stage's ENV instructions. */
  env: Record<string, string>;
}

/** The Dockerfile's stages with their COPY, RUN and ENV instructions (continuations joined), and the HEALTHCHECK command. */
function readDockerfile(): { stages: Stage[]; text: string; healthcheck: string[] | null } {
  const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  let healthcheck: string[] | null = null;
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[1] ?? `stage${stages.length}`, copies: [], runs: [], env: {} });
    const stage = stages.at(-1);
    const copy = /^COPY\s+(?:--from=(\S+)\s+)?(.+)$/i.exec(line);
    if (stage && copy?.[2]) {
      const parts = copy[2].trim().split(/\s+/);
      stage.copies.push({ from: copy[1] ?? null, sources: parts.slice(0, -1), dest: parts.at(-1) ?? '.' });
    }
    const run = /^RUN\s+(.+)$/i.exec(line);
    if (stage && run?.[1]) stage.runs.push(run[1]);
    const env = /^ENV\s+(.+)$/i.exec(line);
    for (const pair of env?.[1]?.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g) ?? []) {
      if (stage && pair[1] && pair[2]) stage.env[pair[1]] = pair[2].replace(/^"(.*)"$/, '$1');
    }
    // Exec form (a JSON array) or shell form, as docker runs them.
    const check = /^HEALTHCHECK\s+(?:--\S+\s+)*CMD\s+(.+)$/i.exec(line)?.[1]?.trim();
    if (check) healthcheck = check.startsWith('[') ? JSON.parse(check) : ['/bin/sh', '-c', check];
  }
  return { stages, text, healthcheck };
}

/**
 * Whether .dockerignore keeps `relative` (a path in the build context) out of
 * COPY: docker's rules — patterns anchored at the context root, a match on a
 * directory excludes what it holds, `!` re-includes, the last match wins.
 */
function dockerIgnored(relative: string): boolean {
  const patterns = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const parts = relative.split(path.sep);
  let ignored = false;
  for (const pattern of patterns) {
    const include = pattern.startsWith('!');
    const glob = path.normalize(include ? pattern.slice(1) : pattern).replace(/^\/+|\/+$/g, '');
    if (parts.some((_, index) => path.matchesGlob(parts.slice(0, index + 1).join('/'), glob)))
      ignored = !include;
  }
  return ignored;
}

function copyInto(dir: string, sources: string[], dest: string, from = repoRoot): void {
  for (const source of sources) {
    const target =
      dest.endsWith('/') || dest === '.' || dest === './'
        ? path.join(dir, dest, path.basename(source))
        : path.join(dir, dest);
    cpSync(path.join(from, source), target, {
      recursive: true,
      filter: (file) => from !== repoRoot || !dockerIgnored(path.relative(repoRoot, file)),
    });
  }
}

/** `npm ci` (with `--omit=dev` when `command` says so), stood in for in `dir`. */
function installDependencies(dir: string, command: string): void {
  execFileSync('cp', ['-al', path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules')]);
  if (!command.includes('--omit=dev')) return;
  execFileSync(
    node,
    [NPM_CLI, 'prune', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'],
    { cwd: dir, env: { PATH: IMAGE_PATH, HOME: dir }, stdio: 'pipe' },
  );
}

/**
 * A build stage's RUN lines, each command as written (`sh -c` in the stage's
 * directory, with the image's PATH and the stage's ENV only), but `npm ci`
 * (stood in for) and `npm cache clean` (npm's cache is outside /app).
 */
function runBuildSteps(stage: Stage, dir: string): void {
  for (const command of stage.runs.flatMap((run) => run.split('&&')).map((part) => part.trim())) {
    if (/^npm ci\b/.test(command)) installDependencies(dir, command);
    else if (/^npm cache clean\b/.test(command)) continue;
    else {
      try {
        execFileSync('/bin/sh', ['-c', command], {
          cwd: dir,
          env: { PATH: IMAGE_PATH, HOME: dir, ...stage.env },
          stdio: 'pipe',
        });
      } catch (error) {
        const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`stage ${stage.name}: \`${command}\` failed:\n${stdout ?? ''}${stderr ?? ''}`);
      }
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** docker compose's ${NAME}, ${NAME:-default}, ${NAME:?message} against `env`. */
function interpolate(value: unknown, env: Record<string, string>): string {
  return String(value).replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind, rest) => {
    const set = env[name];
    if (set) return set;
    if (kind === '?') throw new Error(`compose needs ${name}: ${rest}`);
    return kind === '-' ? rest : '';
  });
}

let dir: string;
let app: string;
let database: TestDatabase;
let keyFile: string;
/** The image user's home (useradd --create-home), which docker sets as HOME. */
let home: string;
const children: ChildProcess[] = [];
/** Servers and clients a test started, closed after the file. */
const cleanups: (() => Promise<unknown>)[] = [];
const INSTALLATION_ID = 4243;
const SECRETS = {
  APP_ID: '4242',
  WEBHOOK_SECRET: 'compose-webhook-secret',
  SPECKIT_API_TOKEN: 'compose-api-token',
};

/** What the container sees at /app/…, /run/secrets/… and the `postgres` service, in this tree. */
function mapContainerEnv(env: Record<string, string>): Record<string, string> {
  const mapped: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    mapped[name] = value
      .replace(/^\/app\//, `${app}/`)
      .replace(/^\/run\/secrets\/github_app_key$/, keyFile)
      .replace(/^\/var\/run\/speckit\/github-app\.pem$/, keyFile)
      .replace(/^postgresql:\/\/[^@]+@postgres[^/]*\/speckit$/, database.url);
  }
  return mapped;
}

function composeService(service: string): { environment: Record<string, unknown>; volumes?: unknown[] } {
  const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true });
  return compose.services[service];
}

/** A service's environment as compose computes it, `shell` holding what the operator's shell or .env sets. */
function composeEnv(service: string, shell: Record<string, string> = {}): Record<string, string> {
  const { environment } = composeService(service);
  return Object.fromEntries(
    Object.entries(environment).map(([k, v]) => [k, interpolate(v, { ...SECRETS, ...shell })]),
  );
}

/** An image path (/app/…) in the tree. */
function inTree(imagePath: string): string {
  if (!imagePath.startsWith('/')) return path.join(app, imagePath); // relative to WORKDIR /app
  if (!/^\/app(\/|$)/.test(imagePath)) throw new Error(`${imagePath} is outside /app: not emulated`);
  return path.join(app, imagePath.slice('/app'.length));
}

/**
 * The runtime stage's RUN steps that shape /app (`mkdir`, `chown`), applied to
 * the tree with `nobody` standing in for the image's USER. Steps that only set
 * up the system (apt-get, useradd, rm) are what this host already has; any other
 * step is one this emulation does not know, and fails the build.
 */
function runFileSteps(stage: Stage, imageUser: string): void {
  for (const command of stage.runs.flatMap((run) => run.split('&&'))) {
    const [program = '', ...args] = command.trim().split(/\s+/);
    const operands = args.filter((arg) => !arg.startsWith('-'));
    if (program === 'mkdir') {
      for (const dir of operands) mkdirSync(inTree(dir), { recursive: true });
    } else if (program === 'chown') {
      const [owner, ...paths] = operands;
      expect(owner, command).toBe(`${imageUser}:${imageUser}`);
      const flags = args.filter((arg) => arg.startsWith('-'));
      execFileSync('chown', [...flags, 'nobody:nogroup', ...paths.map(inTree)]);
    } else if (!['apt-get', 'rm', 'useradd'].includes(program) || command.includes('/app')) {
      throw new Error(
        `the runtime stage runs \`${command.trim()}\`: teach this test what it does to the image`,
      );
    }
  }
}

/**
 * Named volumes of a compose service over the tree, as docker creates them: a
 * new volume takes the content and owner of the image's directory; where the
 * image has none, it starts empty and owned by root.
 */
function mountNamedVolumes(service: string): void {
  for (const volume of composeService(service).volumes ?? []) {
    const [source = '', target = ''] = String(volume).split(':');
    if (source.startsWith('.') || source.startsWith('/')) continue; // a bind mount
    if (!existsSync(inTree(target))) mkdirSync(inTree(target), { recursive: true, mode: 0o755 });
  }
}

function k8sEnv(deployment: 'speckit-web' | 'speckit-worker' | 'speckit-migrate'): Record<string, string> {
  const docs = readdirSync(path.join(repoRoot, 'deploy'))
    .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
    .flatMap((name) => parseAllDocuments(readFileSync(path.join(repoRoot, 'deploy', name), 'utf8')))
    .map((doc) => doc.toJS());
  const byName = (kind: string, name: string) =>
    docs.find((d) => d?.kind === kind && d.metadata?.name === name);
  const workload = byName(deployment === 'speckit-migrate' ? 'Job' : 'Deployment', deployment);
  const container = workload.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, byName('ConfigMap', source.configMapRef.name).data);
    if (source.secretRef) Object.assign(env, byName('Secret', source.secretRef.name).stringData);
  }
  for (const entry of container.env ?? []) env[entry.name] = entry.value;
  return env;
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited ${child.exitCode}:\n${output()}`);
    const response = await fetch(url).catch(() => null);
    if (response?.ok) return response;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** setpriv's arguments that make the rest of a command line run as the image's user. */
const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'];

/** Starts `node <args>` in the tree as `nobody`, with exactly `env` (plus PATH). */
function startAsNobody(args: string[], env: Record<string, string>) {
  const [setpriv = '', ...privArgs] = asNobody;
  const child = spawn(setpriv, [...privArgs, node, ...args], {
    cwd: app,
    env: { PATH: `${path.dirname(node)}:/usr/bin:/bin`, HOME: home, ...env },
    stdio: 'pipe',
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  children.push(child);
  return { child, output: () => text };
}

const run = promisify(execFile);

/**
 * Starts `node <args>` as `nobody` the way docker starts a container's command:
 * PID 1 of a PID namespace of its own (where the HEALTHCHECK looks for it),
 * with exactly `env`. Returns the host pid of that node process.
 */
async function startContainer(args: string[], env: Record<string, string>) {
  const child = spawn(
    'unshare',
    ['--pid', '--mount-proc', '--kill-child', '--', ...asNobody, node, ...args],
    { cwd: app, env, stdio: 'pipe' },
  );
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  children.push(child);
  const pid = await waitFor(async () => {
    const found = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
    return found ? Number(found.split(' ')[0]) : null;
  }, 10_000);
  return { child, pid, output: () => text };
}

/** The Dockerfile's HEALTHCHECK command, run as docker runs it: in the container (`pid`'s namespaces), as its user, with its environment. */
async function runHealthcheck(pid: number | null, env: Record<string, string>) {
  const { healthcheck } = readDockerfile();
  if (!healthcheck) throw new Error('the Dockerfile has no HEALTHCHECK');
  const enter =
    pid === null
      ? ['unshare', '--pid', '--mount-proc', '--fork', '--']
      : ['nsenter', `--target=${pid}`, '--pid', '--mount', `--wd=${app}`, '--'];
  const [program = '', ...args] = [...enter, ...asNobody, ...healthcheck];
  return run(program, args, { cwd: app, env, timeout: 15_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? -1,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
}

/**
 * A container's environment: the image's ENV under the service's, PATH and
 * HOME as docker sets them; ports the image or service fixes are moved to free
 * ones and the bind address to loopback (a shared test machine).
 */
async function containerEnv(service: Record<string, string>): Promise<Record<string, string>> {
  const image = readDockerfile().stages.find((stage) => stage.name === 'runtime')?.env ?? {};
  const env = mapContainerEnv({ ...image, ...service });
  for (const name of ['PORT', 'METRICS_PORT']) if (env[name]) env[name] = String(await freePort());
  return { ...env, HOST: '127.0.0.1', PATH: IMAGE_PATH, HOME: home };
}

let migration: Promise<string> | undefined;

/** The compose `migrate` service, run once for the whole file; resolves with its output. */
function migrateOnce(): Promise<string> {
  migration ??= (async () => {
    const run = startAsNobody(['src/db/migrate-cli.ts'], mapContainerEnv(composeEnv('migrate')));
    const [code] = await once(run.child, 'exit');
    if (code !== 0) throw new Error(`migrate exited ${code}:\n${run.output()}`);
    return run.output();
  })();
  return migration;
}

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  dir = await makeTempDir('speckit-image-');
  chmodSync(dir, 0o755);
  const { stages, text } = readDockerfile();
  const stage = (name: string) => {
    const found = stages.find((s) => s.name === name);
    if (!found) throw new Error(`Dockerfile has no stage ${name}`);
    return found;
  };

  // --- build stage: COPY list, `npm ci` (stand-in), client generation.
  const build = path.join(dir, 'build');
  mkdirSync(build);
  for (const copy of stage('build').copies) copyInto(build, copy.sources, copy.dest);
  expect(stage('build').runs.join(' ')).toMatch(/npm ci .*node scripts\/prisma-generate\.ts/);
  runBuildSteps(stage('build'), build);

  // --- prod-deps stage: production dependencies only.
  const prod = path.join(dir, 'prod-deps');
  mkdirSync(prod);
  for (const copy of stage('prod-deps').copies) copyInto(prod, copy.sources, copy.dest);
  expect(stage('prod-deps').runs.join(' ')).toMatch(/npm ci --omit=dev/);
  runBuildSteps(stage('prod-deps'), prod);

  // --- runtime stage.
  app = path.join(dir, 'app');
  mkdirSync(app);
  const stageDirs: Record<string, string> = { build, 'prod-deps': prod };
  for (const copy of stage('runtime').copies) {
    if (copy.from) {
      for (const source of copy.sources) {
        const from = stageDirs[copy.from];
        if (!from) throw new Error(`unknown stage ${copy.from}`);
        cpSync(path.join(from, source.replace(/^\/app\//, '')), path.join(app, copy.dest), {
          recursive: true,
        });
      }
    } else copyInto(app, copy.sources, copy.dest);
  }
  runFileSteps(stage('runtime'), /^USER (\S+)$/m.exec(text)?.[1] ?? 'root');
  // Named volumes the compose services mount (the Kubernetes volumes are
  // emptyDirs and claims made writable by the pod's fsGroup).
  for (const service of ['web', 'worker']) mountNamedVolumes(service);

  home = path.join(dir, 'home/speckit');
  mkdirSync(home, { recursive: true });
  execFileSync('chown', ['nobody:nogroup', home]);

  // The App's private key, as the compose secret / Kubernetes Secret volume provides it.
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  mkdirSync(path.join(dir, 'secrets'));
  keyFile = path.join(dir, 'secrets', 'github_app_key');
  writeFileSync(keyFile, privateKey, { mode: 0o400 });
  execFileSync('chown', ['nobody:nogroup', keyFile]);
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await database?.drop();
  await removeTempDirs();
});

describe('the container image, built from its recipe', () => {
  it('holds the app, its generated Prisma client and production dependencies only', () => {
    for (const file of ['src/main.ts', 'src/generated/prisma/client.ts', 'app.yml', 'prisma/schema.prisma'])
      expect(existsSync(path.join(app, file)), file).toBe(true);
    expect(existsSync(path.join(app, 'test'))).toBe(false);
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    for (const name of Object.keys(pkg.dependencies))
      expect(existsSync(path.join(app, 'node_modules', name)), name).toBe(true);
    // Development tools are gone. What production dependencies pull in themselves
    // stays (@types/*, and the Prisma CLI with TypeScript: peers of @prisma/client).
    const tools = ['vitest', 'nock', '@biomejs/biome', 'playwright-core', 'fast-check', 'node'];
    for (const name of tools) expect(Object.keys(pkg.devDependencies)).toContain(name);
    for (const name of tools) expect(existsSync(path.join(app, 'node_modules', name)), name).toBe(false);
    // git and the Codex CLI: the native binary ships in the production dependencies.
    expect(existsSync(path.join(app, 'node_modules/@openai/codex-linux-x64'))).toBe(true);
  });

  it('declares a non-root user, a HEALTHCHECK and one image for both roles', () => {
    const { text } = readDockerfile();
    expect(text).toMatch(/^FROM node:24-bookworm-slim AS runtime$/m);
    expect(text).toMatch(/apt-get install .*\bgit\b/);
    expect(text).toMatch(/^USER speckit$/m);
    expect(text).toMatch(/^HEALTHCHECK /m);
    expect(text).toMatch(/^CMD \["node", "src\/main\.ts"\]$/m);
  });

  it('every compose service and Kubernetes workload environment passes readConfig', () => {
    for (const env of [
      composeEnv('web'),
      composeEnv('worker'),
      composeEnv('migrate'),
      k8sEnv('speckit-web'),
      k8sEnv('speckit-worker'),
      k8sEnv('speckit-migrate'),
    ]) {
      const config = readConfig(mapContainerEnv(env), app);
      expect(config.databaseUrl).toBe(database.url);
    }
    const worker = readConfig(mapContainerEnv(k8sEnv('speckit-worker')), app);
    expect(worker.metricsPort).toBe(9464);
    expect(worker.github.appId).toBe('123456');
  });

  it('migrates, then starts web (compose) and a worker (Kubernetes) as a non-root user', async () => {
    expect(await migrateOnce()).toMatch(/applied migration/);

    const webPort = await freePort();
    const web = startAsNobody(['src/main.ts'], {
      ...mapContainerEnv(composeEnv('web')),
      PORT: String(webPort),
      HOST: '127.0.0.1',
    });
    await waitForHttp(`http://127.0.0.1:${webPort}/healthz`, web.child, web.output);
    const ready = await waitForHttp(`http://127.0.0.1:${webPort}/readyz`, web.child, web.output);
    expect(await ready.json()).toEqual({ status: 'ready' });
    const unsigned = await fetch(`http://127.0.0.1:${webPort}/api/github/webhooks`, {
      method: 'POST',
      body: '{}',
    });
    expect(unsigned.status).toBeGreaterThanOrEqual(400); // the App is configured: Probot checks the signature

    const metricsPort = await freePort();
    const worker = startAsNobody(['src/main.ts', '--worker'], {
      ...mapContainerEnv(k8sEnv('speckit-worker')),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
    });
    await waitForHttp(`http://127.0.0.1:${metricsPort}/readyz`, worker.child, worker.output);
    const metrics = await waitForHttp(`http://127.0.0.1:${metricsPort}/metrics`, worker.child, worker.output);
    expect(await metrics.text()).toContain('speckit_step_duration_seconds');

    for (const { child, output } of [web, worker]) {
      child.kill('SIGTERM');
      const [exitCode] = await once(child, 'exit');
      expect(exitCode, output()).toBe(0);
    }
  }, 180_000);

  it('HEALTHCHECK passes in a web container and in a worker-only container without METRICS_PORT', async () => {
    await migrateOnce();
    // `docker run <image> node src/main.ts --worker` with the worker's variables but no METRICS_PORT.
    const { METRICS_PORT: _unset, ...workerVariables } = composeEnv('worker');
    const roles = [
      { name: 'web', args: ['src/main.ts'], env: await containerEnv(composeEnv('web')) },
      { name: 'worker', args: ['src/main.ts', '--worker'], env: await containerEnv(workerVariables) },
    ];
    const worker = roles[1]?.env as Record<string, string>;
    expect(worker.METRICS_PORT, 'the image gives worker-only containers a METRICS_PORT').toBeDefined();
    for (const role of roles) {
      const container = await startContainer(role.args, role.env);
      const port = role.name === 'web' ? role.env.PORT : role.env.METRICS_PORT;
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, container.child, container.output);
      const check = await runHealthcheck(container.pid, role.env);
      console.log(`${role.name}: HEALTHCHECK exit ${check.code} ${check.output.trim()}`);
      expect(check, container.output()).toEqual({ code: 0, output: '' });
      process.kill(container.pid, 'SIGTERM');
      const [exitCode] = await once(container.child, 'exit');
      expect(exitCode, container.output()).toBe(0);
    }
    // A container whose app is not running is unhealthy, and says why.
    const empty = await runHealthcheck(null, worker);
    console.log(`no app: HEALTHCHECK exit ${empty.code} ${empty.output.trim()}`);
    expect(empty.code).toBe(1);
    expect(empty.output).toContain('no speckit process');
  }, 120_000);

  it('completes a run in the tree: a signed issue_comment to a PR, web and worker as compose starts them', async () => {
    const began = performance.now();
    const elapsed = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;
    const steps: string[] = [];
    const note = (line: string) => steps.push(`  ${elapsed().padStart(7)}  ${line}`);

    // The world outside the containers: GitHub (Enterprise Server API on 127.0.0.1),
    // its git smart-HTTP endpoint (the installation token required), the model.
    const codexSeen = new Set<string>();
    const model = await startFakeModelServer(({ body }) => {
      // Codex is running while it asks: note which binary and user it is.
      for (const { pid } of findProcesses('exec', '--json', path.join(app, 'var'))) {
        const exe = readlinkSync(`/proc/${pid}/exe`);
        const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        if (exe.endsWith('/codex')) codexSeen.add(`${exe} as uid ${uid}`);
      }
      return isToolFollowUp(body) ? finalMessage('Implemented Phase 1.') : applyPatchCall(PHASE_1_PATCH);
    });
    cleanups.push(() => model.close());
    const repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
    const gitServer = await startGitHttpServer({
      projectRoot: path.dirname(repo.bareDir),
      token: INSTALLATION_TOKEN,
    });
    cleanups.push(() => gitServer.close());
    const github = await startFakeGitHubServer({
      owner: 'Codertocat',
      name: 'Hello-World',
      installationId: INSTALLATION_ID,
      roles: { Codertocat: 'write' },
      branchSha: (branch) => repo.readBranch(branch),
      ...repoFileReaders(repo),
    });
    cleanups.push(() => github.close());
    // The operator's Codex configuration in the codex-home volume: a provider
    // reading OPENAI_API_KEY, the variable compose passes through.
    const codexHome = inTree(composeEnv('worker').CODEX_HOME ?? '');
    await writeCodexHome(codexHome, model.url);
    const codexConfig = path.join(codexHome, 'config.toml');
    writeFileSync(
      codexConfig,
      readFileSync(codexConfig, 'utf8').replace(
        `env_key = "${FAKE_API_KEY_ENV}"`,
        'env_key = "OPENAI_API_KEY"',
      ),
    );
    note(`fake GitHub ${github.host}, git ${gitServer.url}, model ${model.url}`);

    // What the operator's shell (or .env) gives compose, and the only variables
    // set besides compose's: ports and loopback binding for a shared test machine,
    // and GHE_PROTOCOL because the fake GitHub speaks plain HTTP.
    const shell = { GHE_HOST: github.host, OPENAI_API_KEY: 'fake-key' };
    const [webPort, metricsPort] = [await freePort(), await freePort()];
    const extra = { HOST: '127.0.0.1', GHE_PROTOCOL: 'http' };
    expect(await migrateOnce()).toMatch(/migrations:/);
    note(
      `migrate service done; web and worker get compose's environment with ${Object.keys(shell).join(', ')} ` +
        `from the shell, plus ${Object.keys(extra).join(', ')}, PORT / METRICS_PORT`,
    );
    const web = startAsNobody(['src/main.ts'], {
      ...mapContainerEnv(composeEnv('web', shell)),
      ...extra,
      PORT: String(webPort),
    });
    const worker = startAsNobody(['src/main.ts', '--worker'], {
      ...mapContainerEnv(composeEnv('worker', shell)),
      ...extra,
      METRICS_PORT: String(metricsPort),
    });
    await waitForHttp(`http://127.0.0.1:${webPort}/readyz`, web.child, web.output);
    await waitForHttp(`http://127.0.0.1:${metricsPort}/readyz`, worker.child, worker.output);
    note(`web (node src/main.ts, :${webPort}) and worker (node src/main.ts --worker) ready, as nobody`);

    const prisma = createPrismaClient(database.url, { max: 2 });
    cleanups.push(() => prisma.$disconnect());
    const masterBefore = await repo.readBranch('master');
    const cloneUrl = `${gitServer.url}/${path.basename(repo.bareDir)}`;
    const delivery = await deliverWebhook(`http://127.0.0.1:${webPort}/api/github/webhooks`, {
      secret: SECRETS.WEBHOOK_SECRET,
      event: 'issue_comment',
      payload: commentPayload({ body: '/speckit run 001-demo', cloneUrl, installationId: INSTALLATION_ID }),
    });
    expect(delivery.status, web.output()).toBeLessThan(300);
    note(`signed issue_comment "/speckit run 001-demo" delivered: HTTP ${delivery.status}`);

    const run = await waitFor(async () => {
      const found = await prisma.specWorkflowRun.findFirst({ where: { featureKey: '001-demo' } });
      return found && ['succeeded', 'failed', 'cancelled'].includes(found.status) ? found : null;
    }, 90_000).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n--- web ---\n${web.output()}\n--- worker ---\n${worker.output()}`,
      );
    });
    expect(run, `${run.errorStep}: ${run.errorMessage}\n${web.output()}\n${worker.output()}`).toMatchObject({
      status: 'succeeded',
      conclusion: 'success',
      branchName: 'speckit/001-demo',
    });
    note(`run ${run.id}: ${run.status}, PR #${run.prNumber}`);
    // Which process ran which step (pg-boss hands each job to whichever is free).
    const ran = (output: string) =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg?: string; step?: string; runId?: string })
        .filter((entry) => entry.msg === 'step started' && entry.runId === run.id)
        .map((entry) => entry.step);
    note(
      `steps run by web: ${ran(web.output()).join(', ') || '-'}; by worker: ${ran(worker.output()).join(', ') || '-'}`,
    );
    expect([...ran(web.output()), ...ran(worker.output())].sort()).toEqual(
      ['apply', 'codex', 'discover', 'finalize', 'intake', 'publish'].sort(),
    );

    // One commit with the run's trailer on speckit/001-demo, on top of master.
    const log = await repo.log('speckit/001-demo');
    expect(log[1]?.sha).toBe(masterBefore);
    expect(log.filter((commit) => commit.body.includes(`Speckit-Run: ${run.id}`))).toHaveLength(1);
    expect(log[0]?.sha).toBe(run.headSha);
    expect((await repo.readTree('speckit/001-demo'))['src/hello.txt']).toContain('Hello, Spec Kit!');
    // Git went over smart HTTP with the installation token, Codex was the tree's binary as the image user.
    expect(gitServer.authorizations.length).toBeGreaterThan(0);
    const nobody = execFileSync('id', ['-u', 'nobody']).toString().trim();
    expect([...codexSeen]).toEqual([
      `${path.join(app, 'node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex')} as uid ${nobody}`,
    ]);
    // One PR create request; every check run of the run completed with success.
    const prCreates = github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'));
    expect(prCreates).toHaveLength(1);
    expect(prCreates[0]?.body).toMatchObject({ head: 'speckit/001-demo', base: 'master' });
    const checkRuns = [...github.checkRuns.values()];
    expect(checkRuns.length).toBeGreaterThan(0);
    for (const checkRun of checkRuns)
      expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success', external_id: run.id });
    expect(github.unmatched).toEqual([]);
    note(
      `commit ${log[0]?.sha.slice(0, 12)} "${log[0]?.subject}" with Speckit-Run trailer; ` +
        `${prCreates.length} PR create; check runs ${checkRuns.map((c) => `${c.status}/${c.conclusion}`).join(', ')}; ` +
        `${gitServer.authorizations.length} git HTTP requests`,
    );
    note(`codex: ${[...codexSeen].join('; ')}`);

    for (const { child, output } of [web, worker]) {
      child.kill('SIGTERM');
      const [exitCode] = await once(child, 'exit');
      expect(exitCode, output()).toBe(0);
    }
    note('web and worker stopped on SIGTERM with exit code 0');
    console.log(`full run from the image tree ${app}:\n${steps.join('\n')}`);
  }, 150_000);
});
