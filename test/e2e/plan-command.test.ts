// `/speckit plan <feature>` answers with the next phase and its tasks, and
// starts no run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  type FakeModelServer,
  finalMessage,
  scriptedResponder,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 83;

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;

beforeAll(async () => {
  model = await startFakeModelServer(scriptedResponder([], finalMessage('unused')));
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin', visitor: 'read' },
    branchSha: (branch) => repo.readBranch(branch),
    readFile: async (ref, path) =>
      (await repo.readTree(ref).catch(() => ({}) as Record<string, string>))[path] ?? null,
  });
  harness = await startHarness({ modelUrl: model.url });
});

afterAll(async () => {
  await harness?.stop();
  github?.done();
  await model?.close();
  await removeTempDirs();
});

async function comment(body: string, sender = 'Codertocat'): Promise<string> {
  const before = github.comments.size;
  await deliverWebhook(harness.webhookUrl, {
    secret: WEBHOOK_SECRET,
    event: 'issue_comment',
    payload: commentPayload({
      body,
      cloneUrl: repo.cloneUrl,
      installationId: INSTALLATION_ID,
      sender: { login: sender },
    }),
  });
  await waitFor(async () => github.comments.size > before, 20_000);
  return [...github.comments.values()].at(-1).body;
}

describe('/speckit plan', () => {
  it('lists the next phase and its tasks without starting a run', async () => {
    const reply = await comment('/speckit plan 001-demo');
    expect(reply).toContain('**Next: Phase 1: Setup** — 2 pending tasks; 2 phases with pending work in all.');
    expect(reply).toContain('- [ ] T001 Create `src/hello.txt` with a greeting (line 9)');
    expect(reply).toContain('- [ ] T002 [P] Document the greeting in `README.md` (line 10)');
    expect(reply).toContain('on `master`');
    expect(await harness.prisma.specWorkflowRun.count()).toBe(0);
    expect(model.requests).toHaveLength(0);
  });

  it('says which file is missing for an unknown feature', async () => {
    const reply = await comment('/speckit plan 999-nope');
    expect(reply).toContain('`specs/999-nope/tasks.md` was not found on `master`');
  });

  it('refuses users without write access and starts nothing', async () => {
    const reply = await comment('/speckit run 001-demo', 'visitor');
    expect(reply).toContain('@visitor only collaborators with write, maintain or admin access');
    expect(reply).toContain('(your access: read)');
    expect(await harness.prisma.specWorkflowRun.count()).toBe(0);
  });

  it('answers an unknown command with the usage', async () => {
    const reply = await comment('/speckit deploy');
    expect(reply).toContain('Unknown command `deploy`');
    expect(reply).toContain('/speckit plan <feature>');
  });
});
