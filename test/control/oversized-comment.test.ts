// An oversized comment is refused with a message and starts nothing: a
// `/speckit` command line over the limit gets a reply naming the limit and
// starts no run; the rest of a long comment is free text and harmless.
// (Oversized webhook bodies: test/http-server.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_COMMAND_LENGTH } from '../../src/commands/parse-command.ts';
import { DEMO_TASKS } from '../fixtures/demo-repo.ts';
import { type ControlHarness, commentAndAdmit, settleActiveRuns, startControlHarness } from './support.ts';

const INSTALLATION_ID = 741;
let h: ControlHarness;

beforeAll(async () => {
  h = await startControlHarness({
    installationId: INSTALLATION_ID,
    readFile: async (ref, path) =>
      ref === 'master' && path === 'specs/001-demo/tasks.md' ? DEMO_TASKS : null,
  });
});

afterAll(async () => {
  await h?.stop();
});

describe('an oversized comment', () => {
  it('refuses a command line over the limit with the limit named, and starts no run', async () => {
    const line = `/speckit run 001-demo ${'--all '.repeat(200)}`;
    const result = await commentAndAdmit(h, line, { installationId: INSTALLATION_ID, sender: 'writer' });
    console.log(
      `injected: a ${line.trim().length}-character command line; observed: run ${result.runId ?? 'none'}, reply "${result.reply?.split('\n')[0]}"`,
    );
    expect(result.runId).toBeNull();
    expect(result.reply).toContain(`is ${line.trim().length} characters long`);
    expect(result.reply).toContain(`at most ${MAX_COMMAND_LENGTH}`);
    expect(await h.prisma.specWorkflowRun.count()).toBe(0);
  });

  it('reads a short command on the first line of a very long comment, and nothing else', async () => {
    const body = `/speckit run 001-demo\n${'x'.repeat(65_000)}`;
    const result = await commentAndAdmit(h, body, { installationId: INSTALLATION_ID, sender: 'writer' });
    console.log(
      `injected: a ${body.length}-character comment with the command on its first line; observed: run ${result.runId}`,
    );
    expect(result.runId).not.toBeNull();
    await settleActiveRuns(h.prisma);
  });
});
