// The real native Codex CLI against the fake model server.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chown, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CodexError } from '../../src/codex/codex-error.ts';
import type { CodexEvent } from '../../src/codex/codex-events.ts';
import { resolveCodexBin } from '../../src/codex/resolve-codex-bin.ts';
import { type CodexRunOptions, runCodex } from '../../src/codex/run-codex.ts';
import { isPermanent } from '../../src/errors.ts';
import { type CodexTestWorld, createCodexTestWorld } from '../support/codex-home.ts';
import {
  applyPatchCall,
  execCommandCall,
  FAKE_MODEL,
  type FakeModelServer,
  type FakeTurn,
  finalMessage,
  hang,
  httpError,
  isToolFollowUp,
  responseFailed,
  scriptedResponder,
  startFakeModelServer,
  toolOutputs,
} from '../support/fake-model-server.ts';

const codexBin = resolveCodexBin();

let server: FakeModelServer | undefined;
let world: CodexTestWorld | undefined;

afterEach(async () => {
  await server?.close();
  await world?.cleanup();
  server = undefined;
  world = undefined;
});

async function setUp(turns: FakeTurn[]) {
  server = await startFakeModelServer(scriptedResponder(turns));
  world = await createCodexTestWorld(server.url);
  return { server, world };
}

function options(w: CodexTestWorld, extra: Partial<CodexRunOptions> = {}): CodexRunOptions {
  return {
    codexBin,
    cwd: w.repo,
    prompt: 'Implement phase 1.',
    env: w.env(),
    model: FAKE_MODEL,
    logPath: w.logPath,
    lastMessagePath: w.lastMessagePath,
    timeoutMs: 60_000,
    idleTimeoutMs: 30_000,
    ...extra,
  };
}

async function logLines(path: string): Promise<unknown[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

/** Live (non-zombie) processes matching a predicate on (pgid, cmdline). */
function liveProcesses(match: (pgid: number, cmdline: string) => boolean): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      const pgid = Number(fields[2]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (state !== 'Z' && state !== 'X' && match(pgid, cmdline)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function captureError(promise: Promise<unknown>): Promise<CodexError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CodexError);
    return error as CodexError;
  }
  throw new Error('expected runCodex to fail');
}

