import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, readConfig, requireGitHubApp } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

describe('readConfig', () => {
  it('fills every setting with its documented default', () => {
    const config = readConfig({ HOME: '/home/app' }, '/srv/app');
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.migrate).toBe(true);
    expect(config.artifactsDir).toBe('/srv/app/var/artifacts/spec_workflows');
    expect(config.workDir).toBe('/srv/app/var/workspaces');
    expect(config.concurrency).toBe(4);
    expect(config.codex.timeoutMs).toBe(1_800_000);
    expect(config.codex.idleTimeoutMs).toBe(300_000);
    expect(config.codex.home).toBe('/home/app/.codex');
    expect(config.github.apiBaseUrl).toBe('https://api.github.com');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad variable and what it expects in one message', () => {
    let error: unknown;
    try {
      readConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://db/x',
        SPECKIT_MIGRATE: 'maybe',
        SPECKIT_CONCURRENCY: '0',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'SPECKIT_MIGRATE', 'SPECKIT_CONCURRENCY']) {
      expect(message).toContain(`${name}:`);
    }
    expect(message).toContain('postgresql://');
    expect(message).not.toContain('LOG_LEVEL:');
  });

  it('treats an empty variable as unset', () => {
    expect(readConfig({ PORT: '', SPECKIT_MIGRATE: '' }).port).toBe(3000);
  });

  it('points the GitHub API at GitHub Enterprise Server when GHE_HOST is set', () => {
    const config = readConfig({ GHE_HOST: 'ghe.example.com', GHE_PROTOCOL: 'http' });
    expect(config.github.apiBaseUrl).toBe('http://ghe.example.com/api/v3');
  });

  it('reads the private key from PRIVATE_KEY_PATH, and says when it cannot', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'speckit-config-'));
    writeFileSync(path.join(dir, 'key.pem'), '-----BEGIN RSA PRIVATE KEY-----\nabc\n');
    expect(readConfig({ PRIVATE_KEY_PATH: 'key.pem' }, dir).github.privateKey).toContain('BEGIN RSA');
    expect(() => readConfig({ PRIVATE_KEY_PATH: 'missing.pem' }, dir)).toThrow(
      /PRIVATE_KEY_PATH: cannot read missing.pem/,
    );
  });

  it('turns escaped newlines of a one-line PRIVATE_KEY into real ones', () => {
    expect(readConfig({ PRIVATE_KEY: 'line1\\nline2' }).github.privateKey).toBe('line1\nline2');
  });

  it('keeps only harmless variables for the Codex child', () => {
    const config = readConfig({
      PATH: '/usr/bin',
      OPENAI_API_KEY: 'sk-test',
      WEBHOOK_SECRET: 'hush',
      DATABASE_URL: 'postgresql://u:p@db/x',
      PRIVATE_KEY: 'pem',
    });
    expect(config.codex.childEnv).toEqual({ PATH: '/usr/bin', OPENAI_API_KEY: 'sk-test' });
  });

  it('requires all three GitHub App credentials and lists the missing ones', () => {
    expect(() => requireGitHubApp(readConfig({ APP_ID: '1' }))).toThrow(
      /set PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET/,
    );
    const ok = requireGitHubApp(readConfig({ APP_ID: '1', PRIVATE_KEY: 'k', WEBHOOK_SECRET: 's' }));
    expect(ok).toEqual({ appId: '1', privateKey: 'k', webhookSecret: 's' });
  });
});

describe('CODEX_ENV_PASSTHROUGH', () => {
  it('adds the named variables to what the Codex child may see', () => {
    const config = readConfig({
      CODEX_ENV_PASSTHROUGH: 'HTTPS_PROXY, NPM_TOKEN',
      HTTPS_PROXY: 'http://proxy:3128',
    });
    expect(config.codex.passthrough).toEqual(['HTTPS_PROXY', 'NPM_TOKEN']);
    expect(config.codex.childEnv).toEqual({ HTTPS_PROXY: 'http://proxy:3128' });
  });

  it("refuses to pass the app's own secrets", () => {
    expect(() => readConfig({ CODEX_ENV_PASSTHROUGH: 'WEBHOOK_SECRET,DATABASE_URL' })).toThrow(
      /CODEX_ENV_PASSTHROUGH: WEBHOOK_SECRET, DATABASE_URL hold the app's own secrets/,
    );
  });
});

describe("README's configuration table", () => {
  it('documents every variable readConfig reads, with its default', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## How it works'));
    const rows = new Map(
      [
        ...table.matchAll(/^\| `([A-Z0-9_]+)`(?: \/ `([A-Z0-9_]+)`)?(?:, `([A-Z0-9_]+)`)? \| ([^|]*) \|/gm),
      ].flatMap((m) =>
        [m[1], m[2], m[3]].filter(Boolean).map((name) => [name as string, (m[4] ?? '').trim()] as const),
      ),
    );
    const missing = Object.keys(CONFIG_VARIABLES).filter((name) => !rows.has(name));
    expect(missing, 'variables of src/config.ts without a row in README.md').toEqual([]);
    // Every documented default is the one readConfig applies.
    const defaults = readConfig({}, '/srv/app');
    expect(rows.get('GITHUB_WRITE_INTERVAL_MS')).toBe(`\`${defaults.githubWrites.intervalMs}\``);
    expect(rows.get('GITHUB_NOTIFY_INTERVAL_MS')).toBe(`\`${defaults.githubWrites.notifyIntervalMs}\``);
    expect(rows.get('GITHUB_WRITE_BURST')).toBe(`\`${defaults.githubWrites.burst}\``);
    expect(rows.get('SPECKIT_MAX_ACTIVE_RUNS')).toBe(`\`${defaults.maxActiveRuns}\``);
    expect(rows.get('SPECKIT_CONCURRENCY')).toBe(`\`${defaults.concurrency}\``);
  });
});
