// SPECKIT_INSTALLATION_CONCURRENCY caps the Codex steps one installation runs
// at once (pg-boss group concurrency, across workers): with a cap of 1, one
// installation's three runs take turns in Codex instead of overlapping, say
// so while they wait, and all finish — while a second installation's run,
// started when the first one has a queue, goes straight into Codex and never
// says it waits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';
import { type BareRepo, createBareRepo } from '../support/git-fixtures.ts';
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_A = 92;
const INSTALLATION_B = 94;
const FEATURES_A = ['001-demo', '002-other', '003-third'];

let world: DemoWorld;
let repoB: BareRepo;
let githubB: ReturnType<typeof mockGitHub>;
let inFlight = 0;
let maxInFlight = 0;
/** Holds every model answer until the test has seen A's queue and B's start. */
let releaseAnswers: () => void = () => {};
const answersHeld = new Promise<void>((resolve) => {
  releaseAnswers = resolve;
});

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: INSTALLATION_A,
    respond: async ({ body }) => {
      if (isToolFollowUp(body)) return finalMessage('Done.');
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Answers wait for the test (so A's first run holds its slot however slow the
      // machine is), then take a second each.
      await Promise.race([answersHeld, new Promise((resolve) => setTimeout(resolve, 90_000))]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      inFlight -= 1;
      return applyPatchCall(PHASE_1_PATCH);
    },
    files: { 'specs/002-other/tasks.md': DEMO_TASKS, 'specs/003-third/tasks.md': DEMO_TASKS },
    // Codex prints nothing while its answer is held: its limits must outlast the hold.
    env: {
      SPECKIT_INSTALLATION_CONCURRENCY: '1',
      CODEX_IDLE_TIMEOUT_SECONDS: '300',
      CODEX_TIMEOUT_SECONDS: '300',
    },
  });
  // Another organization's repository, on another installation of the app.
  repoB = await createBareRepo({ files: DEMO_FILES, branch: 'master' });
  githubB = mockGitHub({
    owner: 'Octo-Org',
    name: 'Other-Repo',
    installationId: INSTALLATION_B,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repoB.readBranch(branch),
  });
});

afterAll(async () => {
  githubB?.done();
  await world?.stop();
});

/** `/speckit run 001-demo` on Octo-Org/Other-Repo, through installation B. */
async function commentOnB(deliveryId: string): Promise<void> {
  const payload = commentPayload({
    body: '/speckit run 001-demo',
    cloneUrl: repoB.cloneUrl,
    installationId: INSTALLATION_B,
  });
  payload.repository.name = 'Other-Repo';
  payload.repository.full_name = 'Octo-Org/Other-Repo';
  payload.repository.owner.login = 'Octo-Org';
  payload.repository.html_url = 'https://github.com/Octo-Org/Other-Repo';
  await deliverWebhook(world.harness.webhookUrl, {
    secret: WEBHOOK_SECRET,
    event: 'issue_comment',
    deliveryId,
    payload,
  });
}

const waitingTitle = (r: { body: unknown }) => /waiting/i.test(String((r.body as any)?.output?.title));
const waitingComment = (r: { body: unknown }) =>
  /Waiting for a Codex slot/.test(String((r.body as any)?.body));

type ReportedRun = { checkRunId: bigint | null; progressCommentId: bigint | null };

/** A's check-run and progress-comment updates for `run` that said it waits for a Codex slot. */
function waitingReports(run: ReportedRun) {
  const patches = world.github.requests.filter((r) => r.method === 'PATCH');
  return {
    titles: patches.filter((r) => r.path.endsWith(`/check-runs/${run.checkRunId}`) && waitingTitle(r)),
    comments: patches.filter(
      (r) => r.path.endsWith(`/issues/comments/${run.progressCommentId}`) && waitingComment(r),
    ),
  };
}

