// The workspace-write sandbox contains what the model's commands do: a write
// outside the workspace fails (also to /tmp, which the sandbox would allow by
// default: the app excludes it and gives the child a TMPDIR of its own), the network is off (a canary HTTP server on
// 127.0.0.1 sees nothing), and the run still succeeds with a diff of the
// workspace alone, which passes the guardrails and is committed. The real
// Codex CLI runs the commands; the fake model server asks for them.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASE_1_PATCH } from '../fixtures/demo-repo.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, execCommandCall, finalMessage, toolOutputs } from '../support/fake-model-server.ts';

const outside = path.join(tmpdir(), `speckit-sandbox-escape-${process.pid}.txt`);
const canaryHits: string[] = [];
const canary = createServer((request, response) => {
  canaryHits.push(`${request.method} ${request.url}`);
  response.end('reached');
});
let world: DemoWorld;
let commandOutput = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}/escape`;
  const commands = [
    `echo escaped > ${outside} && echo WRITE-OUTSIDE-OK || echo WRITE-OUTSIDE-REFUSED`,
    `(curl -s -m 3 ${canaryUrl} || node -e "fetch('${canaryUrl}').then(() => console.log('NET-OK'), () => process.exit(7))") && echo NET-OK || echo NET-REFUSED`,
    'echo inside > sandbox-note.txt && echo WRITE-INSIDE-OK',
    // Temp files still work: TMPDIR is the attempt's own directory, outside the diff.
    'mktemp > /dev/null && echo TMPDIR-OK || echo TMPDIR-REFUSED',
  ].join('; ');
  world = await startDemoWorld({
    installationId: 95,
    respond: ({ body, index }) => {
      if (index === 0) return execCommandCall(commands);
      if (index === 1) {
        commandOutput = toolOutputs(body).at(-1)?.output ?? '';
        return applyPatchCall(PHASE_1_PATCH);
      }
      return finalMessage('Implemented Phase 1.');
    },
  });
});

afterAll(async () => {
  await world?.stop();
  await new Promise((resolve) => canary.close(resolve));
});

describe('the Codex sandbox', () => {
  it('refuses writes outside the workspace and the network, and the run goes on with the workspace diff', async () => {
    const run = await world.settled(await world.comment('/speckit run 001-demo'));
    console.log(`the model's command printed: ${JSON.stringify(commandOutput.slice(-400))}`);
    console.log(
      `file outside the workspace exists: ${existsSync(outside)}; canary requests: ${canaryHits.length}`,
    );
    expect(commandOutput).toContain('WRITE-OUTSIDE-REFUSED');
    expect(commandOutput).toContain('NET-REFUSED');
    expect(commandOutput).toContain('WRITE-INSIDE-OK');
    expect(commandOutput).toContain('TMPDIR-OK');
    expect(existsSync(outside)).toBe(false);
    expect(canaryHits).toEqual([]);
    expect(run).toMatchObject({ status: 'succeeded', conclusion: 'success' });
    // What the command wrote inside the workspace is part of the phase commit, through the guardrails.
    const tree = await world.repo.readTree('speckit/001-demo');
    expect(tree['sandbox-note.txt']?.trim()).toBe('inside');
    expect(Object.keys(tree).some((file) => file.includes('escape'))).toBe(false);
  });
});
