// The Codex step on a real database and a real git repository: cloud mode with the stub
// CLI (crash-and-resume included), the credential preflight, and local mode with the real
// Codex CLI against the fake model server (usage, token cap, no changes).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactWriter } from '../../src/chain/artifacts.ts';
import type { Run, StepOutcome } from '../../src/chain/runs.ts';
import type { StepContext } from '../../src/chain/step-context.ts';
import { codexModeFromTrigger, codexStep, createCodexStep } from '../../src/chain/steps/codex.ts';
import { CodexError } from '../../src/codex/codex-error.ts';
import { readConfig } from '../../src/config.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { isPermanent } from '../../src/errors.ts';
import { applyPatch, cloneRepository } from '../../src/git/workspace.ts';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { createTestPrisma, type TestDatabase } from '../support/database.ts';
import {
  applyPatchCall,
  FAKE_API_KEY_ENV,
  FAKE_MODEL,
  type FakeModelServer,
  type FakeTurn,
  finalMessage,
  scriptedResponder,
  startFakeModelServer,
  writeCodexHome,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, makeTempDir, removeTempDirs } from '../support/git-fixtures.ts';
import {
  DIFF,
  EXEC_URL,
  LOGIN_CHATGPT,
  STATUS_ERROR,
  STATUS_PENDING,
  STATUS_READY,
  TASK_ID,
} from './fixtures/cloud-transcripts.ts';
import { type CodexStub, createCodexStub } from './fixtures/codex-stub.ts';

let prisma: PrismaClient;
let database: TestDatabase;
let repo: BareRepo;
let root: string;
let counter = 0;

beforeAll(async () => {
  ({ prisma, database } = await createTestPrisma());
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  root = await makeTempDir('speckit-codex-step-');
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
  await removeTempDirs();
});

async function createRun(): Promise<Run> {
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  const run = await prisma.specWorkflowRun.create({
    data: {
      id,
      // One active run per (repository, feature): each test gets its own repository name.
      repository: `Codertocat/Hello-World-${counter}`,
      installationId: 1n,
      featureKey: '001-demo',
      phaseNumber: '1',
      phaseTitle: 'Setup',
      triggerKind: 'comment',
      triggerActor: 'Codertocat',
      cloneUrl: repo.cloneUrl,
      defaultBranch: 'master',
      branchName: 'speckit/001-demo',
      createdBy: 'Codertocat',
      currentStep: 'codex',
      status: 'running',
    },
  });
  await prisma.stepOutput.create({
    data: {
      runId: id,
      step: 'discover',
      data: {
        sourceBranch: 'master',
        continuing: false,
        baseSha: (await repo.readBranch('master')) as string,
        phase: { number: '1', title: 'Setup' },
        taskIds: ['T001', 'T002'],
      },
    },
  });
  return run;
}

async function context(
  run: Run,
  env: Record<string, string>,
  attempt = 1,
  signal = new AbortController().signal,
): Promise<StepContext> {
  const config = readConfig(
    {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      WORK_DIR: path.join(root, 'work'),
      ARTIFACTS_DIR: path.join(root, 'artifacts'),
      ...env,
    },
    root,
  );
  return {
    prisma,
    github: {
      installationToken: async () => 'ghs_stepTestToken',
      app: async () => {
        throw new Error('no GitHub calls in the Codex step');
      },
      octokit: async () => {
        throw new Error('no GitHub calls in the Codex step');
      },
    },
    config,
    log: pino({ level: 'silent' }),
    signal,
    attempt,
    workspaceDir: path.join(config.workDir, run.id, `codex-${attempt}`),
    artifacts: await createArtifactWriter(prisma, config.artifactsDir, run.id, 'codex', attempt),
  };
}

async function stepFailure(promise: Promise<unknown>): Promise<CodexError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CodexError);
    return error as CodexError;
  }
  throw new Error('expected the Codex step to fail');
}

