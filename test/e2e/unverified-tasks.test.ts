// Codex ticks a task whose file it never touched: the task stays pending and
// is listed as unverified; the task it did do is ticked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, scriptedResponder } from '../support/fake-model-server.ts';

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

let world: DemoWorld;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 84,
    respond: scriptedResponder([applyPatchCall(PATCH_TICKING_BOTH), finalMessage('All done!')]),
  });
});

afterAll(async () => {
  await world?.stop();
});

describe('a task Codex ticked without touching its file', () => {
  it('stays pending and is listed as unverified in the PR body', async () => {
    const run = await world.settled(await world.comment('/speckit run 001-demo'), 60_000);
    expect(run.status).toBe('succeeded');
    const tasks = (await world.repo.readTree('speckit/001-demo'))['specs/001-demo/tasks.md'] ?? '';
    expect(tasks).toMatch(/- \[[xX]\] T001 Create/); // Codex's own tick is kept
    expect(tasks).toContain('- [ ] T002 [P] Document');
    const body = world.github.pulls[0]?.body ?? '';
    expect(body).toContain('### Unverified');
    expect(body).toContain('- [ ] T002 Document the greeting');
    expect(body).toContain('- [x] T001 Create');
  });
});
