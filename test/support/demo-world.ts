// The setting most end-to-end tests share: a fake model, a bare repository
// with the demo feature, GitHub answered by nock, and the whole app in this
// process — plus the two things every test does: trigger a run by comment
// and wait for it to settle.
import type { Run } from '../../src/chain/runs.ts';
import { DEMO_FILES } from '../fixtures/demo-repo.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from './app-harness.ts';
import { type FakeModelServer, type FakeResponder, startFakeModelServer } from './fake-model-server.ts';
import { type BareRepo, createBareRepo, removeTempDirs } from './git-fixtures.ts';
import { mockGitHub } from './github-api.ts';
import { repoFileReaders } from './repo-files.ts';
import { commentPayload, deliverWebhook } from './webhooks.ts';

export interface DemoWorld {
  model: FakeModelServer;
  repo: BareRepo;
  github: ReturnType<typeof mockGitHub>;
  harness: Harness;
  /** Comments `body` (default `/speckit run <feature>`) as Codertocat; returns the delivery id. */
  comment(body: string, deliveryId?: string): Promise<string>;
  /** The run a delivery started, once it has ended. */
  settled(deliveryId: string, timeoutMs?: number): Promise<Run>;
  /** `/speckit run <feature>` until the run ends; a failure's step and message are printed. */
  run(feature: string): Promise<Run>;
  stop(): Promise<void>;
}

let deliveries = 0;

export async function startDemoWorld(options: {
  installationId: number;
  respond: FakeResponder;
  /** Files besides the demo feature's. */
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** Collaborator roles (default: Codertocat is an admin). */
  roles?: Record<string, string>;
  teams?: Record<string, readonly string[]>;
  /** Sees every GitHub request before it is answered (synchronously: a test's "meanwhile" moment). */
  onGitHubRequest?: (method: string, path: string) => void;
}): Promise<DemoWorld> {
  const model = await startFakeModelServer(options.respond);
  const repo = await createBareRepo({ files: { ...DEMO_FILES, ...options.files }, branch: 'master' });
  const github = mockGitHub({
    owner: 'Codertocat',
    name: 'Hello-World',
    installationId: options.installationId,
    roles: options.roles ?? { Codertocat: 'admin' },
    ...(options.teams ? { teams: options.teams } : {}),
    ...(options.onGitHubRequest ? { onRequest: options.onGitHubRequest } : {}),
    branchSha: (branch) => repo.readBranch(branch),
    ...repoFileReaders(repo),
  });
  const harness = await startHarness({ modelUrl: model.url, ...(options.env ? { env: options.env } : {}) });
  const world: DemoWorld = {
    model,
    repo,
    github,
    harness,
    async comment(body, deliveryId = `world-${++deliveries}`) {
      await deliverWebhook(harness.webhookUrl, {
        secret: WEBHOOK_SECRET,
        event: 'issue_comment',
        deliveryId,
        payload: commentPayload({ body, cloneUrl: repo.cloneUrl, installationId: options.installationId }),
      });
      return deliveryId;
    },
    settled(deliveryId, timeoutMs = 90_000) {
      return waitFor(async () => {
        const run = await harness.prisma.specWorkflowRun.findFirst({
          where: { triggerDeliveryId: deliveryId },
        });
        return run && ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : null;
      }, timeoutMs);
    },
    async run(feature) {
      const found = await world.settled(await world.comment(`/speckit run ${feature}`));
      if (found.status === 'failed')
        console.log(`${feature} failed at ${found.errorStep}: ${found.errorMessage}`);
      return found;
    },
    async stop() {
      await harness.stop();
      github.done();
      await model.close();
      await removeTempDirs();
    },
  };
  return world;
}
