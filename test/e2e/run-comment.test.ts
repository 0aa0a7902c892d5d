// The walking skeleton, end to end: a collaborator's `/speckit run 001-demo`
// comment → signed webhook → pg-boss chain → real git + real Codex CLI →
// pull request, with the check run moving queued → in_progress → completed.
import { randomUUID } from 'node:crypto';
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
import { type BareRepo, createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';
import { INSTALLATION_TOKEN, mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook, sign } from '../support/webhooks.ts';

const INSTALLATION_ID = 4242;

let model: FakeModelServer;
let repo: BareRepo;
let github: ReturnType<typeof mockGitHub>;
let harness: Harness;

beforeAll(async () => {
  model = await startFakeModelServer(
    scriptedResponder([applyPatchCall(PHASE_1_PATCH), finalMessage('Implemented Phase 1: Setup.')]),
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

describe('a /speckit run comment', () => {
  it('implements the next phase and opens a pull request', async () => {
    const masterBefore = await repo.readBranch('master');
    const response = await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'delivery-e2e-1',
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
    expect(run).toMatchObject({
      status: 'succeeded',
      conclusion: 'success',
      repository: 'Codertocat/Hello-World',
      branchName: 'speckit/001-demo',
      phaseNumber: '1',
      phaseTitle: 'Setup',
      prNumber: 1,
      errorMessage: null,
    });

    // The check run moved queued → in_progress → completed (success, PR in the summary).
    const checkRunCalls = github.requests.filter((r) => r.path.includes('/check-runs') && r.method !== 'GET');
    const statuses = checkRunCalls.map((r) => r.body.status);
    expect(statuses[0]).toBe('queued');
    expect(statuses).toContain('in_progress');
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses.indexOf('in_progress')).toBeLessThan(statuses.indexOf('completed'));
    const created = checkRunCalls[0]!.body;
    expect(created.name).toMatch(/^Spec Kit/);
    expect(created.external_id).toBe(run.id);
    expect(created.head_sha).toBe(masterBefore);
    const final = checkRunCalls.at(-1)!.body;
    expect(final.conclusion).toBe('success');
    expect(final.output.summary).toContain('https://github.com/Codertocat/Hello-World/pull/1');
    // One check run for the run, and a completed one on the PR's new head commit.
    const checkRuns = [...github.checkRuns.values()];
    expect(checkRuns.map((c) => [c.head_sha, c.status, c.conclusion])).toEqual([
      [masterBefore, 'completed', 'success'],
      [run.headSha, 'completed', 'success'],
    ]);
    expect(checkRuns.every((c) => c.external_id === run.id)).toBe(true);
    expect(github.unmatched).toEqual([]);

    // The pull request: head speckit/001-demo into the default branch.
    const prCreates = github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'));
    expect(prCreates).toHaveLength(1);
    expect(prCreates[0]!.body).toMatchObject({ head: 'speckit/001-demo', base: 'master' });
    expect(prCreates[0]!.body.title).toBe('001-demo: Demo greeting');
    expect(prCreates[0]!.body.body).toContain('- [x] T001 Create `src/hello.txt` with a greeting');
    expect(prCreates[0]!.body.body).toContain('- [x] Phase 1: Setup ← this run');
    expect(prCreates[0]!.body.body).toContain('Refs #1');
    expect(github.pulls[0]?.labels).toEqual([{ name: 'speckit' }]);

    // The 👀 reaction and one progress comment, settled.
    expect(github.requests.some((r) => r.path.endsWith('/reactions') && r.body.content === 'eyes')).toBe(
      true,
    );
    expect(github.comments.size).toBe(1);
    expect([...github.comments.values()][0].body).toContain('implemented');

    // The bare repository's branch: one commit on top of master with the edit and the ticked tasks.
    const log = await repo.log('speckit/001-demo');
    expect(log[1]?.sha).toBe(masterBefore);
    expect(log[0]?.subject).toBe('feat(001-demo): phase 1 – Setup');
    expect(log[0]?.body).toContain(`Speckit-Run: ${run.id}`);
    expect(log[0]?.body).toContain(
      'Co-authored-by: Codertocat <21031067+Codertocat@users.noreply.github.com>',
    );
    expect(log[0]?.authorName).toBe('speckit-bot[bot]');
    const tree = await repo.readTree('speckit/001-demo');
    expect(tree['src/hello.txt']?.trim()).toBe('Hello, Spec Kit!');
    expect(tree['README.md']).toContain('greets you');
    expect(tree['specs/001-demo/tasks.md']).toContain('- [X] T001 Create');
    expect(tree['specs/001-demo/tasks.md']).toContain('- [X] T002 [P] Document');
    expect(tree['specs/001-demo/tasks.md']).toContain('- [ ] T003 [US1]');
    expect(await repo.readBranch('master')).toBe(masterBefore);

    // Every step attempt is recorded; the Codex log is an artifact.
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: run.id },
      orderBy: { id: 'asc' },
    });
    expect(attempts.map((a) => `${a.taskName}:${a.status}`)).toEqual([
      'intake:succeeded',
      'discover:succeeded',
      'codex:succeeded',
      'apply:succeeded',
      'publish:succeeded',
      'finalize:succeeded',
    ]);
    const artifacts = await harness.prisma.workflowArtifact.findMany({ where: { runId: run.id } });
    expect(artifacts.map((a) => a.artifactType).sort()).toEqual([
      'codex_logs',
      'codex_patch',
      'gh_pr_response',
      'gh_push_log',
    ]);

    // The model was really asked, and nothing anywhere holds the installation token.
    expect(model.requests.length).toBeGreaterThanOrEqual(2);
    const stored = JSON.stringify(await harness.prisma.stepOutput.findMany({ where: { runId: run.id } }));
    expect(stored).not.toContain(INSTALLATION_TOKEN);
  });

  it('treats redeliveries of the same delivery id as no-ops (five deliveries in all, one run)', async () => {
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        deliverWebhook(harness.webhookUrl, {
          secret: WEBHOOK_SECRET,
          event: 'issue_comment',
          deliveryId: 'delivery-e2e-1',
          payload: commentPayload({
            body: '/speckit run 001-demo',
            cloneUrl: repo.cloneUrl,
            installationId: INSTALLATION_ID,
          }),
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stored = await storedCounts();
    console.log(
      `injected: 4 redeliveries of delivery-e2e-1 (5 in all), answered ${responses.map((r) => r.status).join(', ')}; ` +
        `observed: ${stored.runs} run, ${stored.deliveries} delivery, ${stored.jobs} chain jobs`,
    );
    expect(await harness.prisma.specWorkflowRun.count()).toBe(1);
    expect(await harness.prisma.webhookDelivery.count()).toBe(1);
  });

  /** What a delivery could have stored: delivery rows, runs and the chain's pg-boss jobs. */
  async function storedCounts() {
    const [jobs] = await harness.prisma.$queryRaw<{ count: bigint }[]>`
      SELECT count(*) AS count FROM pgboss.job WHERE name LIKE 'speckit.%' AND name <> 'speckit.retention'`;
    return {
      deliveries: await harness.prisma.webhookDelivery.count(),
      runs: await harness.prisma.specWorkflowRun.count(),
      jobs: Number(jobs?.count ?? 0),
    };
  }

  const unsigned: Array<[string, (body: string) => Record<string, string>, (body: string) => string]> = [
    ['without a signature', () => ({}), (body) => body],
    [
      'with a signature made with another secret',
      (body) => ({ 'x-hub-signature-256': sign('not-the-secret', body) }),
      (body) => body,
    ],
    [
      'whose body was changed after signing',
      (body) => ({ 'x-hub-signature-256': sign(WEBHOOK_SECRET, body) }),
      (body) => body.replace('/speckit run 001-demo', '/speckit run 002-other'),
    ],
    ['with a malformed signature', () => ({ 'x-hub-signature-256': 'sha256=not-hex' }), (body) => body],
  ];
  for (const [name, headers, tamper] of unsigned) {
    it(`refuses a delivery ${name} and stores nothing`, async () => {
      const before = await storedCounts();
      const deliveryId = `unsigned-${randomUUID()}`;
      const body = JSON.stringify(
        commentPayload({
          body: '/speckit run 001-demo',
          cloneUrl: repo.cloneUrl,
          installationId: INSTALLATION_ID,
        }),
      );
      const response = await fetch(harness.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/test',
          'x-github-event': 'issue_comment',
          'x-github-delivery': deliveryId,
          ...headers(body),
        },
        body: tamper(body),
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await storedCounts();
      console.log(
        `injected: a delivery ${name}; observed: HTTP ${response.status}, ` +
          `stored ${after.deliveries - before.deliveries} deliveries, ${after.runs - before.runs} runs, ${after.jobs - before.jobs} jobs`,
      );
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(after).toEqual(before);
      expect(await harness.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } })).toBeNull();
    });
  }
});
