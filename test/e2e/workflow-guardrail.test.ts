// The workflow guardrail holds for file names git quotes in a patch header
// (non-ASCII bytes, double quotes): Codex adds such workflows → apply refuses
// the diff naming them, nothing is committed or pushed, the patch is kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';

const WORKFLOWS = ['.github/workflows/é.yml', '.github/workflows/say "hi".yml'];

const PATCH = [
  '*** Begin Patch',
  '*** Add File: src/hello.txt',
  '+Hello, Spec Kit!',
  ...WORKFLOWS.flatMap((file) => [`*** Add File: ${file}`, '+on: push']),
  '*** End Patch',
  '',
].join('\n');

let world: DemoWorld;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 91,
    respond: ({ body }) => (isToolFollowUp(body) ? finalMessage('Done.') : applyPatchCall(PATCH)),
  });
});

afterAll(async () => {
  await world?.stop();
});

describe('the workflow guardrail', () => {
  it('refuses workflows whose names git quotes, naming them, and pushes nothing', async () => {
    const run = await world.run('001-demo');
    expect(run).toMatchObject({ status: 'failed', conclusion: 'failure', errorStep: 'apply' });
    for (const file of WORKFLOWS) expect(run.errorMessage).toContain(file);
    expect(run.errorMessage).toContain('allow it in .github/speckit.yml');
    expect(await world.repo.readBranch('speckit/001-demo')).toBeNull();
    const codex = await world.harness.prisma.stepOutput.findUnique({
      where: { runId_step: { runId: run.id, step: 'codex' } },
    });
    // Git wrote the header quoted: the case a header regex missed.
    expect(codex?.patch).toContain('diff --git "a/.github/workflows/\\303\\251.yml"');
  });
});