async function cloudStub(status = [STATUS_PENDING, STATUS_READY]): Promise<CodexStub> {
  return createCodexStub({ login: [LOGIN_CHATGPT], exec: [EXEC_URL], status, diff: [DIFF] });
}

function cloudEnv(stub: CodexStub, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CODEX_BIN: stub.bin,
    CODEX_HOME: stub.dir,
    CODEX_MODE: 'cloud',
    CODEX_CLOUD_ENV: 'env_demo',
    CODEX_CLOUD_POLL_SECONDS: '0.02',
    ...extra,
  };
}

describe('the Codex step in cloud mode (stub codex)', () => {
  it('submits the phase, stores the task id, and hands the diff to apply', async () => {
    const run = await createRun();
    const stub = await cloudStub();

    const outcome = await codexStep(run, await context(run, cloudEnv(stub)));

    expect(outcome.result).toEqual({ kind: 'continue' });
    expect(outcome.patch).toBe(DIFF.stdout);
    expect(outcome.output).toMatchObject({
      mode: 'cloud',
      taskId: TASK_ID,
      taskUrl: `https://chatgpt.com/codex/tasks/${TASK_ID}`,
      resumed: false,
      status: '[READY] Implement Phase 1: Setup of 001-demo',
      changedPaths: ['README.md', 'src/hello.txt'],
    });
    expect(outcome.runUpdate).toMatchObject({ codexThreadId: TASK_ID });
    const calls = await stub.calls();
    expect(calls[0]).toEqual(['login', 'status']);
    expect(calls[1]?.slice(0, 6)).toEqual(['cloud', 'exec', '--env', 'env_demo', '--branch', 'master']);
    expect(calls[1]?.at(-1)).toContain('T001');
    expect((await prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } })).codexThreadId).toBe(
      TASK_ID,
    );
    const artifacts = await prisma.workflowArtifact.findMany({ where: { runId: run.id } });
    expect(artifacts.map((a) => a.artifactType).sort()).toEqual(['codex_logs', 'codex_patch']);
    expect(await prisma.workflowCredentialAudit.findMany({ where: { runId: run.id } })).toMatchObject([
      { githubStatus: 'ok', codexStatus: 'ok' },
    ]);

    // The apply step replays it on a fresh clone with `git apply --3way`.
    const clone = path.join(root, `apply-${run.id}`);
    await cloneRepository({ cloneUrl: repo.cloneUrl, dir: clone, branch: 'master' });
    await applyPatch(clone, outcome.patch as string);
    expect(await readFile(path.join(clone, 'src/hello.txt'), 'utf8')).toBe('Hello, Spec Kit!\n');
  });

  it('resumes polling the same task after a worker stopped mid-poll, never submitting twice', async () => {
    const run = await createRun();
    const stub = await cloudStub([STATUS_PENDING]);
    const controller = new AbortController();

    // Attempt 1: submits, then polls until the worker goes away.
    const first = codexStep(run, await context(run, cloudEnv(stub), 1, controller.signal));
    const stored = await (async () => {
      for (let i = 0; i < 200; i += 1) {
        const row = await prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } });
        const polls = (await stub.calls()).filter((c) => c[1] === 'status').length;
        if (row.codexThreadId && polls >= 2) return row.codexThreadId;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the task id was never stored');
    })();
    controller.abort(new Error('worker stopped'));
    expect((await stepFailure(first)).code).toBe('cancelled');
    expect(stored).toBe(TASK_ID);

    // Attempt 2 (another worker): the task is ready now.
    await stub.answer('status', [STATUS_READY]);
    const reloaded = await prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } });
    const outcome = await codexStep(reloaded, await context(reloaded, cloudEnv(stub), 2));

    expect(outcome.output).toMatchObject({ taskId: TASK_ID, resumed: true });
    expect(outcome.patch).toBe(DIFF.stdout);
    const execs = (await stub.calls()).filter((c) => c[0] === 'cloud' && c[1] === 'exec');
    expect(execs).toHaveLength(1);
  });

  it('fails permanently when the cloud task failed, and forgets the task so a new run submits again', async () => {
    const run = await createRun();
    const stub = await cloudStub([STATUS_PENDING, STATUS_ERROR]);

    const error = await stepFailure(codexStep(run, await context(run, cloudEnv(stub))));

    expect(error.code).toBe('codex_cloud_failed');
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toContain('[ERROR] Implement Phase 1: Setup of 001-demo');
    expect(
      (await prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: run.id } })).codexThreadId,
    ).toBeNull();
    // The transcript is complete after the failure.
    const log = await prisma.workflowArtifact.findFirstOrThrow({
      where: { runId: run.id, artifactType: 'codex_logs' },
    });
    const lines = (await readFile(path.join(root, 'artifacts', log.path), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).args[1])).toEqual(['exec', 'status', 'status']);
  });

  it('fails at once without an environment id, records it, and fails at once again on a retry', async () => {
    const run = await createRun();
    const stub = await cloudStub();
    const env = cloudEnv(stub);
    delete env.CODEX_CLOUD_ENV;

    for (const attempt of [1, 2]) {
      const started = Date.now();
      const error = await stepFailure(codexStep(run, await context(run, env, attempt)));
      expect(error.code).toBe('codex_credentials_missing');
      expect(isPermanent(error)).toBe(true);
      expect(error.message).toContain('Set CODEX_CLOUD_ENV');
      expect(Date.now() - started).toBeLessThan(2000);
    }

    const audits = await prisma.workflowCredentialAudit.findMany({
      where: { runId: run.id },
      orderBy: { id: 'asc' },
    });
    expect(audits).toMatchObject([
      { githubStatus: 'ok', codexStatus: 'missing' },
      { githubStatus: 'ok', codexStatus: 'missing' },
    ]);
    expect(audits[1]?.notes).toContain('codex attempt 2, mode cloud: cloud: no Codex Cloud environment id');
    expect(await stub.calls()).toEqual([]);
    expect(existsSync(path.join(root, 'work', run.id, 'codex-1', '.git'))).toBe(false);
  });

  it('takes the mode from the stored trigger when the run asks for one', async () => {
    expect(codexModeFromTrigger({ kind: 'comment', body: '/speckit run 001-demo --cloud' })).toBe('cloud');
    expect(codexModeFromTrigger({ kind: 'comment', body: '/speckit run --local 001-demo\nmore' })).toBe(
      'local',
    );
    expect(codexModeFromTrigger({ kind: 'comment', body: '/speckit run 001-demo' })).toBeNull();
    expect(codexModeFromTrigger({ kind: 'comment', body: 'please /speckit run x --cloud' })).toBeNull();
    expect(codexModeFromTrigger({ kind: 'api', codexMode: 'cloud' })).toBe('cloud');
    expect(codexModeFromTrigger(null)).toBeNull();

    // And an explicit input overrides CODEX_MODE (the hook for `/speckit run --cloud`).
    const run = await createRun();
    const stub = await cloudStub([STATUS_READY]);
    const step = createCodexStep(async () => ({ mode: 'cloud', cloudEnv: 'env_from_input' }));
    const outcome = await step(run, await context(run, { ...cloudEnv(stub), CODEX_MODE: 'local' }));
    expect(outcome.output).toMatchObject({ mode: 'cloud', taskId: TASK_ID });
    expect((await stub.calls())[1]?.slice(0, 4)).toEqual(['cloud', 'exec', '--env', 'env_from_input']);
  });
});

