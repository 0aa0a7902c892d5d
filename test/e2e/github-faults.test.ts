// GitHub misbehaving: failed progress reports never fail the run's work, and
// an installation that is gone fails the run at once with what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';

let world: DemoWorld;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 87,
    respond: ({ body }) => (isToolFollowUp(body) ? finalMessage('Done.') : applyPatchCall(PHASE_1_PATCH)),
    files: { 'specs/002-gone/tasks.md': DEMO_TASKS, 'specs/003-limited/tasks.md': DEMO_TASKS },
  });
});

afterAll(async () => {
  await world?.stop();
});

describe('GitHub faults', () => {
  it('keeps the run going when progress reports fail, and settles the check run in the end', async () => {
    const { github, harness } = world;
    // Three 502s on check-run updates: the in-progress reports are lost,
    // finalize's report is retried until it lands.
    github.injectFault({ method: 'PATCH', path: /\/check-runs\/\d+$/, status: 502, times: 3 });
    const result = await world.settled(await world.comment('/speckit run 001-demo'));
    console.log(`injected ${github.faultsServed.length} × 502 on PATCH check-runs`);
    expect(github.faultsServed.length).toBe(3);
    expect(result).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    const checkRun = [...github.checkRuns.values()].find((c) => c.external_id === result.id);
    expect(checkRun).toMatchObject({ status: 'completed', conclusion: 'success' });
    const work = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: result.id, taskName: { in: ['codex', 'apply', 'publish'] } },
    });
    expect(work.every((a) => a.status === 'succeeded')).toBe(true);
  });

  it('waits out secondary rate limits (403 with retry-after) and retries, without duplicates', async () => {
    const { github } = world;
    const served = github.faultsServed.length;
    const limit = {
      status: 403,
      times: 1,
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      headers: { 'retry-after': '1' },
    };
    github.injectFault({ ...limit, method: 'POST', path: /\/check-runs$/ });
    github.injectFault({ ...limit, method: 'PATCH', path: /\/issues\/comments\/\d+$/ });
    github.injectFault({ ...limit, method: 'POST', path: /\/pulls$/ });
    const result = await world.settled(await world.comment('/speckit run 003-limited'));
    console.log(
      `injected ${github.faultsServed.length - served} × 403 secondary rate limit (retry-after: 1)`,
    );
    expect(github.faultsServed.length - served).toBe(3);
    expect(result).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    expect(github.pulls.filter((pr) => pr.head.ref === 'speckit/003-limited')).toHaveLength(1);
    const checkRuns = [...github.checkRuns.values()].filter((c) => c.external_id === result.id);
    expect(checkRuns.map((c) => c.status)).toEqual(['completed', 'completed']);
    // No step had to be retried: the request itself was.
    const attempts = await world.harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: result.id },
    });
    expect(attempts.every((a) => a.attempt === 1 && a.status === 'succeeded')).toBe(true);
  });

  it('fails at once with remediation when GitHub refuses the installation token', async () => {
    const { github, harness } = world;
    // Probot still holds the token it cached for API calls during the first
    // test; the fresh token discover asks for, for git, is refused as for an
    // uninstalled app.
    const served = github.faultsServed.length;
    github.injectFault({ method: 'POST', path: /\/access_tokens$/, status: 404, times: 100 });
    const result = await world.settled(await world.comment('/speckit run 002-gone'));
    console.log(`injected ${github.faultsServed.length - served} × 404 on the token call`);
    expect(result).toMatchObject({ status: 'failed', conclusion: 'failure', errorCode: 'installation_gone' });
    expect(result.errorMessage).toContain('Reinstall the app');
    const attempts = await harness.prisma.specWorkflowTaskState.findMany({
      where: { runId: result.id, taskName: 'discover' },
    });
    expect(attempts.map((a) => a.status)).toEqual(['failed']);
  });
});
