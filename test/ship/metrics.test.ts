// /metrics after a real run through the app harness (webhook → chain → PR),
// and /readyz. Recorded series (step durations, tokens, run outcomes) are
// fed through the metrics API, as the chain's workers do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeLabel } from '../../src/metrics/github-metrics.ts';
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
import { mockGitHub } from '../support/github-api.ts';
import { commentPayload, deliverWebhook } from '../support/webhooks.ts';

const INSTALLATION_ID = 5151;
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

function series(body: string, name: string): string[] {
  return body.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('GET /metrics', () => {
  it('exposes runs, steps, queues, tokens, GitHub calls and webhook latency after a run', async () => {
    const response = await deliverWebhook(harness.webhookUrl, {
      secret: WEBHOOK_SECRET,
      event: 'issue_comment',
      deliveryId: 'delivery-metrics-1',
      payload: commentPayload({
        body: '/speckit run 001-demo',
        cloneUrl: repo.cloneUrl,
        installationId: INSTALLATION_ID,
      }),
    });
    expect(response.status).toBe(200);
    const run = await waitFor(async () => {
      const found = await harness.prisma.specWorkflowRun.findFirst({ where: { featureKey: '001-demo' } });
      return found?.finishedAt ? found : null;
    }, 90_000);

    // The workers recorded step durations, the settled run and Codex's tokens themselves.

    const scrape = await fetch(`${harness.app.url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const body = await scrape.text();

    // Runs by status and conclusion, read from the database at scrape time.
    expect(series(body, 'speckit_runs')).toContain(
      `speckit_runs{status="${run.status}",conclusion="${run.conclusion ?? ''}"} 1`,
    );
    expect(series(body, 'speckit_runs_finished_total')).toContain(
      `speckit_runs_finished_total{status="${run.status}",conclusion="${run.conclusion ?? ''}"} 1`,
    );
    // Step duration histogram.
    expect(body).toContain('# TYPE speckit_step_duration_seconds histogram');
    for (const step of ['intake', 'discover', 'codex', 'apply', 'publish', 'finalize']) {
      expect(body).toContain(`speckit_step_duration_seconds_count{step="${step}",outcome="succeeded"} 1`);
    }
    // Queue depth and age for every step queue.
    for (const step of ['intake', 'discover', 'codex', 'apply', 'publish', 'finalize']) {
      expect(body).toContain(`speckit_queue_jobs{queue="speckit.${step}",state="ready"}`);
      expect(body).toContain(`speckit_queue_oldest_job_age_seconds{queue="speckit.${step}"}`);
    }
    // Codex tokens by type.
    expect(body).toMatch(/speckit_codex_tokens_total\{type="input"\} [1-9]\d*/);
    expect(body).toMatch(/speckit_codex_tokens_total\{type="output"\} [1-9]\d*/);
    // GitHub calls by route template and status, counted by the Octokit plugin.
    const calls = series(body, 'speckit_github_requests_total');
    expect(calls).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^speckit_github_requests_total\{route="POST \/app\/installations\/\{installation_id\}\/access_tokens",status="201"\} \d+$/,
        ),
        expect.stringMatching(
          /^speckit_github_requests_total\{route="POST \/repos\/\{owner\}\/\{repo\}\/check-runs",status="20\d"\} \d+$/,
        ),
      ]),
    );
    expect(calls.every((line) => !line.includes('Codertocat'))).toBe(true);
    // Webhook latency, by status.
    expect(body).toMatch(/speckit_webhook_latency_seconds_count\{status="200"\} [1-9]/);
    // prom-client's process metrics.
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(series(body, 'speckit_metrics_collect_errors_total')).toEqual([]);
  });

  it('GET /readyz says ready once migrations are applied and queues and workers started', async () => {
    const response = await fetch(`${harness.app.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
  });
});

describe('routeLabel', () => {
  it('keeps route templates and folds absolute URLs into bounded labels', () => {
    expect(routeLabel({ method: 'get', url: '/repos/{owner}/{repo}/pulls' })).toBe(
      'GET /repos/{owner}/{repo}/pulls',
    );
    expect(
      routeLabel({
        method: 'GET',
        url: 'https://ghe.example.com/api/v3/repos/octo/hello/pulls/12/files?page=2',
      }),
    ).toBe('GET /repos/{owner}/{repo}/pulls/{id}/files');
  });
});
