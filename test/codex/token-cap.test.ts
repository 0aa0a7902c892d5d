// CODEX_MAX_TOKENS with the real Codex CLI and the fake model server.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { CodexError } from '../../src/codex/codex-error.ts';
import { resolveCodexBin } from '../../src/codex/resolve-codex-bin.ts';
import { runCodex } from '../../src/codex/run-codex.ts';
import { isPermanent } from '../../src/errors.ts';
import { type CodexTestWorld, createCodexTestWorld } from '../support/codex-home.ts';
import {
  applyPatchCall,
  FAKE_MODEL,
  type FakeModelServer,
  finalMessage,
  scriptedResponder,
  startFakeModelServer,
} from '../support/fake-model-server.ts';

let server: FakeModelServer | undefined;
let world: CodexTestWorld | undefined;
afterEach(async () => {
  await server?.close();
  await world?.cleanup();
});

it('stops Codex over CODEX_MAX_TOKENS with codex_token_cap, the usage, and the changes left in place', async () => {
  server = await startFakeModelServer(
    scriptedResponder([
      applyPatchCall('*** Begin Patch\n*** Add File: partial.txt\n+half done\n*** End Patch\n'),
      finalMessage('Stopping here.', { inputTokens: 5000, outputTokens: 700 }),
    ]),
  );
  world = await createCodexTestWorld(server.url);

  const error = await runCodex({
    codexBin: resolveCodexBin(),
    cwd: world.repo,
    prompt: 'Implement phase 1.',
    env: world.env(),
    model: FAKE_MODEL,
    logPath: world.logPath,
    lastMessagePath: world.lastMessagePath,
    timeoutMs: 60_000,
    idleTimeoutMs: 30_000,
    maxTokens: 1000,
  }).then(
    () => null,
    (e: unknown) => e,
  );

  expect(error).toBeInstanceOf(CodexError);
  const capped = error as CodexError;
  expect(capped.code).toBe('codex_token_cap');
  expect(isPermanent(capped)).toBe(true);
  expect(capped.message).toContain('Codex used 5820 tokens, over the cap of 1000 (CODEX_MAX_TOKENS)');
  expect(capped.details.usage).toMatchObject({ inputTokens: 5100, outputTokens: 720, totalTokens: 5820 });
  expect(await readFile(join(world.repo, 'partial.txt'), 'utf8')).toBe('half done\n');
  expect(await readFile(world.logPath, 'utf8')).toContain('"type":"turn.completed"');
});
