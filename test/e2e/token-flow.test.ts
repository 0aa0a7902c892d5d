// The installation token over real smart HTTP: git authenticates with it
// (the server requires it), and afterwards no log line, artifact, workspace
// file, mirror file, stored output or GitHub comment holds the token or its base64 form —
// nor the webhook secret or any line of the app's private key.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  type FakeModelServer,
  finalMessage,
  scriptedResponder,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import {
  type BareRepo,
  createBareRepo,
  type GitHttpServer,
  removeTempDirs,
  startGitHttpServer,
} from '../support/git-fixtures.ts';
import { INSTALLATION_TOKEN, mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 86;
const BASIC = Buffer.from(`x-access-token:${INSTALLATION_TOKEN}`).toString('base64');

let model: FakeModelServer;
let repo: BareRepo;
let gitServer: GitHttpServer;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;
const logLines: string[] = [];

beforeAll(async () => {
  model = await startFakeModelServer(
    scriptedResponder([applyPatchCall(PHASE_1_PATCH), finalMessage('Done.')]),
  );
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  gitServer = await startGitHttpServer({
    projectRoot: path.dirname(repo.bareDir),
    token: INSTALLATION_TOKEN,
  });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url, logLines });
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

describe('the installation token', () => {
  it('authenticates git over smart HTTP and is found nowhere afterwards', async () => {
    const cloneUrl = `${gitServer.url}/${path.basename(repo.bareDir)}`;
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      payload: commentPayload({ body: '/speckit run 001-demo', cloneUrl, installationId: INSTALLATION_ID }),
    });
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst();
      return found && ['succeeded', 'failed'].includes(found.status) ? found : null;
    }, 60_000);
    expect(run, run.errorMessage ?? '').toMatchObject({ status: 'succeeded' });
    expect(await repo.readBranch('speckit/001-demo')).not.toBeNull();
    // Every git request carried the token as GitHub expects it (the server refuses others).
    expect(gitServer.authorizations.length).toBeGreaterThan(3);
    expect(
      gitServer.authorizations.every((header) => header?.toLowerCase() === `basic ${BASIC}`.toLowerCase()),
    ).toBe(true);

    // The app's own secrets too: the webhook secret and the private key's body.
    const keyBody = (harness.env.PRIVATE_KEY ?? '').split('\n').filter((line) => line.length > 40);
    expect(keyBody.length).toBeGreaterThan(5);
    const secrets = [INSTALLATION_TOKEN, BASIC, WEBHOOK_SECRET, ...keyBody];
    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const secret of secrets) if (text.includes(secret)) leaks.push(where);
    };
    for (const [i, line] of logLines.entries()) scan(`log line ${i}`, line);
    // The repository mirror the workspaces were cloned from (MIRROR_DIR).
    const mirrors = harness.env.MIRROR_DIR ?? '';
    expect((await filesUnder(mirrors)).length).toBeGreaterThan(10);
    for (const dir of [
      path.join(harness.root, 'workspaces'),
      path.join(harness.root, 'artifacts'),
      mirrors,
    ]) {
      for (const file of await filesUnder(dir)) scan(file, await readFile(file, 'latin1'));
    }
    scan('step outputs', json(await harness.prisma.stepOutput.findMany()));
    scan('attempts', json(await harness.prisma.specWorkflowTaskState.findMany()));
    scan(
      'runs',
      JSON.stringify(await harness.prisma.specWorkflowRun.findMany(), (_k, v) =>
        typeof v === 'bigint' ? `${v}` : v,
      ),
    );
    scan(
      'GitHub requests',
      JSON.stringify(github.requests.filter((r) => !r.path.endsWith('/access_tokens'))),
    );
    console.log(
      `scanned ${logLines.length} log lines and the artifacts, workspaces, mirrors, database and GitHub bodies`,
    );
    expect(logLines.length).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
  });
});
