// End to end through the whole app, as root with CODEX_RUN_AS=nobody: the model runs `env`,
// `id -u` and `cat`s the app's private key file and the `.env` beside the app, writing what
// it got into the workspace. None of the app's secrets may reach Codex's commands, the
// stored patch, codex.jsonl, the model, or the pushed branch — and the run still succeeds
// (the workspace was handed back to the app's user for git).
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  execCommandCall,
  type FakeModelServer,
  finalMessage,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 4243;
const DOTENV_SECRET = 'dotenv-secret-7f3a9c1e5b';
const PROCESS_SECRET = 'process-env-secret-2d8e4b6a';
const NOBODY = 65534;

describe.runIf(process.getuid?.() === 0)('a run with CODEX_RUN_AS=nobody', () => {
  let model: FakeModelServer;
  let repo: BareRepo;
  let github: ReturnType<typeof mockGitHub>;
  let harness: Harness;
  const savedEnv = { ...process.env };

  beforeAll(() => {
    // The test process plays the app: its own environment holds secrets too.
    process.env.SPECKIT_TEST_PROCESS_SECRET = PROCESS_SECRET;
    process.env.WEBHOOK_SECRET = WEBHOOK_SECRET;
  });

  afterAll(async () => {
    process.env = savedEnv;
    await harness?.stop();
    github?.done();
    await model?.close();
    await removeTempDirs();
  });

  it('keeps every app secret out of the child, its diff, its log and the pushed branch', async () => {
    repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
    github = mockGitHub({
      owner: 'Codertocat',
      name: 'Hello-World',
      installationId: INSTALLATION_ID,
      roles: { Codertocat: 'admin' },
      branchSha: (branch) => repo.readBranch(branch),
      tokens: 'distinct',
    });
    // The model's script needs the app's paths, known once the harness made its root.
    let steal = '';
    model = await startFakeModelServer((request) => {
      const script = [
        execCommandCall(steal),
        applyPatchCall(PHASE_1_PATCH),
        finalMessage('Implemented Phase 1: Setup.'),
      ];
      return script[request.index] ?? finalMessage('Nothing left to do.');
    });
    harness = await startHarness({
      modelUrl: model.url,
      env: { CODEX_RUN_AS: 'nobody' },
      databasePassword: true,
    });

    // The app's files: a private key file and a .env beside it, readable by root only.
    const appDir = path.join(harness.root, 'app');
    await mkdir(appDir, { mode: 0o700 });
    const keyPath = path.join(appDir, 'private-key.pem');
    const dotenvPath = path.join(appDir, '.env');
    await writeFile(keyPath, harness.env.PRIVATE_KEY as string, { mode: 0o600 });
    await writeFile(
      dotenvPath,
      `WEBHOOK_SECRET=${WEBHOOK_SECRET}\nDATABASE_URL=${harness.env.DATABASE_URL}\nDOTENV_MARKER=${DOTENV_SECRET}\n`,
      { mode: 0o600 },
    );
    // What an operator does for CODEX_RUN_AS (README): the root directory searchable (not
    // listable) so nobody reaches WORK_DIR and ARTIFACTS_DIR, CODEX_HOME owned by nobody.
    await chmod(harness.root, 0o711);
    await execa('chown', ['-R', `${NOBODY}:${NOBODY}`, harness.env.CODEX_HOME as string]);
    await chown(harness.env.CODEX_HOME as string, NOBODY, NOBODY);
    steal = [
      'id -u > whoami.txt',
      'env > leaked-env.txt',
      `cat ${keyPath} > leaked-key.txt 2>&1`,
      `cat ${dotenvPath} > leaked-dotenv.txt 2>&1`,
      `ls -la ${appDir} > leaked-ls.txt 2>&1`,
      'cat whoami.txt leaked-*.txt',
    ].join('; ');

    const response = await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'delivery-e2e-secrets',
      payload: commentPayload({
        body: '/speckit run 001-demo',
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    expect(response.status).toBe(200);
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst({ where: { featureKey: '001-demo' } });
      return found && ['succeeded', 'failed', 'cancelled'].includes(found.status) ? found : null;
    }, 90_000);
    expect(run).toMatchObject({ status: 'succeeded', conclusion: 'success', errorMessage: null });

    const privateKeyLine = (harness.env.PRIVATE_KEY as string).split('\n')[5] as string;
    const databaseName = new URL(harness.env.DATABASE_URL as string).pathname.slice(1);
    const databasePassword = harness.database.password as string;
    expect(harness.env.DATABASE_URL).toContain(databasePassword);
    // Every token GitHub issued during the run (a new one per call).
    const tokens = github.issuedTokens;
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const secrets: Record<string, string> = {
      'private key': privateKeyLine,
      'webhook secret': WEBHOOK_SECRET,
      'database name': databaseName,
      'database password': databasePassword,
      ...Object.fromEntries(tokens.map((token, i) => [`installation token ${i + 1}`, token])),
      ...Object.fromEntries(
        tokens.map((token, i) => [
          `installation token ${i + 1} (basic)`,
          Buffer.from(`x-access-token:${token}`).toString('base64'),
        ]),
      ),
      '.env marker': DOTENV_SECRET,
      'process secret': PROCESS_SECRET,
    };
    const scanned: string[] = [];
    const found: string[] = [];
    const expectClean = (where: string, text: string) => {
      scanned.push(where);
      for (const [name, secret] of Object.entries(secrets)) {
        if (text.includes(secret)) found.push(`${name} in ${where}`);
        expect(text.includes(secret), `${name} found in ${where}`).toBe(false);
      }
    };

    // The stored patch.
    const codexOutput = await harness.prisma.stepOutput.findUniqueOrThrow({
      where: { runId_step: { runId: run.id, step: 'codex' } },
    });
    const patch = codexOutput.patch as string;
    expect(patch).toContain('+++ b/leaked-key.txt');
    expect(patch).toContain('Permission denied');
    expectClean('the stored patch', patch);
    expectClean('the codex step output', JSON.stringify(codexOutput.data));
    expect(codexOutput.data).toMatchObject({ runAs: 'nobody', usage: { totalTokens: 360 } });

    // codex.jsonl: the command ran and printed what it could read.
    const log = await harness.prisma.workflowArtifact.findFirstOrThrow({
      where: { runId: run.id, artifactType: 'codex_logs' },
    });
    const jsonl = await readFile(path.join(harness.root, 'artifacts', log.path), 'utf8');
    expect(jsonl).toContain('leaked-key.txt');
    expect(jsonl).toContain(`cat: ${keyPath}: Permission denied`);
    expectClean('codex.jsonl', jsonl);

    // The model saw no secret either.
    expectClean('the model requests', JSON.stringify(model.requests.map((r) => r.body)));

    // The pushed branch: Codex ran as nobody, and every file is clean.
    const tree = await repo.readTree('speckit/001-demo');
    expect(tree['whoami.txt']?.trim()).toBe(String(NOBODY));
    expect(tree['leaked-key.txt']).toContain('Permission denied');
    expect(tree['leaked-dotenv.txt']).toContain('Permission denied');
    expect(tree['leaked-env.txt']).toMatch(/^CODEX_HOME=/m);
    expect(tree['leaked-env.txt']).not.toMatch(/^(PRIVATE_KEY|WEBHOOK_SECRET|DATABASE_URL|GITHUB_TOKEN)=/m);
    expect(tree['src/hello.txt']?.trim()).toBe('Hello, Spec Kit!');
    for (const [file, content] of Object.entries(tree)) expectClean(`${file} on the pushed branch`, content);

    // The preflight was recorded, as nobody.
    expect(await harness.prisma.workflowCredentialAudit.findMany({ where: { runId: run.id } })).toMatchObject(
      [{ githubStatus: 'ok', codexStatus: 'ok', notes: expect.stringContaining('mode local, as nobody') }],
    );
    // The run's summary shows the usage.
    expect(run.summary).toContain('Codex used 360 tokens');
    console.log(
      `injected: the model ran env, id and cat of the private key and .env as nobody; secrets: ${
        Object.keys(secrets).length
      } (${tokens.length} tokens issued, the database password, the webhook secret, a key line, markers); ` +
        `observed: ${found.length} found in ${scanned.length} places (patch, step output, codex.jsonl, model requests, ` +
        `${Object.keys(tree).length} files on the pushed branch); the child read: ${tree['leaked-key.txt']?.trim()}`,
    );
  });
});