describe('the per-installation Codex limit', () => {
  it('makes one installation’s runs take turns in Codex, without holding up another installation', async () => {
    const { prisma } = world.harness;
    const deliveries = await Promise.all(
      FEATURES_A.map((feature) => world.comment(`/speckit run ${feature}`)),
    );
    // Installation A has a queue: one run in Codex, the others waiting for the slot.
    const waiting = await waitFor(async () => {
      const inCodex = await prisma.specWorkflowRun.findMany({
        where: { installationId: BigInt(INSTALLATION_A), currentStep: 'codex', status: 'running' },
        include: { tasks: { where: { taskName: 'codex' } } },
      });
      const held = inCodex.filter((run) => run.tasks.length === 0);
      return held.length === 2 && inCodex.length === 3 ? held : null;
    }, 90_000);
    const bStartedAt = Date.now();
    await commentOnB('installation-b-1');
    // B's Codex step starts while A's first run still holds the slot (and A's queue waits).
    await waitFor(
      async () =>
        (await prisma.specWorkflowTaskState.count({
          where: { taskName: 'codex', run: { installationId: BigInt(INSTALLATION_B) } },
        })) > 0,
      60_000,
    );
    // …and the held runs have said why in their check run and comment (reports settle first).
    const said = (run: ReportedRun) => {
      const { titles, comments } = waitingReports(run);
      return titles.length > 0 && comments.length > 0;
    };
    await waitFor(async () => waiting.every(said), 30_000);
    releaseAnswers();
    const runsA = await Promise.all(deliveries.map((id) => world.settled(id)));
    const runB = await world.settled('installation-b-1');

    const codex = await prisma.specWorkflowTaskState.findMany({
      where: { taskName: 'codex' },
      orderBy: { startedAt: 'asc' },
      include: { run: { select: { installationId: true } } },
    });
    const codexA = codex.filter((a) => a.run.installationId === BigInt(INSTALLATION_A));
    const codexB = codex.filter((a) => a.run.installationId === BigInt(INSTALLATION_B));
    const t = (date: Date | null) => ((date?.getTime() ?? 0) - bStartedAt) / 1000;
    console.log(
      `injected: 3 runs on installation A (cap 1), then 1 on installation B ${(-t(codexA[0]?.startedAt ?? null)).toFixed(1)} s after A's first Codex began; ` +
        `observed: A's Codex steps ${codexA.map((a) => `${t(a.startedAt).toFixed(1)}–${t(a.finishedAt).toFixed(1)} s`).join(', ')}; ` +
        `B's ${codexB.map((a) => `${t(a.startedAt).toFixed(1)}–${t(a.finishedAt).toFixed(1)} s`).join(', ')} (times from B's comment); ` +
        `most Codex runs at once: ${maxInFlight}`,
    );
    expect([...runsA, runB].map((run) => run.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);

    // A's Codex steps took turns: each started after the one before ended.
    expect(codexA).toHaveLength(3);
    for (let i = 1; i < codexA.length; i += 1)
      expect(codexA[i]!.startedAt!.getTime()).toBeGreaterThanOrEqual(codexA[i - 1]!.finishedAt!.getTime());
    // B's started before A's queue drained, overlapping one of A's.
    expect(codexB).toHaveLength(1);
    expect(codexB[0]!.startedAt!.getTime()).toBeLessThan(codexA[2]!.startedAt!.getTime());
    expect(maxInFlight).toBe(2);

    // While they waited, A's later runs said why in their check run and progress comment.
    const waitedA = runsA.filter((run) => run.id !== codexA[0]!.runId);
    for (const run of waitedA) {
      const { titles, comments } = waitingReports(run);
      console.log(
        `observed: A's ${run.featureKey}: ${titles.length} check-run update(s) and ${comments.length} comment update(s) said it waited for a Codex slot`,
      );
      expect(titles.length).toBeGreaterThan(0);
      expect(comments.length).toBeGreaterThan(0);
      expectFinal(world.github.checkRuns.get(Number(run.checkRunId)));
    }

    // B never waited, and never said so.
    const checkRunB = (r: { path: string }) => r.path.includes('/check-runs');
    const bReports = githubB.requests.filter(
      (r) => r.method !== 'GET' && (checkRunB(r) || r.path.includes('/comments')),
    );
    console.log(
      `observed: B: ${bReports.length} check-run and comment writes, ${bReports.filter((r) => waitingTitle(r) || waitingComment(r)).length} said it waited`,
    );
    expect(bReports.length).toBeGreaterThan(2);
    expect(bReports.filter((r) => waitingTitle(r) || waitingComment(r))).toEqual([]);
    expectFinal(githubB.checkRuns.get(Number(runB.checkRunId)));
    expect(githubB.pulls).toHaveLength(1);
    expect(githubB.unmatched).toEqual([]);
  }, 300_000);
});

function expectFinal(
  checkRun: { status: string; conclusion: string; output: { title: string } } | undefined,
) {
  expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success' });
  expect(checkRun?.output.title).not.toMatch(/waiting/i);
}
