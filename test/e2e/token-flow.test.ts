// The installation token over real smart HTTP: git authenticates with the
// tokens GitHub issued (a new one per call, as GitHub does), and no log line,
// artifact, workspace file (looked at while each step's workspace exists —
// they are removed after a successful step), mirror file, stored output,
// GitHub request, model request or the Codex child's environment holds any
// token issued or its base64 form — nor the webhook secret, the database
// password or any line of the app's private key.
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  type FakeModelServer,
  finalMessage,
  isToolFollowUp,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import {
  type BareRepo,
  createBareRepo,
  type GitHttpServer,
  removeTempDirs,
  startGitHttpServer,
} from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';
import { findProcesses } from '../support/worker-process.ts';

const INSTALLATION_ID = 86;
const basic = (token: string) => Buffer.from(`x-access-token:${token}`).toString('base64');

let model: FakeModelServer;
let repo: BareRepo;
let gitServer: GitHttpServer;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;
const logLines: string[] = [];

/** What was looked at while the run went on: workspace files (by step directory) and the Codex child's environment. */
const live = {
  /** `<step>-<attempt>` → the most files seen in it at once. */
  workspaces: new Map<string, number>(),
  /** Files read while they existed: path → contents (the last seen). */
  files: new Map<string, string>(),
  codexEnvironments: [] as string[],
};

/** Reads every file under WORK_DIR now (files may vanish while it reads: a step ended). */
function lookAtWorkspaces(): void {
  const workDir = harness?.env.WORK_DIR;
  if (!workDir) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(workDir, { withFileTypes: true, recursive: true });
  } catch {
    return;
  }
  const counts = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const step = path.relative(workDir, file).split(path.sep)[1];
    if (!step) continue;
    try {
      live.files.set(file, readFileSync(file, 'latin1'));
      counts.set(step, (counts.get(step) ?? 0) + 1);
    } catch {
      // removed meanwhile
    }
  }
  for (const [step, count] of counts)
    live.workspaces.set(step, Math.max(count, live.workspaces.get(step) ?? 0));
}

beforeAll(async () => {
  model = await startFakeModelServer(({ body }) => {
    // Codex is running: its workspace exists, and so does the child's environment.
    lookAtWorkspaces();
    for (const { pid } of findProcesses('codex', 'exec', harness.root)) {
      try {
        live.codexEnvironments.push(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').join('\n'));
      } catch {
        // ended meanwhile
      }
    }
    return isToolFollowUp(body) ? finalMessage('Done.') : applyPatchCall(PHASE_1_PATCH);
  });
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  gitServer = await startGitHttpServer({
    projectRoot: path.dirname(repo.bareDir),
    // Fetches and pushes happen inside discover and publish: look at their workspaces then.
    onRequest: () => {
      lookAtWorkspaces();
      return false;
    },
  });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
    tokens: 'distinct',
    onRequest: () => lookAtWorkspaces(),
  });
  harness = await startHarness({ modelUrl: model.url, logLines, databasePassword: true });
});

afterAll(async () => {
  await harness?.stop();
  await gitServer?.close();
  github?.done();
  await model?.close();
  await removeTempDirs();
});