describe('the Codex step in local mode (real Codex CLI, fake model)', () => {
  let model: FakeModelServer | undefined;

  afterAll(async () => {
    await model?.close();
  });

  async function localEnv(turns: FakeTurn[], extra: Record<string, string> = {}) {
    await model?.close();
    model = await startFakeModelServer(scriptedResponder(turns));
    const home = path.join(root, `codex-home-${counter}`);
    await mkdir(home, { recursive: true });
    await writeCodexHome(home, model.url);
    return {
      CODEX_HOME: home,
      CODEX_MODEL: FAKE_MODEL,
      CODEX_ENV_PASSTHROUGH: FAKE_API_KEY_ENV,
      [FAKE_API_KEY_ENV]: 'fake-key',
      ...extra,
    };
  }

  it('stores the token usage in the output and shows it in the run summary', async () => {
    const run = await createRun();
    const env = await localEnv([
      applyPatchCall(PHASE_1_PATCH),
      finalMessage('Implemented Phase 1.', { inputTokens: 300, cachedInputTokens: 100 }),
    ]);

    const outcome = await codexStep(run, await context(run, env));

    expect(outcome.result).toEqual({ kind: 'continue' });
    expect(outcome.output).toMatchObject({
      mode: 'local',
      usage: {
        inputTokens: 400,
        cachedInputTokens: 100,
        outputTokens: 40,
        reasoningTokens: 0,
        totalTokens: 440,
      },
      changedPaths: ['README.md', 'src/hello.txt'],
    });
    expect(outcome.runUpdate?.summary).toBe(
      'Codex used 440 tokens (400 input, 100 of them cached; 40 output, 0 of them reasoning).',
    );
    expect(await prisma.workflowCredentialAudit.findMany({ where: { runId: run.id } })).toMatchObject([
      { codexStatus: 'ok', notes: expect.stringContaining(`provider "local" reads ${FAKE_API_KEY_ENV}`) },
    ]);
  });

  it("ends neutral with Codex's last message when it changed nothing", async () => {
    const run = await createRun();
    const env = await localEnv([finalMessage('Which greeting should src/hello.txt hold?')]);

    const outcome: StepOutcome = await codexStep(run, await context(run, env));

    expect(outcome.result).toMatchObject({ kind: 'finish', conclusion: 'neutral' });
    const summary = outcome.result.kind === 'finish' ? outcome.result.summary : '';
    expect(summary).toContain('Codex made no changes.');
    expect(summary).toContain('> Which greeting should src/hello.txt hold?');
    expect(summary).toContain('Codex used 120 tokens');
    expect(outcome.patch).toBeUndefined();
  });

  it('stops Codex over CODEX_MAX_TOKENS, keeps the partial diff for review and fails the step', async () => {
    const run = await createRun();
    const env = await localEnv(
      [applyPatchCall(PHASE_1_PATCH), finalMessage('Done.', { inputTokens: 9000 })],
      { CODEX_MAX_TOKENS: '500' },
    );

    const error = await stepFailure(codexStep(run, await context(run, env)));

    expect(error.code).toBe('codex_token_cap');
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toContain('over the cap of 500 (CODEX_MAX_TOKENS)');
    expect(error.message).toContain('partial diff (2 files) is kept as the codex.patch artifact');
    const stored = await prisma.stepOutput.findUniqueOrThrow({
      where: { runId_step: { runId: run.id, step: 'codex' } },
    });
    expect(stored.patch).toContain('+Hello, Spec Kit!');
    expect(stored.data).toMatchObject({ partial: true, usage: { totalTokens: 9140 } });
    const patchArtifact = await prisma.workflowArtifact.findFirstOrThrow({
      where: { runId: run.id, artifactType: 'codex_patch' },
    });
    expect(await readFile(path.join(root, 'artifacts', patchArtifact.path), 'utf8')).toBe(stored.patch);
  });

  it('fails at once with the login remedy when Codex has no credentials, twice', async () => {
    const run = await createRun();
    const home = path.join(root, 'empty-codex-home');
    await mkdir(home, { recursive: true });

    for (const attempt of [1, 2]) {
      const error = await stepFailure(codexStep(run, await context(run, { CODEX_HOME: home }, attempt)));
      expect(error.code).toBe('codex_credentials_missing');
      expect(error.message).toContain('login status: Not logged in');
      expect(error.message).toContain('codex login');
    }
    expect(
      await prisma.workflowCredentialAudit.count({ where: { runId: run.id, codexStatus: 'missing' } }),
    ).toBe(2);
  });
});
