// A Probot app driven with `probot.receive()` on real example payloads, a
// fresh database, a real pg-boss and the fake GitHub — without the chain's
// workers: each test runs the intake's admission itself and looks at what
// it stored and said.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import nock from 'nock';
import type { PgBoss } from 'pg-boss';
import { type Logger, pino } from 'pino';
import { Probot } from 'probot';
import { createAppFunction } from '../../src/app.ts';
import { admitTrigger } from '../../src/chain/admit-trigger.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { createGitHubAuth } from '../../src/github/github-app.ts';
import type { GitHubAuth } from '../../src/github/octokit.ts';
import { TestOctokit } from '../support/app-harness.ts';
import { startTestBoss } from '../support/chain-fixtures.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';
import { type FakeGitHubRepo, mockGitHub } from '../support/github-api.ts';
import { examplePayload } from '../support/webhooks.ts';

export const OWNER = 'Codertocat';
export const NAME = 'Hello-World';
export const FULL_NAME = `${OWNER}/${NAME}`;
export const CLONE_URL = `https://github.com/${FULL_NAME}.git`;
export const ROLES: Record<string, string> = {
  Codertocat: 'admin',
  maintainer: 'maintain',
  writer: 'write',
  triager: 'triage',
  reader: 'read',
};

export interface ControlHarness {
  probot: Probot;
  prisma: PrismaClient;
  boss: PgBoss;
  github: ReturnType<typeof mockGitHub>;
  auth: GitHubAuth;
  database: TestDatabase;
  log: Logger;
  /** Delivers an event through probot.receive(); returns its delivery id. */
  receive(name: string, payload: Record<string, any>): Promise<string>;
  /** Runs the intake's admission for a delivery (what the intake job does first). */
  admit(deliveryId: string): Promise<string | null>;
  stop(): Promise<void>;
}

export async function startControlHarness(
  repo: Partial<FakeGitHubRepo> & { installationId: number },
): Promise<ControlHarness> {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost'));
  const { prisma, database } = await createTestPrisma();
  const boss = await startTestBoss(database.url);
  const github = mockGitHub({
    owner: OWNER,
    name: NAME,
    roles: ROLES,
    branchSha: async (branch) => (branch === 'master' ? 'a'.repeat(40) : null),
    ...repo,
  });
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const probot = new Probot({ appId: 123456, privateKey, Octokit: TestOctokit, log });
  await probot.load(createAppFunction({ prisma, boss }));
  const auth = createGitHubAuth(probot);
  return {
    probot,
    prisma,
    boss,
    github,
    auth,
    database,
    log,
    async receive(name, payload) {
      const id = randomUUID();
      await probot.receive({ id, name, payload } as never);
      return id;
    },
    admit: (deliveryId) =>
      admitTrigger({ prisma, github: auth, log, boss, publicUrl: 'https://speckit.example.com' }, deliveryId),
    async stop() {
      await boss.stop({ graceful: false, close: true });
      await prisma.$disconnect();
      await database.drop();
      github.done();
      nock.cleanAll();
      nock.enableNetConnect();
    },
  };
}

