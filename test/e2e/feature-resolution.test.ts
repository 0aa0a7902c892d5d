// A command that names no feature: `.specify/feature.json` decides, else the
// only feature with pending tasks; with several, the reply lists them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, DEMO_TASKS } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  type FakeModelServer,
  finalMessage,
  scriptedResponder,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { repoFileReaders } from '../support/repo-files.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 91;
const DONE_TASKS = DEMO_TASKS.replaceAll('- [ ]', '- [X]');

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;

beforeAll(async () => {
  model = await startFakeModelServer(scriptedResponder([], finalMessage('unused')));
  repo = await createBareRepo({
    files: {
      ...DEMO_FILES,
      'specs/002-done/tasks.md': DONE_TASKS,
      '.specify/feature.json': JSON.stringify({ feature_directory: 'specs/002-done' }),
    },
    branch: 'master',
  });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
    ...repoFileReaders(repo),
  });
  harness = await startHarness({ modelUrl: model.url });
});

afterAll(async () => {
  await harness?.stop();
  github?.done();
  await model?.close();
  await removeTempDirs();
});

async function comment(body: string): Promise<string> {
  const before = github.comments.size;
  await deliverWebhook(harness.webhookUrl, {
    secret: WEBHOOK_SECRET,
    event: 'issue_comment',
    payload: commentPayload({ body, cloneUrl: repo.cloneUrl, installationId: INSTALLATION_ID }),
  });
  await waitFor(async () => github.comments.size > before, 20_000);
  return [...github.comments.values()].at(-1).body;
}

describe('a command without a feature', () => {
  it('follows .specify/feature.json', async () => {
    const reply = await comment('/speckit plan');
    expect(reply).toContain('### Spec Kit plan · `002-done`');
    expect(reply).toContain('No remaining phases');
  });

  it('takes the only feature with pending tasks when there is no pointer', async () => {
    await repo.commitFiles('master', { '.specify/feature.json': null });
    const reply = await comment('/speckit plan');
    expect(reply).toContain('### Spec Kit plan · `001-demo`');
    expect(reply).toContain('**Next: Phase 1: Setup**');
  });

  it('lists the candidates when several features have pending tasks', async () => {
    await repo.commitFiles('master', { 'specs/003-more/tasks.md': DEMO_TASKS });
    const reply = await comment('/speckit run');
    expect(reply).toContain('several features have pending tasks; name one:');
    expect(reply).toContain('- `/speckit run 001-demo`');
    expect(reply).toContain('- `/speckit run 003-more`');
    expect(reply).not.toContain('002-done');
    expect(await harness.prisma.specWorkflowRun.count()).toBe(0);
  });
});
