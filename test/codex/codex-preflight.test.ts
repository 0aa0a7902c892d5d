// The preflight against the real Codex CLI (local) and the stub (cloud).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCodexEnv } from '../../src/codex/codex-env.ts';
import { checkCodexCredentials, readModelProvider } from '../../src/codex/codex-preflight.ts';
import { resolveCodexBin } from '../../src/codex/resolve-codex-bin.ts';
import { FAKE_API_KEY_ENV, writeCodexHome } from '../support/fake-model-server.ts';
import { LOGIN_API_KEY, LOGIN_CHATGPT, LOGIN_NONE } from './fixtures/cloud-transcripts.ts';
import { createCodexStub } from './fixtures/codex-stub.ts';

const codexBin = resolveCodexBin();
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function codexHome(): Promise<string> {
  // Not under /tmp: Codex refuses to create its helper links in a temporary directory and warns.
  const dir = await mkdtemp(join(tmpdir(), 'speckit-preflight-'));
  dirs.push(dir);
  return dir;
}

function env(home: string, extra: Record<string, string> = {}, passthrough: string[] = []) {
  return buildCodexEnv({ PATH: process.env.PATH, ...extra }, { codexHome: home, home, passthrough });
}

describe('checkCodexCredentials (local, real Codex CLI)', () => {
  it('fails with the login remedy when CODEX_HOME holds no credentials and no key is set', async () => {
    const home = await codexHome();

    const check = await checkCodexCredentials({ mode: 'local', codexBin, env: env(home) });

    expect(check).toMatchObject({ ok: false, status: 'missing' });
    expect(check.notes).toContain('login status: Not logged in');
    expect(check.remedy).toContain('codex login');
    expect(check.remedy).toContain('OPENAI_API_KEY');
  });

  it('counts a config.toml provider whose env_key is passed through as credentials', async () => {
    const home = await codexHome();
    await writeCodexHome(home, 'http://127.0.0.1:9/v1');

    const ok = await checkCodexCredentials({
      mode: 'local',
      codexBin,
      env: env(home, { [FAKE_API_KEY_ENV]: 'k' }, [FAKE_API_KEY_ENV]),
    });
    const missing = await checkCodexCredentials({ mode: 'local', codexBin, env: env(home) });

    expect(ok).toMatchObject({ ok: true, status: 'ok' });
    expect(ok.notes).toBe(`local: config.toml provider "local" reads ${FAKE_API_KEY_ENV}, which is set`);
    expect(missing).toMatchObject({ ok: false, status: 'missing' });
    expect(missing.remedy).toContain(
      `Set ${FAKE_API_KEY_ENV} for the worker and list it in CODEX_ENV_PASSTHROUGH`,
    );
  });

  it('accepts an API key login and an API key variable, and never records the key', async () => {
    const home = await codexHome();
    const withVar = await checkCodexCredentials({
      mode: 'local',
      codexBin,
      env: env(home, { OPENAI_API_KEY: 'sk-secret-value-1234567890' }),
    });
    expect(withVar).toMatchObject({ ok: true, notes: 'local: OPENAI_API_KEY is set' });

    const stub = await createCodexStub({ login: [LOGIN_API_KEY] });
    dirs.push(stub.dir);
    const login = await checkCodexCredentials({ mode: 'local', codexBin: stub.bin, env: env(home) });
    expect(login.ok).toBe(true);
    expect(login.notes).toBe('local: API key configured - sk-test-***');
  });

  it('reads the selected provider and its env_key from config.toml', () => {
    const toml = [
      'model = "gpt-5.5"',
      'model_provider = "azure"',
      '',
      '[model_providers.openrouter]',
      'env_key = "OPENROUTER_KEY"',
      '',
      '[model_providers.azure]',
      'name = "Azure"',
      "env_key = 'AZURE_OPENAI_API_KEY'",
      '',
      '[profiles.x]',
      'env_key = "NOT_THIS"',
    ].join('\n');
    expect(readModelProvider(toml)).toEqual({
      name: 'azure',
      envKey: 'AZURE_OPENAI_API_KEY',
      requiresOpenaiAuth: false,
    });
    expect(readModelProvider('model = "o3"\n')).toBeNull();
    expect(readModelProvider('model_provider = "ollama"\n')).toEqual({
      name: 'ollama',
      envKey: null,
      requiresOpenaiAuth: false,
    });
  });
});

describe('checkCodexCredentials (cloud, stub CLI)', () => {
  it('needs an environment id and a ChatGPT login', async () => {
    const home = await codexHome();
    const stub = await createCodexStub({ login: [LOGIN_CHATGPT] });
    dirs.push(stub.dir);

    const noEnv = await checkCodexCredentials({ mode: 'cloud', codexBin: stub.bin, env: env(home) });
    expect(noEnv).toMatchObject({ ok: false, notes: 'cloud: no Codex Cloud environment id' });
    expect(noEnv.remedy).toContain('CODEX_CLOUD_ENV');
    expect(await stub.calls()).toEqual([]);

    const ok = await checkCodexCredentials({
      mode: 'cloud',
      codexBin: stub.bin,
      env: env(home),
      cloudEnv: 'env_demo',
    });
    expect(ok).toMatchObject({ ok: true, notes: 'cloud: environment env_demo; Logged in using ChatGPT' });

    await stub.answer('login', [LOGIN_API_KEY]);
    const apiKey = await checkCodexCredentials({
      mode: 'cloud',
      codexBin: stub.bin,
      env: env(home),
      cloudEnv: 'env_demo',
    });
    expect(apiKey.ok).toBe(false);
    expect(apiKey.remedy).toContain('an API key is not enough');

    await stub.answer('login', [LOGIN_NONE]);
    const none = await checkCodexCredentials({
      mode: 'cloud',
      codexBin: stub.bin,
      env: env(home),
      cloudEnv: 'env_demo',
    });
    expect(none).toMatchObject({
      ok: false,
      notes: 'cloud: environment env_demo; login status: Not logged in',
    });
  });
});

it('writes nothing secret into the notes even when the CLI prints a key', async () => {
  const stub = await createCodexStub({
    login: [{ stderr: 'Logged in using an API key - sk-proj-abcdefghijklmnop\n', exitCode: 0 }],
  });
  dirs.push(stub.dir);
  const home = await codexHome();
  await writeFile(join(home, 'config.toml'), '');
  const check = await checkCodexCredentials({ mode: 'local', codexBin: stub.bin, env: env(home) });
  expect(check.notes).not.toContain('abcdefghijklmnop');
});
