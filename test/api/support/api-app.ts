// Starts the web side of the app (no GitHub App, no workers) against a fresh
// database, with the API token set and the run-commands double behind the API.
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { readConfig } from '../../../src/config.ts';
import { createPrismaClient, type PrismaClient } from '../../../src/db/prisma.ts';
import type { Prisma } from '../../../src/generated/prisma/client.ts';
import { type RunningApp, startSpeckit } from '../../../src/speckit-app.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { createRunCommandsDouble, type RunCommandsDouble } from './run-commands-double.ts';

export const API_TOKEN = 'test-api-token-0123456789abcdef';
export const API = '/api/workflows/speckit';
export const INSTALLATIONS = { 'octo-org/hello-world': 4242, 'octo-org/second': 4343 };

export interface ApiApp {
  app: RunningApp;
  url: string;
  prisma: PrismaClient;
  database: TestDatabase;
  artifactsDir: string;
  root: string;
  commands: () => RunCommandsDouble;
  /** fetch against the app, with the bearer token unless `auth: false` or other headers are given. */
  request(
    method: string,
    pathAndQuery: string,
    options?: { body?: unknown; auth?: boolean; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: any; contentType: string | null }>;
  stop(): Promise<void>;
}

export async function startApiApp(
  options: {
    token?: string | null;
    /** `double` (default): the test double behind the API; `real`: the chain's run commands (no GitHub App). */
    commands?: 'double' | 'real';
  } = {},
): Promise<ApiApp> {
  const database = await createTestDatabase();
  const root = path.join(os.tmpdir(), `speckit-api-${randomUUID()}`);
  const artifactsDir = path.join(root, 'artifacts');
  await mkdir(artifactsDir, { recursive: true });
  const token = options.token === undefined ? API_TOKEN : options.token;
  const config = readConfig(
    {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      PORT: '0',
      DATABASE_URL: database.url,
      ARTIFACTS_DIR: artifactsDir,
      WORK_DIR: path.join(root, 'work'),
      SPECKIT_SUPERVISE_SECONDS: '5',
      ...(token ? { SPECKIT_API_TOKEN: token } : {}),
    },
    root,
  );
  let double: RunCommandsDouble | null = null;
  const app = await startSpeckit(config, {
    web: true,
    workers: false,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.commands === 'real'
      ? {}
      : {
          runCommands: ({ prisma }: { prisma: PrismaClient }) => {
            double = createRunCommandsDouble(prisma, { installations: INSTALLATIONS });
            return double;
          },
        }),
  });
  const prisma = createPrismaClient(database.url, { max: 3 });
  const url = app.url ?? '';
  return {
    app,
    url,
    prisma,
    database,
    artifactsDir,
    root,
    commands: () => {
      if (!double) throw new Error('run commands were not created');
      return double;
    },
    async request(method, pathAndQuery, requestOptions = {}) {
      const headers: Record<string, string> = { ...requestOptions.headers };
      if (requestOptions.auth !== false && !headers.authorization && !headers.cookie)
        headers.authorization = `Bearer ${token ?? 'none'}`;
      let body: string | undefined;
      if (requestOptions.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body =
          typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body);
      }
      const response = await fetch(`${url}${pathAndQuery}`, { method, headers, body });
      const contentType = response.headers.get('content-type');
      const text = await response.text();
      const parsed = contentType?.startsWith('application/json') && text ? JSON.parse(text) : text;
      return { status: response.status, headers: response.headers, body: parsed, contentType };
    },
    async stop() {
      await app.stop();
      await prisma.$disconnect();
      await database.drop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** Inserts a run row as the chain would have left it. */
export async function insertRun(
  prisma: PrismaClient,
  data: Partial<Prisma.SpecWorkflowRunUncheckedCreateInput> = {},
): Promise<string> {
  counter += 1;
  const id = data.id ?? randomUUID();
  const repository = data.repository ?? 'octo-org/hello-world';
  const featureKey = data.featureKey ?? `00${counter}-feature`;
  await prisma.specWorkflowRun.create({
    data: {
      id,
      repository,
      installationId: 4242n,
      featureKey,
      triggerKind: 'comment',
      triggerActor: 'octocat',
      cloneUrl: `https://github.com/${repository}.git`,
      defaultBranch: 'main',
      branchName: `speckit/${featureKey}`,
      createdBy: 'octocat',
      ...data,
    },
  });
  return id;
}
