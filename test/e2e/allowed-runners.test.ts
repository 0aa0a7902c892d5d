// `allowed_runners` in .github/speckit.yml narrows who may start runs beyond
// write access: logins, or members of an `org/team`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { waitFor } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';

/** The members of octo-org/spec-maintainers, as the fake GitHub answers them (changed by the tests). */
const teamMembers: string[] = [];
let world: DemoWorld;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 94,
    respond: ({ body }) => (isToolFollowUp(body) ? finalMessage('Done.') : applyPatchCall(PHASE_1_PATCH)),
    files: { '.github/speckit.yml': 'allowed_runners: [hubot, octo-org/spec-maintainers]\n' },
    teams: { 'octo-org/spec-maintainers': teamMembers },
  });
});

afterAll(async () => {
  await world?.stop();
});

describe('allowed_runners', () => {
  it('refuses a writer who is neither listed nor in a listed team, and starts nothing', async () => {
    const before = world.github.comments.size;
    await world.comment('/speckit run 001-demo');
    await waitFor(async () => world.github.comments.size > before, 20_000);
    const reply = [...world.github.comments.values()].at(-1).body;
    expect(reply).toContain(
      "@Codertocat this repository's `.github/speckit.yml` lets only `hubot`, `octo-org/spec-maintainers`",
    );
    expect(await world.harness.prisma.specWorkflowRun.count()).toBe(0);
    const asked = world.github.requests.some(
      (r) => r.path === '/orgs/octo-org/teams/spec-maintainers/memberships/Codertocat',
    );
    expect(asked).toBe(true);
  });

  it('lets a member of a listed team run', async () => {
    teamMembers.push('Codertocat');
    const run = await world.settled(await world.comment('/speckit run 001-demo'));
    expect(run.status).toBe('succeeded');
  });
});