function withRepository(payload: Record<string, any>, installationId: number): Record<string, any> {
  payload.repository.owner.login = OWNER;
  payload.repository.name = NAME;
  payload.repository.full_name = FULL_NAME;
  payload.repository.clone_url = CLONE_URL;
  payload.repository.html_url = `https://github.com/${FULL_NAME}`;
  payload.repository.default_branch = 'master';
  payload.installation = { id: installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' };
  return payload;
}

export function commentEvent(
  body: string,
  options: {
    installationId: number;
    sender?: string;
    senderType?: 'User' | 'Bot';
    pullRequest?: boolean;
    issue?: number;
  },
): Record<string, any> {
  const payload = withRepository(examplePayload('issue_comment', 'created'), options.installationId);
  payload.comment.body = body;
  const sender = options.sender ?? 'Codertocat';
  payload.sender.login = sender;
  payload.sender.type = options.senderType ?? 'User';
  payload.comment.user.login = sender;
  payload.comment.user.type = options.senderType ?? 'User';
  if (options.issue !== undefined) payload.issue.number = options.issue;
  if (options.pullRequest)
    payload.issue.pull_request = { url: 'https://api.github.com/x', html_url: 'https://github.com/x' };
  else delete payload.issue.pull_request;
  return payload;
}

export function labeledEvent(options: {
  installationId: number;
  label?: string;
  headRef: string;
  fork?: boolean;
  sender?: string;
  senderType?: 'User' | 'Bot';
  number?: number;
}): Record<string, any> {
  const payload = withRepository(examplePayload('pull_request', 'labeled'), options.installationId);
  payload.label = { ...payload.label, name: options.label ?? 'speckit:run' };
  payload.pull_request.state = 'open';
  payload.pull_request.number = options.number ?? 7;
  payload.number = options.number ?? 7;
  payload.pull_request.head.ref = options.headRef;
  payload.pull_request.head.sha = 'b'.repeat(40);
  payload.pull_request.head.repo = {
    ...payload.pull_request.head.repo,
    full_name: options.fork ? `someone/${NAME}` : FULL_NAME,
  };
  payload.sender.login = options.sender ?? 'Codertocat';
  payload.sender.type = options.senderType ?? 'User';
  return payload;
}

export function checkRunEvent(
  action: 'rerequested' | 'requested_action',
  options: {
    installationId: number;
    externalId: string;
    identifier?: string;
    sender?: string;
    senderType?: 'User' | 'Bot';
    name?: string;
  },
): Record<string, any> {
  const payload = withRepository(examplePayload('check_run', action), options.installationId);
  payload.check_run.external_id = options.externalId;
  payload.check_run.name = options.name ?? 'Spec Kit · 001-demo · Phase 1';
  payload.sender.login = options.sender ?? 'Codertocat';
  payload.sender.type = options.senderType ?? 'User';
  if (action === 'requested_action') payload.requested_action = { identifier: options.identifier ?? 'retry' };
  return payload;
}

let counter = 0;

/** A run row as the chain leaves it, for the commands and buttons to act on. */
export async function insertRun(
  prisma: PrismaClient,
  fields: Partial<Parameters<PrismaClient['specWorkflowRun']['create']>[0]['data']> & {
    installationId: bigint;
  },
) {
  counter += 1;
  return prisma.specWorkflowRun.create({
    data: {
      id: randomUUID(),
      repository: FULL_NAME,
      featureKey: '001-demo',
      triggerKind: 'comment',
      triggerActor: 'Codertocat',
      cloneUrl: CLONE_URL,
      defaultBranch: 'master',
      branchName: 'speckit/001-demo',
      createdBy: 'Codertocat',
      issueNumber: 1,
      ...fields,
    },
  });
}

export function lastComment(github: ControlHarness['github']): string {
  return [...github.comments.values()].at(-1)?.body ?? '';
}

export function reactions(github: ControlHarness['github']): unknown[] {
  return github.requests.filter((r) => r.path.endsWith('/reactions') && r.body.content === 'eyes');
}

export const counterValue = () => counter;

/**
 * Comments `body` through probot.receive() and runs the admission: what was
 * recorded, the run it started, the app's reply (the last new comment) and the 👀 added.
 */
export async function commentAndAdmit(
  h: ControlHarness,
  body: string,
  options: { installationId: number; sender?: string; pullRequest?: boolean; issue?: number },
) {
  const before = h.github.comments.size;
  const eyes = reactions(h.github).length;
  const deliveryId = await h.receive('issue_comment', commentEvent(body, options));
  const recorded = await h.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } });
  const runId = recorded ? await h.admit(deliveryId) : null;
  return {
    deliveryId,
    recorded,
    runId,
    reply: h.github.comments.size > before ? lastComment(h.github) : null,
    eyes: reactions(h.github).length - eyes,
  };
}

/** Ends every active run (as cancelled), so that none holds a feature or an installation limit. */
export async function settleActiveRuns(prisma: PrismaClient): Promise<void> {
  await prisma.specWorkflowRun.updateMany({
    where: { status: { in: ['pending', 'running', 'cancelling'] } },
    data: { status: 'cancelled', conclusion: 'cancelled', finishedAt: new Date() },
  });
}
