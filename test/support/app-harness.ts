// Starts the whole app in the test process (so nock answers its GitHub calls)
// against a fresh database, a local bare repository and the real Codex CLI
// pointed at a fake model server.
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import nock from 'nock';
import { pino } from 'pino';
import { ProbotOctokit } from 'probot';
import { readConfig } from '../../src/config.ts';
import { createPrismaClient, type PrismaClient } from '../../src/db/prisma.ts';
import { REDACTION } from '../../src/logger.ts';
import { type RunningApp, startSpeckit } from '../../src/speckit-app.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { FAKE_API_KEY_ENV, FAKE_MODEL, writeCodexHome } from './fake-model-server.ts';
import { makeTempDir } from './git-fixtures.ts';

export const WEBHOOK_SECRET = 'e2e-webhook-secret';
export const APP_ID = '123456';

export interface Harness {
  app: RunningApp;
  /** The environment the app was configured from; worker child processes get the same. */
  env: Record<string, string>;
  prisma: PrismaClient;
  database: TestDatabase;
  root: string;
  webhookUrl: string;
  stop(): Promise<void>;
}

export const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

/** Octokit as in production, its retry plugin on (5xx retried in the request with backoff); throttle off. */
export const RetryingTestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  throttle: { enabled: false },
}));

export async function startHarness(options: {
  modelUrl: string;
  env?: Record<string, string>;
  /** Run workers in this process (default) or leave them to child processes. */
  workers?: boolean;
  /** host:port of a fake GitHub Enterprise Server; default: api.github.com answered by nock. */
  githubHost?: string;
  /** Collects every log line (at debug level, redacted as the app's logger does) instead of discarding them. */
  logLines?: string[];
  /** A migrated database to use instead of a fresh one on the shared server (not dropped at stop). */
  databaseUrl?: string;
  /** The fresh database belongs to a role of its own with a password in DATABASE_URL (`database.password`). */
  databasePassword?: boolean;
  /** Octokit's retry plugin on, as in production (default off: failures reach the app at once). */
  githubRetry?: boolean;
}): Promise<Harness> {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost'));
  const database: TestDatabase = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => {} }
    : await createTestDatabase({ password: options.databasePassword ?? false });
  const root = await makeTempDir('speckit-e2e-');
  const codexHome = await writeCodexHome(path.join(root, 'codex-home'), options.modelUrl);
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    PORT: '0',
    DATABASE_URL: database.url,
    APP_ID,
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    CODEX_HOME: codexHome,
    CODEX_MODEL: FAKE_MODEL,
    CODEX_ENV_PASSTHROUGH: FAKE_API_KEY_ENV,
    [FAKE_API_KEY_ENV]: 'fake-key',
    CODEX_TIMEOUT_SECONDS: '120',
    CODEX_IDLE_TIMEOUT_SECONDS: '60',
    WORK_DIR: path.join(root, 'workspaces'),
    MIRROR_DIR: path.join(root, 'mirrors'),
    ARTIFACTS_DIR: path.join(root, 'artifacts'),
    LOG_LEVEL: 'info',
    SPECKIT_HEARTBEAT_SECONDS: '10',
    SPECKIT_SUPERVISE_SECONDS: '1',
    ...(options.githubHost ? { GHE_HOST: options.githubHost, GHE_PROTOCOL: 'http' } : {}),
    ...options.env,
  };
  const config = readConfig(env, root);
  const app = await startSpeckit(config, {
    web: true,
    workers: options.workers ?? true,
    log: options.logLines
      ? pino(
          { level: 'debug', redact: REDACTION },
          { write: (line: string) => void options.logLines?.push(line) },
        )
      : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent', redact: REDACTION }),
    Octokit: options.githubRetry ? RetryingTestOctokit : TestOctokit,
  });
  const prisma = createPrismaClient(database.url, { max: 2 });
  return {
    app,
    env,
    prisma,
    database,
    root,
    webhookUrl: `${app.url}/api/github/webhooks`,
    async stop() {
      await app.stop();
      await prisma.$disconnect();
      await database.drop();
      nock.cleanAll();
      nock.enableNetConnect();
    },
  };
}

/** Polls until `check` returns a value (not undefined/null/false) or the time runs out. */
export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
