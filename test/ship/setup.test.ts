// The first-run setup page: GitHub's App manifest flow (form → GitHub →
// callback with a code → POST /app-manifests/{code}/conversions) writing
// APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to .env, which readConfig accepts.
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseEnv } from 'node:util';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig, requireGitHubApp } from '../../src/config.ts';
import { createHttpServer } from '../../src/http-server.ts';
import { createAppUrl, createSetupHandler } from '../../src/setup/setup-app.ts';
import { makeTempDir, removeTempDirs } from '../support/git-fixtures.ts';

let server: Server;
let base: string;
let envFile: string;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
  const dir = await makeTempDir('speckit-setup-');
  envFile = path.join(dir, '.env');
  await writeFile(envFile, '# kept\nLOG_LEVEL=debug\n');
  const config = readConfig({ WEBHOOK_PROXY_URL: 'https://smee.io/abc123' }, dir);
  server = createHttpServer({
    webhooks: null,
    checkDatabase: async () => {},
    setup: createSetupHandler({ config, envFile }),
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
  nock.cleanAll();
  nock.enableNetConnect();
  await removeTempDirs();
});

function formOf(html: string): { action: string; manifest: Record<string, any> } {
  const action = /<form action="([^"]+)"/.exec(html)?.[1]?.replace(/&#38;/g, '&') ?? '';
  const value = /name="manifest" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const json = value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  return { action, manifest: JSON.parse(json) };
}

describe('the setup page (no GitHub App credentials yet)', () => {
  it('registers the App from app.yml and writes its credentials to .env', async () => {
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/setup');

    const page = await fetch(`${base}/setup`);
    expect(page.status).toBe(200);
    const { action, manifest } = formOf(await page.text());
    expect(action).toMatch(/^https:\/\/github\.com\/settings\/apps\/new\?state=[0-9a-f]{32}$/);
    expect(manifest).toMatchObject({
      name: 'speckit-bot',
      public: false,
      hook_attributes: { url: 'https://smee.io/abc123' },
      redirect_url: `${base}/setup/callback`,
      default_events: expect.arrayContaining(['issue_comment']),
      default_permissions: expect.objectContaining({ checks: 'write', contents: 'write' }),
    });
    const state = new URL(action).searchParams.get('state');

    // GitHub redirects back with a one-time code; the app exchanges it.
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const github = nock('https://api.github.com').post('/app-manifests/temp-code-1/conversions').reply(201, {
      id: 987654,
      slug: 'speckit-bot',
      html_url: 'https://github.com/apps/speckit-bot',
      pem: privateKey,
      webhook_secret: 'whsec "quoted" #1',
      client_id: 'Iv1.x',
      client_secret: 'never-written',
    });
    const done = await fetch(`${base}/setup/callback?code=temp-code-1&state=${state}`);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('https://github.com/apps/speckit-bot/installations/new');
    github.done();

    const text = await readFile(envFile, 'utf8');
    expect(text.startsWith('# kept\nLOG_LEVEL=debug\n')).toBe(true);
    expect(text).not.toContain('never-written');
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const env = parseEnv(text) as Record<string, string>;
    const credentials = requireGitHubApp(readConfig(env));
    expect(credentials).toEqual({
      appId: '987654',
      privateKey: privateKey.trim(),
      webhookSecret: 'whsec "quoted" #1',
    });

    // The state is single-use; the page does not overwrite credentials.
    const again = await fetch(`${base}/setup/callback?code=temp-code-1&state=${state}`);
    expect(again.status).toBe(400);
  });

  it('refuses a callback with an unknown state', async () => {
    const response = await fetch(`${base}/setup/callback?code=abc&state=forged`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('expired or invalid');
  });

  it('targets GitHub Enterprise Server and organizations', () => {
    const config = readConfig({ GHE_HOST: 'ghe.example.com' });
    expect(createAppUrl(config, 'acme', 's1')).toBe(
      'https://ghe.example.com/organizations/acme/settings/apps/new?state=s1',
    );
  });
});