const json = (value: unknown) => JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${v}` : v));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('the installation tokens', () => {
  it('authenticate git over smart HTTP and are found nowhere, nor any other secret', async () => {
    const cloneUrl = `${gitServer.url}/${path.basename(repo.bareDir)}`;
    // Steps that touch neither GitHub nor the git server (apply) are caught by looking often.
    const poller = setInterval(lookAtWorkspaces, 20);
    let run: Awaited<ReturnType<typeof harness.prisma.specWorkflowRun.findFirst>>;
    try {
      await deliverWebhook(harness.webhookUrl, {
        secret: WEBHOOK_SECRET,
        event: 'issue_comment',
        payload: commentPayload({ body: '/speckit run 001-demo', cloneUrl, installationId: INSTALLATION_ID }),
      });
      run = await waitFor(async () => {
        const found = await harness.prisma.specWorkflowRun.findFirst();
        return found && ['succeeded', 'failed'].includes(found.status) ? found : null;
      }, 60_000);
    } finally {
      clearInterval(poller);
    }
    expect(run, run?.errorMessage ?? '').toMatchObject({ status: 'succeeded' });
    expect(await repo.readBranch('speckit/001-demo')).not.toBeNull();

    // GitHub issued a new token per call; every git request carried one of them.
    const tokens = github.issuedTokens;
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    const expected = new Set(tokens.map((token) => `basic ${basic(token)}`.toLowerCase()));
    expect(gitServer.authorizations.length).toBeGreaterThan(3);
    expect(gitServer.authorizations.filter((header) => !expected.has(header?.toLowerCase() ?? ''))).toEqual(
      [],
    );

    // The workspaces were looked at while they existed, and held the checkout.
    const steps = Object.fromEntries(live.workspaces);
    for (const step of ['discover-1', 'codex-1', 'apply-1', 'publish-1']) {
      expect(steps[step] ?? 0, `files seen in the ${step} workspace`).toBeGreaterThan(5);
    }
    expect(live.codexEnvironments.length).toBeGreaterThan(0);
    expect(live.codexEnvironments.every((env) => env.includes('CODEX_HOME='))).toBe(true);

    const password = harness.database.password ?? '';
    expect(password.length).toBeGreaterThan(10);
    expect(harness.env.DATABASE_URL).toContain(password);
    const keyBody = (harness.env.PRIVATE_KEY ?? '').split('\n').filter((line) => line.length > 40);
    expect(keyBody.length).toBeGreaterThan(5);
    const secrets: Record<string, string> = {
      'webhook secret': WEBHOOK_SECRET,
      'database password': password,
      ...Object.fromEntries(keyBody.map((line, i) => [`private key line ${i + 1}`, line])),
      ...Object.fromEntries(tokens.map((token, i) => [`token ${i + 1}`, token])),
      ...Object.fromEntries(tokens.map((token, i) => [`token ${i + 1} (basic)`, basic(token)])),
    };
    const leaks: string[] = [];
    const scanned: Record<string, number> = {};
    const scan = (kind: string, where: string, text: string) => {
      scanned[kind] = (scanned[kind] ?? 0) + 1;
      for (const [name, secret] of Object.entries(secrets))
        if (text.includes(secret)) leaks.push(`${name} in ${where}`);
    };
    for (const [i, line] of logLines.entries()) scan('log lines', `log line ${i}`, line);
    for (const [file, text] of live.files) scan('live workspace files', file, text);
    for (const [i, env] of live.codexEnvironments.entries())
      scan('Codex environments', `Codex environment ${i}`, env);
    // What is left on disk: artifacts, mirrors, Codex homes and failed steps' workspaces.
    const mirrors = harness.env.MIRROR_DIR ?? '';
    expect((await filesUnder(mirrors)).length).toBeGreaterThan(10);
    for (const dir of [harness.env.WORK_DIR ?? '', harness.env.ARTIFACTS_DIR ?? '', mirrors]) {
      for (const file of await filesUnder(dir))
        scan('files left on disk', file, await readFile(file, 'latin1'));
    }
    scan('database rows', 'step outputs', json(await harness.prisma.stepOutput.findMany()));
    scan('database rows', 'attempts', json(await harness.prisma.specWorkflowTaskState.findMany()));
    scan('database rows', 'runs', json(await harness.prisma.specWorkflowRun.findMany()));
    scan('database rows', 'deliveries', json(await harness.prisma.webhookDelivery.findMany()));
    scan('database rows', 'artifacts', json(await harness.prisma.workflowArtifact.findMany()));
    for (const request of github.requests.filter((r) => !r.path.endsWith('/access_tokens')))
      scan('GitHub requests', `${request.method} ${request.path}`, json(request.body ?? null));
    for (const comment of github.comments.values()) scan('comments', `comment ${comment.id}`, comment.body);
    for (const checkRun of github.checkRuns.values())
      scan('check runs', `check run ${checkRun.id}`, json(checkRun));
    for (const request of model.requests)
      scan('model requests', `model request ${request.index}`, json(request.body));
    console.log(
      `injected: ${tokens.length} distinct installation tokens, the webhook secret, the database password and ` +
        `${keyBody.length} private-key lines; observed: ${leaks.length} leaks in ${Object.entries(scanned)
          .map(([kind, count]) => `${count} ${kind}`)
          .join(', ')}; workspaces seen live: ${Object.entries(steps)
          .map(([step, count]) => `${step} (${count} files)`)
          .join(', ')}`,
    );
    expect(logLines.length).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
  });
});
