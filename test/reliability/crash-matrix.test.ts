// Crash at every point: a worker process is SIGKILLed at each moment of a run
// where work could be lost or done twice, a new worker process takes over, and
// every run still ends succeeded with exactly one commit and one PR, a final
// check run and comment, and attempt rows that tell what happened.
// (Killing mid-Codex is test/engine/crash-takeover.test.ts.)
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
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
import { INSTALLATION_TOKEN, startFakeGitHubServer } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.ts';

const INSTALLATION_ID = 90;

interface KillPoint {
  name: string;
  feature: string;
  /** The step whose attempt the kill interrupts. */
  step: string;
  github?: (method: string, path: string) => boolean;
  git?: (method: string, path: string) => boolean;
}

const branchOf = (feature: string) => `speckit/${feature}`;
const mentions = (p: string, feature: string) => decodeURIComponent(p).includes(branchOf(feature));

const KILL_POINTS: KillPoint[] = [
  {
    name: 'during discover',
    feature: '001-discover',
    step: 'discover',
    github: (m, p) => m === 'GET' && p.includes('state=all') && mentions(p, '001-discover'),
  },
  {
    name: 'after the commit, before the push',
    feature: '002-push',
    step: 'publish',
    git: (m, p) => m === 'POST' && p.endsWith('/git-receive-pack'),
  },
  {
    name: 'after the push, before the PR call',
    feature: '003-pr',
    step: 'publish',
    github: (m, p) => m === 'GET' && p.includes('state=open') && mentions(p, '003-pr'),
  },
  {
    name: 'after the PR, before finalize',
    feature: '004-finalize',
    step: 'publish',
    github: (m, p) => m === 'POST' && /\/issues\/\d+\/labels$/.test(p),
  },
];

let model: FakeModelServer;
let repo: BareRepo;
let gitServer: GitHttpServer;
let github: Awaited<ReturnType<typeof startFakeGitHubServer>>;
let harness: Harness;
let worker: WorkerProcess;
let armed: KillPoint | null = null;
interface Kill {
  at: number;
  point: string;
}
let killed: Kill | null = null;
/** The last kill (read through a function: TypeScript cannot see the fakes' callbacks set it). */
const lastKill = (): Kill | null => killed;

/** Called by the fakes on every request: the armed kill point fires once. */
function maybeKill(kind: 'github' | 'git', method: string, path: string): boolean {
  const point = armed;
  if (!point?.[kind]?.(method, path)) return false;
  armed = null;
  killed = { at: Date.now(), point: point.name };
  const victim = worker;
  victim.child.kill('SIGKILL');
  void victim.exited.then(() => {
    worker = spawnWorker(harness.env);
  });
  return true;
}

beforeAll(async () => {
  model = await startFakeModelServer(({ body }) =>
    isToolFollowUp(body) ? finalMessage('Implemented.') : applyPatchCall(PHASE_1_PATCH),
  );
  const files: Record<string, string> = { ...DEMO_FILES };
  for (const point of KILL_POINTS) files[`specs/${point.feature}/tasks.md`] = DEMO_TASKS;
  repo = await createBareRepo({ files, branch: 'master' });
  gitServer = await startGitHttpServer({
    projectRoot: path.dirname(repo.bareDir),
    token: INSTALLATION_TOKEN,
    onRequest: (method, p) => maybeKill('git', method, p),
  });
  github = await startFakeGitHubServer({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: INSTALLATION_ID,
    roles: { Codertocat: 'admin' },
    branchSha: (branch) => repo.readBranch(branch),
    onRequest: (method, p) => {
      maybeKill('github', method, p);
    },
  });
  harness = await startHarness({ modelUrl: model.url, workers: false, githubHost: github.host });
  worker = spawnWorker(harness.env);
});

afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await harness?.stop();
  await gitServer?.close();
  await github?.close();
  await model?.close();
  await removeTempDirs();
});

describe('a worker killed at every point of a run', () => {
  for (const point of KILL_POINTS) {
    it(`completes the run exactly once when killed ${point.name}`, async () => {
      killed = null;
      armed = point;
      const cloneUrl = `${gitServer.url}/${path.basename(repo.bareDir)}`;
      await deliverWebhook(harness.webhookUrl, {
        secret: WEBHOOK_SECRET,
        event: 'issue_comment',
        deliveryId: `crash-${point.feature}`,
        payload: commentPayload({
          body: `/speckit run ${point.feature}`,
          cloneUrl,
          installationId: INSTALLATION_ID,
        }),
      });
      const run = await waitFor(async () => {
        const found = await harness.prisma.specWorkflowRun.findFirst({
          where: { featureKey: point.feature },
        });
        return found && ['succeeded', 'failed', 'cancelled'].includes(found.status) ? found : null;
      }, 120_000);
      const kill = lastKill();
      expect(kill, 'the kill point was reached').not.toBeNull();
      const attempts = await harness.prisma.specWorkflowTaskState.findMany({
        where: { runId: run.id },
        orderBy: { id: 'asc' },
      });
      console.log(
        `injected: SIGKILL of the worker ${point.name}; observed: run ${run.status} ${((run.finishedAt?.getTime() ?? 0) - (kill?.at ?? 0)) / 1000} s after the kill; ` +
          attempts.map((a) => `${a.taskName}#${a.attempt}:${a.status}`).join(' '),
      );
      expect(run, `${run.errorStep}: ${run.errorMessage}`).toMatchObject({
        status: 'succeeded',
        conclusion: 'success',
      });

      // Exactly one commit and one PR for the phase.
      const log = await repo.log(branchOf(point.feature));
      expect(log.filter((c) => c.body.includes(`Speckit-Run: ${run.id}`))).toHaveLength(1);
      expect(github.pulls.filter((pr) => pr.head.ref === branchOf(point.feature))).toHaveLength(1);
      // The check run and the progress comment are final.
      const checkRuns = [...github.checkRuns.values()].filter((c) => c.external_id === run.id);
      expect(checkRuns.length).toBeGreaterThan(0);
      for (const checkRun of checkRuns)
        expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success' });
      expect(github.comments.get(Number(run.progressCommentId))?.body).toContain('is done');
      // The interrupted step shows the lost attempt, then the one that finished.
      const interrupted = attempts.filter((a) => a.taskName === point.step);
      expect(interrupted.map((a) => a.status)).toEqual(['failed', 'succeeded']);
      expect(interrupted[0]?.payload).toMatchObject({ error_code: 'worker_lost' });
      expect(attempts.every((a) => a.status !== 'running')).toBe(true);
    }, 150_000);
  }
});
