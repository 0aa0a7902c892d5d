// The repository's setup command runs before Codex and its verify command
// after it (.github/speckit.yml); their output is an artifact, and a failing
// verify fails the run (or warns, per the file) with the output's end quoted.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS, PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';

const config = (verify: string, onFailure = 'fail') =>
  [
    'commands:',
    '  setup: mkdir -p .cache && echo ready > .cache/setup.txt',
    `  verify: ${JSON.stringify(verify)}`,
    `  on_verify_failure: ${onFailure}`,
    '',
  ].join('\n');

let world: DemoWorld;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 93,
    respond: ({ body }) => (isToolFollowUp(body) ? finalMessage('Done.') : applyPatchCall(PHASE_1_PATCH)),
    files: {
      '.gitignore': '.cache/\n',
      '.github/speckit.yml': config('test -f src/hello.txt && cat .cache/setup.txt'),
      'specs/002-fails/tasks.md': DEMO_TASKS,
      'specs/003-warns/tasks.md': DEMO_TASKS,
    },
  });
});

afterAll(async () => {
  await world?.stop();
});

async function artifact(runId: string, type: string): Promise<string> {
  const row = await world.harness.prisma.workflowArtifact.findFirstOrThrow({
    where: { runId, artifactType: type },
  });
  return readFile(path.join(world.harness.root, 'artifacts', row.path), 'utf8');
}

describe('setup and verify commands', () => {
  it('runs setup before Codex and verify after it, keeping their output', async () => {
    const run = await world.settled(await world.comment('/speckit run 001-demo'));
    expect(run, `${run.errorStep}: ${run.errorMessage}`).toMatchObject({ status: 'succeeded' });
    expect(run.summary).toContain('Verify passed');
    expect(await artifact(run.id, 'setup_log')).toContain('[exit 0]');
    // verify saw Codex's file and setup's output.
    expect(await artifact(run.id, 'verify_log')).toContain('ready\n[exit 0]');
    // What setup made (ignored by .gitignore) stays out of the commit.
    const tree = await world.repo.readTree('speckit/001-demo');
    expect(Object.keys(tree).some((file) => file.startsWith('.cache/'))).toBe(false);
  });

  it('fails the run when verify fails, quoting its output', async () => {
    await world.repo.commitFiles('master', { '.github/speckit.yml': config('echo boom >&2; exit 3') });
    const run = await world.settled(await world.comment('/speckit run 002-fails'));
    expect(run).toMatchObject({ status: 'failed', errorStep: 'codex' });
    expect(run.errorMessage).toContain('The verify command `echo boom >&2; exit 3` failed (exit 3)');
    expect(run.errorMessage).toContain('boom');
    expect(await world.repo.readBranch('speckit/002-fails')).toBeNull();
  });

  it('only warns when the repository says so', async () => {
    await world.repo.commitFiles('master', { '.github/speckit.yml': config('exit 1', 'warn') });
    const run = await world.settled(await world.comment('/speckit run 003-warns'));
    expect(run.status).toBe('succeeded');
    expect(run.summary).toContain('⚠️ The verify command `exit 1` failed (exit 1)');
  });
});
