// Codex ticks a task whose file it never touched: the task stays pending and
// is listed as unverified; the task it did do is ticked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  applyPatchCall,
  type FakeModelServer,
  finalMessage,
  scriptedResponder,
  startFakeModelServer,
} from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 84;
const PATCH_TICKING_BOTH = [
  '*** Begin Patch',
  '*** Add File: src/hello.txt',
  '+Hello!',
  '*** Update File: specs/001-demo/tasks.md',
  '@@',
  '-- [ ] T001 Create `src/hello.txt` with a greeting',
  '-- [ ] T002 [P] Document the greeting in `README.md`',
  '+- [x] T001 Create `src/hello.txt` with a greeting',
  '+- [x] T002 [P] Document the greeting in `README.md`',
  '*** End Patch',
  '',
].join('\n');

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;

beforeAll(async () => {
  model = await startFakeModelServer(
    scriptedResponder([applyPatchCall(PATCH_TICKING_BOTH), finalMessage('All done!')]),
  );
  repo = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
  });
  harness = await startHarness({ modelUrl: model.url });
});

afterAll(async () => {
  await harness?.stop();
  github?.done();
  await model?.close();
  await removeTempDirs();
});

describe('a task Codex ticked without touching its file', () => {
  it('stays pending and is listed as unverified in the PR body', async () => {
    await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      payload: commentPayload({
        body: '/speckit run 001-demo',
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst();
      return found && ['succeeded', 'failed'].includes(found.status) ? found : null;
    }, 60_000);
    expect(run.status).toBe('succeeded');
    const tasks = (await repo.readTree('speckit/001-demo'))['specs/001-demo/tasks.md'] ?? '';
    expect(tasks).toMatch(/- \[[xX]\] T001 Create/); // Codex's own tick is kept
    expect(tasks).toContain('- [ ] T002 [P] Document');
    const body = github.pulls[0]?.body ?? '';
    expect(body).toContain('### Unverified');
    expect(body).toContain('- [ ] T002 Document the greeting');
    expect(body).toContain('- [x] T001 Create');
  });
});