describe('runCodex with the real Codex CLI', () => {
  it('applies a patch that adds a file and updates README.md, and reports what it did', async () => {
    const { server, world } = await setUp([
      applyPatchCall(
        '*** Begin Patch\n*** Add File: docs/hello.txt\n+hello\n*** Update File: README.md\n@@\n-old\n+new\n*** End Patch\n',
      ),
      finalMessage('Added docs/hello.txt and updated README.md.', {
        inputTokens: 300,
        cachedInputTokens: 100,
      }),
    ]);
    const events: CodexEvent[] = [];

    const result = await runCodex(options(world, { onEvent: (event) => events.push(event) }));

    expect(await readFile(join(world.repo, 'docs/hello.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(world.repo, 'README.md'), 'utf8')).toBe('new\n');
    expect(result.exitCode).toBe(0);
    expect(result.threadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.lastMessage).toBe('Added docs/hello.txt and updated README.md.');
    expect(result.filesChanged.sort()).toEqual(['README.md', 'docs/hello.txt']);
    expect(result.commands).toEqual([]);
    // 100 input / 20 output for the patch turn, 300 (100 cached) / 20 for the final one.
    expect(result.usage).toEqual({
      inputTokens: 400,
      cachedInputTokens: 100,
      outputTokens: 40,
      reasoningTokens: 0,
      totalTokens: 440,
    });

    const fileChanges = events.filter((e) => e.type === 'item.completed' && e.item.type === 'file_change');
    expect(fileChanges).toHaveLength(1);
    expect(events[0]).toEqual({ type: 'thread.started', threadId: result.threadId });
    expect(events.at(-1)?.type).toBe('turn.completed');

    const lines = await logLines(world.logPath);
    expect(lines).toHaveLength(events.length);
    expect(lines.map((line) => (line as { type: string }).type)).toEqual(events.map((e) => e.type));

    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]?.body.model).toBe(FAKE_MODEL);
    expect(isToolFollowUp(server.requests[0]?.body)).toBe(false);
    expect(isToolFollowUp(server.requests[1]?.body)).toBe(true);
    expect(toolOutputs(server.requests[1]?.body)[0]?.output).toContain('A docs/hello.txt');
  });

  it('returns no changed files and the last message when Codex changes nothing', async () => {
    const { server, world } = await setUp([finalMessage('Everything in this phase is already done.')]);

    // A prompt that starts with '-' must reach the model as the prompt, not as a flag.
    const result = await runCodex(options(world, { prompt: '--- Phase 2: nothing to do' }));

    expect(result.filesChanged).toEqual([]);
    expect(result.commands).toEqual([]);
    expect(result.lastMessage).toBe('Everything in this phase is already done.');
    expect(await readFile(world.lastMessagePath, 'utf8')).toBe('Everything in this phase is already done.');
    expect(JSON.stringify(server.requests[0]?.body.input)).toContain('--- Phase 2: nothing to do');
  });

  it('fails with codex_failed quoting Codex when the provider answers HTTP 500', async () => {
    const { world } = await setUp([httpError(500, 'the model server broke')]);

    const error = await captureError(runCodex(options(world)));

    expect(error.code).toBe('codex_failed');
    expect(isPermanent(error)).toBe(false);
    // Codex 0.169 replaces a 500's body with its own text; that text is what we quote.
    expect(error.message).toMatch(/^Codex failed: We.re currently experiencing high demand/);
    expect(error.details.exitCode).toBe(1);
    const lines = (await logLines(world.logPath)) as { type: string }[];
    expect(lines.map((line) => line.type)).toEqual([
      'thread.started',
      'turn.started',
      'error',
      'turn.failed',
    ]);
  });

  it("surfaces the provider's own error text from a failed response", async () => {
    const { world } = await setUp([responseFailed('the context window is full')]);

    const error = await captureError(runCodex(options(world)));

    expect(error.code).toBe('codex_failed');
    expect(error.message).toContain('the context window is full');
  });

  it('fails permanently with codex_auth and a remedy when the provider rejects the API key', async () => {
    const { world } = await setUp([httpError(401, 'Incorrect API key provided', 'invalid_api_key')]);

    const error = await captureError(runCodex(options(world)));

    expect(error.code).toBe('codex_auth');
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toContain('401 Unauthorized: Incorrect API key provided');
    expect(error.message).toContain('codex login');
    expect(error.message).toContain('OPENAI_API_KEY');
  });

  it('cancels a hanging run through the AbortSignal and leaves no process behind within 2 s', async () => {
    const marker = `sleep ${600 + Math.floor(Math.random() * 300)}`;
    const { server, world } = await setUp([execCommandCall(marker, { yieldTimeMs: 250 }), hang()]);
    const controller = new AbortController();
    let pid: number | undefined;
    const run = runCodex(
      options(world, {
        signal: controller.signal,
        onSpawn: (spawned) => {
          pid = spawned;
        },
      }),
    );
    const failed = captureError(run);
    await waitFor(() => server.requests.length === 2, 30_000);
    expect(liveProcesses((_pgid, cmd) => cmd.includes(marker))).not.toEqual([]);
    expect(pid).toBeDefined();
    const codexPid = pid as number;
    expect(liveProcesses((pgid) => pgid === codexPid).length).toBeGreaterThan(0);

    const abortedAt = Date.now();
    controller.abort(new Error('user cancelled'));
    const error = await failed;
    await waitFor(
      () =>
        liveProcesses((pgid) => pgid === codexPid).length === 0 &&
        liveProcesses((_pgid, cmd) => cmd.includes(marker)).length === 0,
      Math.max(0, 2000 - (Date.now() - abortedAt)),
    );
    const elapsed = Date.now() - abortedAt;
    console.log(`cancel: no Codex process left ${elapsed} ms after abort`);

    expect(error.code).toBe('cancelled');
    expect(elapsed).toBeLessThan(2000);
    const lines = (await logLines(world.logPath)) as { type: string }[];
    expect(lines[0]?.type).toBe('thread.started');
  });

  it('leaves no Codex process behind when the worker process itself is killed', async () => {
    const marker = `sleep ${900 + Math.floor(Math.random() * 300)}`;
    const { server, world } = await setUp([execCommandCall(marker, { yieldTimeMs: 250 }), hang()]);
    const { onEvent: _onEvent, ...serializable } = options(world);
    const worker = execa(
      process.execPath,
      [join(import.meta.dirname, 'fixtures/run-codex-child.ts'), JSON.stringify(serializable)],
      {
        reject: false,
        buffer: false,
      },
    );
    let codexPid: number | undefined;
    worker.stdout?.on('data', (chunk: Buffer) => {
      const match = /pid (\d+)/.exec(chunk.toString());
      if (match) codexPid = Number(match[1]);
    });
    await waitFor(() => server.requests.length === 2 && codexPid !== undefined, 30_000);
    const markerPids = liveProcesses((_pgid, cmd) => cmd.includes(marker));
    expect(markerPids).not.toEqual([]);

    const killedAt = Date.now();
    worker.kill('SIGKILL');
    await worker;
    const pid = codexPid as number;
    await waitFor(
      () =>
        liveProcesses((pgid) => pgid === pid).length === 0 &&
        liveProcesses((_pgid, cmd) => cmd.includes(marker)).length === 0,
      2000,
    );
    console.log(`worker killed: no Codex process left ${Date.now() - killedAt} ms later`);
  });

  it('stops Codex with codex_idle_timeout naming the last activity when the model goes silent', async () => {
    const { world } = await setUp([hang()]);
    const startedAt = Date.now();

    const error = await captureError(runCodex(options(world, { idleTimeoutMs: 2000 })));

    console.log(`idle timeout: failed after ${Date.now() - startedAt} ms (idle limit 2000 ms)`);
    expect(error.code).toBe('codex_idle_timeout');
    expect(error.message).toContain('printed nothing for 2 s');
    expect(error.message).toContain('last activity was turn.started');
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it('stops Codex with codex_timeout when the whole run takes too long', async () => {
    const { world } = await setUp([hang()]);

    const error = await captureError(runCodex(options(world, { timeoutMs: 1500 })));

    expect(error.code).toBe('codex_timeout');
    expect(error.message).toContain('did not finish within 1.5 s');
  });

  it.runIf(process.getuid?.() === 0)('runs Codex and its commands as another user with runAs', async () => {
    const { world } = await setUp([
      execCommandCall('id -u; id -g; id -G'),
      applyPatchCall('*** Begin Patch\n*** Add File: owned.txt\n+mine\n*** End Patch\n'),
      finalMessage('Done as nobody.'),
    ]);
    const nobody = { uid: 65534, gid: 65534 };
    await execa('chown', ['-R', `${nobody.uid}:${nobody.gid}`, world.base]);
    await chown(world.base, nobody.uid, nobody.gid);
    const events: CodexEvent[] = [];

    const result = await runCodex(options(world, { runAs: nobody, onEvent: (e) => events.push(e) }));

    const command = events.find((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
    const output =
      command?.type === 'item.completed' && command.item.type === 'command_execution'
        ? command.item.aggregatedOutput
        : '';
    expect(output.trim().split('\n')).toEqual(['65534', '65534', '65534']);
    expect(statSync(join(world.repo, 'owned.txt')).uid).toBe(nobody.uid);
    expect(result.lastMessage).toBe('Done as nobody.');
    expect(statSync(world.logPath).uid).toBe(0);
  });

  it("gives Codex's commands none of the app's secrets", async () => {
    const { server, world } = await setUp([execCommandCall('env'), finalMessage('Printed the environment.')]);
    const appEnv: NodeJS.ProcessEnv = {
      ...process.env,
      PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----secret-private-key',
      WEBHOOK_SECRET: 'secret-webhook',
      DATABASE_URL: 'postgres://user:secret-db-password@localhost/db',
      GITHUB_TOKEN: 'ghs_secretinstallationtoken',
      SPECKIT_SOME_SECRET: 'secret-other',
    };
    const events: CodexEvent[] = [];

    const result = await runCodex(options(world, { env: world.env(appEnv), onEvent: (e) => events.push(e) }));

    const command = events.find((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
    expect(command?.type === 'item.completed' && command.item.type === 'command_execution').toBe(true);
    const output =
      command?.type === 'item.completed' && command.item.type === 'command_execution'
        ? command.item.aggregatedOutput
        : '';
    expect(output).toContain(`HOME=${world.home}`);
    expect(output).toContain(`CODEX_HOME=${world.codexHome}`);
    for (const secret of [
      'secret-private-key',
      'secret-webhook',
      'secret-db-password',
      'ghs_secret',
      'secret-other',
    ]) {
      expect(output).not.toContain(secret);
      expect(JSON.stringify(server.requests.map((r) => r.body))).not.toContain(secret);
    }
    expect(output).not.toMatch(/^(PRIVATE_KEY|WEBHOOK_SECRET|DATABASE_URL|GITHUB_TOKEN)=/m);
    expect(result.commands).toHaveLength(1);
    expect(result.commands[0]).toContain('env');
  });
});
