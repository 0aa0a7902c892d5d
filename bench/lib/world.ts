// One benchmark "world": a throwaway PostgreSQL database, a ~1 MB bare
// repository with one feature per run, a fake GitHub (GHE_HOST over http on
// 127.0.0.1), a Codex (the stub script, or the real CLI against the fake model
// server), and the app as child processes: one web-only process and N worker
// processes (`src/main.ts --worker`). Everything is removed by close().
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runIdForTrigger } from '../../src/chain/chain.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { FAKE_API_KEY_ENV, FAKE_MODEL, writeCodexHome } from '../../test/support/fake-model-server.ts';
import { makeTempDir, removeTempDirs } from '../../test/support/git-fixtures.ts';
import { commentPayload, sign } from '../../test/support/webhooks.ts';
import { startTimedFakeGitHub, type TimedFakeGitHub } from './fake-github.ts';
import { type AppProcess, startProcess } from './processes.ts';
import { type BenchRepo, createBenchRepo, DEFAULT_BRANCH, featureKey } from './repo.ts';
import { isSettled, listenRunEvents, type RunEventLog, type SeenEvent } from './run-events.ts';
import { now } from './stats.ts';

export const STUB_CODEX = fileURLToPath(new URL('./stub-codex.sh', import.meta.url));
export const WEBHOOK_SECRET = 'bench-webhook-secret';
export const API_TOKEN = 'bench-api-token-0123456789abcdef';
/** The first installation; a world with several has 77, 78, … (one repository each). */
export const INSTALLATION_ID = 77;
const OWNER = 'Codertocat';
const APP_ID = '123456';

let privateKey: string | null = null;
function appPrivateKey(): string {
  privateKey ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  return privateKey;
}

export interface WorldOptions {
  /** How many features (= runs that can be started) the repository holds. */
  features: number;
  /** `stub` (default): bench/lib/stub-codex.sh; `real`: the Codex CLI against `modelUrl`. */
  codex?: 'stub' | 'real';
  modelUrl?: string;
  /** How long the stub Codex "thinks", in seconds. */
  stubCodexSeconds?: number;
  /** More environment for the app processes (e.g. SPECKIT_CONCURRENCY). */
  env?: Record<string, string>;
  /**
   * GitHub installations (default 1), each with a repository of its own
   * (`Codertocat/Hello-World`, `Codertocat-2/Hello-World`, …) on the same bare
   * git repository; run N goes to installation N mod count. GitHub paces
   * writes per installation, so this is how a benchmark sees the app's own
   * capacity rather than one installation's write allowance.
   */
  installations?: number;
}

/** Installation `index` (0-based) and its repository owner. */
export function installationOf(index: number): { installationId: number; owner: string } {
  return { installationId: INSTALLATION_ID + index, owner: index === 0 ? OWNER : `${OWNER}-${index + 1}` };
}

export interface Delivery {
  deliveryId: string;
  runId: string;
  feature: string;
  sentAt: number;
  ackAt: number;
  status: number;
}

export interface World {
  database: TestDatabase;
  repo: BenchRepo;
  github: TimedFakeGitHub;
  events: RunEventLog;
  env: Record<string, string>;
  root: string;
  web: AppProcess | null;
  workers: AppProcess[];
  startWeb(): Promise<AppProcess>;
  startWorker(extraEnv?: Record<string, string>, nodeOptions?: string): Promise<AppProcess>;
  stopWorkers(): Promise<void>;
  /** Delivers a signed `/speckit run <feature>` comment to the web process. */
  deliver(feature: string): Promise<Delivery>;
  /** Resolves with the event that settled the run. */
  settled(runId: string, timeoutMs: number): Promise<SeenEvent>;
  close(): Promise<void>;
}

