import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodexError, codexAuthRemedy, isCodexAuthFailure } from '../../src/codex/codex-error.ts';
import { resolveCodexBin } from '../../src/codex/resolve-codex-bin.ts';
import { runCodex } from '../../src/codex/run-codex.ts';
import { ConfigError, errorCode, isPermanent, SpeckitError } from '../../src/errors.ts';

describe('CodexError', () => {
  it('is permanent for auth, missing credentials, the token cap and cloud failures, and only for those', () => {
    const auth = new CodexError('no key', { code: 'codex_auth' });
    expect(auth).toBeInstanceOf(SpeckitError);
    expect(isPermanent(auth)).toBe(true);
    expect(errorCode(auth)).toBe('codex_auth');
    for (const code of ['codex_failed', 'codex_timeout', 'codex_idle_timeout', 'cancelled'] as const) {
      expect(isPermanent(new CodexError('x', { code }))).toBe(false);
    }
    for (const code of [
      'codex_credentials_missing',
      'codex_token_cap',
      'codex_cloud_failed',
      'codex_cloud_unrecognized',
    ] as const) {
      expect(isPermanent(new CodexError('x', { code })), code).toBe(true);
    }
    expect(new CodexError('x', { code: 'codex_failed' }).name).toBe('CodexError');
  });

  it('recognises authentication failures in Codex error text', () => {
    for (const text of [
      'unexpected status 401 Unauthorized: Incorrect API key provided, url: http://127.0.0.1:1/v1/responses',
      'Missing environment variable: `FAKE_MODEL_API_KEY`.',
      'Not logged in',
      'Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.',
    ]) {
      expect(isCodexAuthFailure(text), text).toBe(true);
    }
    for (const text of [
      'We’re currently experiencing high demand, which may cause temporary errors.',
      'unexpected status 503 Service Unavailable: upstream overloaded',
      'stream disconnected before completion: model exploded',
    ]) {
      expect(isCodexAuthFailure(text), text).toBe(false);
    }
  });

  it('tells the operator how to fix missing credentials', () => {
    expect(codexAuthRemedy('/var/lib/codex')).toMatch(
      /codex login.*CODEX_HOME=\/var\/lib\/codex.*OPENAI_API_KEY/,
    );
  });
});

describe('resolveCodexBin', () => {
  it('finds the native binary of the installed platform package', () => {
    expect(resolveCodexBin()).toMatch(
      /@openai\/codex-linux-x64\/vendor\/x86_64-unknown-linux-musl\/bin\/codex$/,
    );
  });

  it('says what to install when the platform package is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'no-codex-'));
    try {
      expect(() => resolveCodexBin({ resolveFrom: join(dir, 'x.js') })).toThrow(ConfigError);
      expect(() => resolveCodexBin({ resolveFrom: join(dir, 'x.js') })).toThrow(/npm install @openai\/codex/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a platform Codex does not ship', () => {
    expect(() => resolveCodexBin({ platform: 'freebsd', arch: 'x64' })).toThrow(
      /no native build for freebsd\/x64/,
    );
  });
});

describe('runCodex preconditions', () => {
  const base = {
    cwd: tmpdir(),
    prompt: 'x',
    env: {},
    logPath: join(tmpdir(), 'never.jsonl'),
    lastMessagePath: join(tmpdir(), 'never.txt'),
    timeoutMs: 1000,
    idleTimeoutMs: 1000,
  };

  it('fails with a ConfigError when the binary does not exist', async () => {
    await expect(runCodex({ ...base, codexBin: '/nonexistent/codex' })).rejects.toThrow(ConfigError);
  });

  it('fails as cancelled without starting Codex when the signal is already aborted', async () => {
    const error = await runCodex({ ...base, codexBin: resolveCodexBin(), signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CodexError);
    expect((error as CodexError).code).toBe('cancelled');
  });
});
