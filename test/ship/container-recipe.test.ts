// The container image, proven without a Docker engine: the Dockerfile's
// stages are executed as a file-tree recipe in a temporary directory (the
// same COPY lists; Prisma client generation in the build stage; production
// dependencies only in the runtime stage), then both roles start from that
// tree as a non-root user with only the variables docker-compose.yml and the
// Kubernetes manifests define — each of which must pass readConfig.
//
// Stand-ins, because nothing is pulled here: `npm ci` is a hard-linked copy of
// this checkout's node_modules (installed from the same package-lock.json), and
// `npm ci --omit=dev` is that copy pruned with `npm prune --omit=dev`. Mounted
// secrets and volumes (/run/secrets/…, /app/var/…) map to files in the tree,
// the `postgres` host to the test server.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { readConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeTempDir, removeTempDirs } from '../support/git-fixtures.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const node = process.execPath;
/** npm itself: next to this Node, else the machine's (the `node` npm package ships no npm). */
const NPM_CLI = [
  path.join(path.dirname(node), '../lib/node_modules/npm/bin/npm-cli.js'),
  '/usr/lib/node_modules/npm/bin/npm-cli.js',
].find((file) => existsSync(file)) as string;

interface Stage {
  name: string;
  copies: { from: string | null; sources: string[]; dest: string }[];
  runs: string[];
}

/** The Dockerfile's stages with their COPY and RUN instructions (continuations joined). */
function readDockerfile(): { stages: Stage[]; text: string } {
  const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[1] ?? `stage${stages.length}`, copies: [], runs: [] });
    const stage = stages.at(-1);
    const copy = /^COPY\s+(?:--from=(\S+)\s+)?(.+)$/i.exec(line);
    if (stage && copy?.[2]) {
      const parts = copy[2].trim().split(/\s+/);
      stage.copies.push({ from: copy[1] ?? null, sources: parts.slice(0, -1), dest: parts.at(-1) ?? '.' });
    }
    const run = /^RUN\s+(.+)$/i.exec(line);
    if (stage && run?.[1]) stage.runs.push(run[1]);
  }
  return { stages, text };
}

function copyInto(dir: string, sources: string[], dest: string, from = repoRoot): void {
  for (const source of sources) {
    const target =
      dest.endsWith('/') || dest === '.' || dest === './'
        ? path.join(dir, dest, path.basename(source))
        : path.join(dir, dest);
    cpSync(path.join(from, source), target, { recursive: true });
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
const children: ChildProcess[] = [];
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

function composeEnv(service: string): Record<string, string> {
  const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true });
  const environment = compose.services[service].environment as Record<string, unknown>;
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(v, SECRETS)]));
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

/** Starts `node <args>` in the tree as `nobody`, with exactly `env` (plus PATH). */
function startAsNobody(args: string[], env: Record<string, string>) {
  const child = spawn(
    'setpriv',
    ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', node, ...args],
    {
      cwd: app,
      env: { PATH: `${path.dirname(node)}:/usr/bin:/bin`, HOME: `${app}/var`, ...env },
      stdio: 'pipe',
    },
  );
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

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  dir = await makeTempDir('speckit-image-');
  chmodSync(dir, 0o755);
  const { stages } = readDockerfile();
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
  execFileSync('cp', ['-al', path.join(repoRoot, 'node_modules'), path.join(build, 'node_modules')]);
  execFileSync(node, ['scripts/prisma-generate.ts'], {
    cwd: build,
    env: {
      ...process.env,
      PATH: `${path.join(build, 'node_modules/.bin')}:${path.dirname(node)}:/usr/bin:/bin`,
    },
    stdio: 'pipe',
  });

  // --- prod-deps stage: production dependencies only.
  const prod = path.join(dir, 'prod-deps');
  mkdirSync(prod);
  for (const copy of stage('prod-deps').copies) copyInto(prod, copy.sources, copy.dest);
  expect(stage('prod-deps').runs.join(' ')).toMatch(/npm ci --omit=dev/);
  execFileSync('cp', ['-al', path.join(repoRoot, 'node_modules'), path.join(prod, 'node_modules')]);
  execFileSync(
    node,
    [NPM_CLI, 'prune', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'],
    {
      cwd: prod,
      env: { ...process.env, PATH: `${path.dirname(node)}:/usr/bin:/bin` },
      stdio: 'pipe',
    },
  );

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
  mkdirSync(path.join(app, 'var/workspaces'), { recursive: true });
  mkdirSync(path.join(app, 'var/artifacts'), { recursive: true });
  mkdirSync(path.join(app, 'var/codex-home'), { recursive: true });
  execFileSync('chown', ['-R', 'nobody:nogroup', path.join(app, 'var')]);

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

  it('declares a non-root user, a HEALTHCHECK on /healthz and one image for both roles', () => {
    const { text } = readDockerfile();
    expect(text).toMatch(/^FROM node:24-bookworm-slim AS runtime$/m);
    expect(text).toMatch(/apt-get install .*\bgit\b/);
    expect(text).toMatch(/^USER speckit$/m);
    expect(text).toMatch(/^HEALTHCHECK [^\n]*\\\n[^\n]*\/healthz/m);
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
    const migrateRun = startAsNobody(['src/db/migrate-cli.ts'], mapContainerEnv(composeEnv('migrate')));
    const [code] = await once(migrateRun.child, 'exit');
    expect(code, migrateRun.output()).toBe(0);
    expect(migrateRun.output()).toMatch(/applied migration/);

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
});