export function webhookRequest(options: { feature: string; cloneUrl: string; installation?: number }): {
  body: string;
  headers: (deliveryId: string) => Record<string, string>;
} {
  const { installationId, owner } = installationOf(options.installation ?? 0);
  const payload = commentPayload({
    body: `/speckit run ${options.feature}`,
    cloneUrl: options.cloneUrl,
    installationId,
    sender: { login: 'Codertocat' },
  });
  payload.repository.default_branch = DEFAULT_BRANCH;
  payload.repository.owner.login = owner;
  payload.repository.full_name = `${owner}/${payload.repository.name}`;
  const body = JSON.stringify(payload);
  const signature = sign(WEBHOOK_SECRET, body);
  return {
    body,
    headers: (deliveryId) => ({
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/bench',
      'x-github-event': 'issue_comment',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signature,
    }),
  };
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const database = await createTestDatabase();
  const root = await makeTempDir('speckit-bench-');
  const repo = await createBenchRepo({ features: options.features });
  const installations = options.installations ?? 1;
  const github = await startTimedFakeGitHub(
    Array.from({ length: installations }, (_, index) => ({
      ...installationOf(index),
      name: 'Hello-World',
      roles: { Codertocat: 'write' },
      branchSha: (branch: string) => repo.readBranch(branch),
    })),
  );
  let delivered = 0;
  const events = await listenRunEvents(database.url);
  let codexEnv: Record<string, string>;
  if (options.codex === 'real') {
    if (!options.modelUrl) throw new Error('the real Codex needs the fake model server URL');
    const home = await writeCodexHome(path.join(root, 'codex-home'), options.modelUrl);
    codexEnv = {
      CODEX_HOME: home,
      CODEX_MODEL: FAKE_MODEL,
      CODEX_ENV_PASSTHROUGH: FAKE_API_KEY_ENV,
      [FAKE_API_KEY_ENV]: 'fake-key',
    };
  } else {
    const home = path.join(root, 'codex-home');
    await mkdir(home, { recursive: true });
    codexEnv = {
      CODEX_HOME: home,
      CODEX_BIN: STUB_CODEX,
      ...(options.stubCodexSeconds
        ? {
            CODEX_ENV_PASSTHROUGH: 'STUB_CODEX_SECONDS',
            STUB_CODEX_SECONDS: String(options.stubCodexSeconds),
          }
        : {}),
    };
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: database.url,
    APP_ID,
    PRIVATE_KEY: appPrivateKey(),
    WEBHOOK_SECRET,
    SPECKIT_API_TOKEN: API_TOKEN,
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
    WORK_DIR: path.join(root, 'workspaces'),
    MIRROR_DIR: path.join(root, 'mirrors'),
    ARTIFACTS_DIR: path.join(root, 'artifacts'),
    LOG_LEVEL: 'info',
    CODEX_TIMEOUT_SECONDS: '300',
    CODEX_IDLE_TIMEOUT_SECONDS: '120',
    // The database is migrated once, by the web process (workers start after it).
    SPECKIT_MIGRATE: 'true',
    ...codexEnv,
    ...options.env,
  };
  const world: World = {
    database,
    repo,
    github,
    events,
    env,
    root,
    web: null,
    workers: [],
    async startWeb() {
      world.web = await startProcess('web', env);
      return world.web;
    },
    async startWorker(extraEnv = {}, nodeOptions) {
      const worker = await startProcess(
        'worker',
        { ...env, ...extraEnv },
        nodeOptions ? { nodeOptions } : {},
      );
      world.workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(world.workers.splice(0).map((w) => w.stop()));
    },
    async deliver(feature) {
      if (!world.web?.url) throw new Error('start the web process first');
      const request = webhookRequest({
        feature,
        cloneUrl: repo.url,
        installation: delivered++ % installations,
      });
      const deliveryId = randomUUID();
      const sentAt = now();
      const response = await fetch(`${world.web.url}/api/github/webhooks`, {
        method: 'POST',
        headers: request.headers(deliveryId),
        body: request.body,
      });
      await response.arrayBuffer();
      const ackAt = now();
      return {
        deliveryId,
        runId: runIdForTrigger(deliveryId),
        feature,
        sentAt,
        ackAt,
        status: response.status,
      };
    },
    settled(runId, timeoutMs) {
      return events.waitFor((e) => e.event.runId === runId && isSettled(e), timeoutMs);
    },
    async close() {
      await world.stopWorkers();
      await world.web?.stop();
      await events.close();
      await github.close();
      await database.drop();
      await removeTempDirs();
    },
  };
  return world;
}

export { featureKey };
