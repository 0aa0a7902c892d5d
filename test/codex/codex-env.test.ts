import { describe, expect, it } from 'vitest';
import { buildCodexEnv } from '../../src/codex/codex-env.ts';
import { ConfigError } from '../../src/errors.ts';

const APP_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/root',
  LANG: 'en_US.UTF-8',
  USER: 'speckit',
  CODEX_HOME: '/etc/speckit/codex',
  OPENAI_API_KEY: 'sk-openai',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----',
  PRIVATE_KEY_PATH: '/etc/speckit/key.pem',
  WEBHOOK_SECRET: 'whsec',
  DATABASE_URL: 'postgres://u:p@h/db',
  GITHUB_TOKEN: 'ghs_x',
  APP_ID: '123',
  NODE_OPTIONS: '--inspect',
  AZURE_OPENAI_API_KEY: 'azure-key',
};

const OPTIONS = { codexHome: '/var/lib/speckit/codex-home', home: '/tmp/run-1/home' };

describe('buildCodexEnv', () => {
  it('keeps only PATH, HOME, CODEX_HOME, LANG and the API keys that are set', () => {
    expect(buildCodexEnv(APP_ENV, OPTIONS)).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/tmp/run-1/home',
      CODEX_HOME: '/var/lib/speckit/codex-home',
      LANG: 'en_US.UTF-8',
      OPENAI_API_KEY: 'sk-openai',
    });
  });

  it('passes CODEX_API_KEY too, and skips empty values', () => {
    const env = buildCodexEnv({ PATH: '/bin', CODEX_API_KEY: 'ck', OPENAI_API_KEY: '' }, OPTIONS);
    expect(env.CODEX_API_KEY).toBe('ck');
    expect(env).not.toHaveProperty('OPENAI_API_KEY');
  });

  it('adds the passthrough names that are set', () => {
    const env = buildCodexEnv(APP_ENV, { ...OPTIONS, passthrough: ['AZURE_OPENAI_API_KEY', 'NOT_SET'] });
    expect(env.AZURE_OPENAI_API_KEY).toBe('azure-key');
    expect(env).not.toHaveProperty('NOT_SET');
  });

  it('never lets the passthrough override HOME, CODEX_HOME or PATH', () => {
    const env = buildCodexEnv(APP_ENV, { ...OPTIONS, passthrough: ['HOME', 'CODEX_HOME', 'PATH'] });
    expect(env.HOME).toBe(OPTIONS.home);
    expect(env.CODEX_HOME).toBe(OPTIONS.codexHome);
    expect(env.PATH).toBe(APP_ENV.PATH);
  });

  it("refuses to pass the app's own secrets", () => {
    for (const name of ['PRIVATE_KEY', 'WEBHOOK_SECRET', 'DATABASE_URL', 'GITHUB_TOKEN', 'private_key']) {
      expect(() => buildCodexEnv(APP_ENV, { ...OPTIONS, passthrough: [name] })).toThrow(ConfigError);
    }
    expect(() => buildCodexEnv(APP_ENV, { ...OPTIONS, passthrough: ['WEBHOOK_SECRET'] })).toThrow(
      /remove it from the Codex passthrough list/,
    );
  });

  it('rejects names that are not variable names', () => {
    expect(() => buildCodexEnv(APP_ENV, { ...OPTIONS, passthrough: ['A=B'] })).toThrow(ConfigError);
  });

  it('falls back to a standard PATH and LANG when the source has none', () => {
    expect(buildCodexEnv({}, OPTIONS)).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: OPTIONS.home,
      CODEX_HOME: OPTIONS.codexHome,
      LANG: 'C.UTF-8',
    });
  });

  it('contains no secret of a realistic app environment, whatever it holds', () => {
    const env = buildCodexEnv(APP_ENV, OPTIONS);
    const values = Object.values(env).join('\n');
    for (const secret of ['BEGIN RSA', 'key.pem', 'whsec', 'postgres://', 'ghs_x', '--inspect']) {
      expect(values).not.toContain(secret);
    }
  });
});
