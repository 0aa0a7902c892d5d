// The first-run page: while the GitHub App credentials are missing, `/setup`
// registers the App from app.yml through GitHub's manifest flow
// (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest)
// and writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to `.env`.
// Probot's own setup app (probot/lib/apps/setup.js) does the same, but it reads
// and mutates process.env, posts webhooks to `/` rather than our webhook path,
// turns `public: false` into true and pulls smee-client through npx, so the
// flow is implemented here, small, on our HTTP server.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { WEBHOOK_PATH } from '../http-server.ts';
import { envKeys, updateEnvFile } from './env-file.ts';

export const DEFAULT_MANIFEST_PATH = fileURLToPath(new URL('../../app.yml', import.meta.url));
export const SETUP_PATH = '/setup';
export const SETUP_CALLBACK_PATH = '/setup/callback';
const STATE_TTL_MS = 3_600_000;

export interface SetupOptions {
  config: Pick<Config, 'publicUrl' | 'webhookProxyUrl' | 'github'>;
  /** Where credentials are written; default `.env` in the working directory. */
  envFile?: string;
  manifestFile?: string;
  fetch?: typeof fetch;
  log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /**
   * Send `/` to the setup page. Off when the dashboard is enabled
   * (SPECKIT_API_TOKEN set): `/` stays the dashboard and /setup is reached directly.
   */
  redirectRoot?: boolean;
}

export type SetupHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** The manifest GitHub receives: app.yml plus the URLs of this installation. */
export async function buildManifest(
  manifestFile: string,
  urls: { baseUrl: string; webhookUrl: string },
): Promise<Record<string, unknown>> {
  const manifest = (parseYaml(await readFile(manifestFile, 'utf8')) ?? {}) as Record<string, unknown>;
  const hook = (manifest.hook_attributes ?? {}) as Record<string, unknown>;
  return {
    ...manifest,
    public: manifest.public ?? false,
    hook_attributes: { ...hook, url: urls.webhookUrl },
    redirect_url: `${urls.baseUrl}${SETUP_CALLBACK_PATH}`,
  };
}

/** `https://github.com/settings/apps/new` or the GHE / organization equivalent. */
export function createAppUrl(config: Pick<Config, 'github'>, org: string | undefined, state: string): string {
  const host = config.github.gheHost
    ? `${config.github.gheProtocol}://${config.github.gheHost}`
    : 'https://github.com';
  const owner = org ? `/organizations/${encodeURIComponent(org)}` : '';
  return `${host}${owner}/settings/apps/new?state=${state}`;
}

const conversion = z.object({
  id: z.number(),
  slug: z.string().optional(),
  html_url: z.string(),
  pem: z.string(),
  webhook_secret: z.string().nullable(),
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action https: http:",
    'cache-control': 'no-store',
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}
code{background:#f2f2f2;padding:0 .2em}.warn{background:#fff4d6;padding:.6rem;border-radius:4px}
button{font-size:1rem;padding:.5rem 1rem}</style></head><body>${body}</body></html>`);
}

export function createSetupHandler(options: SetupOptions): SetupHandler {
  const envFile = options.envFile ?? path.resolve('.env');
  const manifestFile = options.manifestFile ?? DEFAULT_MANIFEST_PATH;
  const doFetch = options.fetch ?? fetch;
  const states = new Map<string, number>();
  let done = false;

  function baseUrlOf(req: IncomingMessage): string {
    if (options.config.publicUrl) return options.config.publicUrl;
    return `http://${req.headers.host ?? 'localhost'}`;
  }

  async function showForm(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const baseUrl = baseUrlOf(req);
    const webhookUrl = options.config.webhookProxyUrl ?? `${baseUrl}${WEBHOOK_PATH}`;
    const manifest = await buildManifest(manifestFile, { baseUrl, webhookUrl });
    const state = randomBytes(16).toString('hex');
    const now = Date.now();
    for (const [key, expires] of states) if (expires < now) states.delete(key);
    states.set(state, now + STATE_TTL_MS);
    const org = url.searchParams.get('org')?.trim() || undefined;
    const local = /^https?:\/\/(localhost|127\.|\[::1\])/.test(webhookUrl);
    const target = createAppUrl(options.config, org, state);
    page(
      res,
      200,
      'Register speckit-bot',
      `<h1>Register speckit-bot as a GitHub App</h1>
<p>speckit-bot has no GitHub App credentials yet. The button below registers a new App on
<code>${escapeHtml(new URL(target).host)}</code>${org ? ` for the organization <code>${escapeHtml(org)}</code>` : ' for your account'}
from <code>app.yml</code>; GitHub then sends you back here and the App id, private key and webhook secret are
written to <code>${escapeHtml(envFile)}</code>.</p>
<p>Webhooks will go to <code>${escapeHtml(webhookUrl)}</code>.</p>
${
  local
    ? `<p class="warn">GitHub refuses webhook URLs on localhost. Create a channel at <a href="https://smee.io/new">smee.io</a>,
set <code>WEBHOOK_PROXY_URL</code> to it and restart, or set <code>SPECKIT_PUBLIC_URL</code> to this server's public address.</p>`
    : ''
}
<p>For an organization, open <code>${SETUP_PATH}?org=&lt;name&gt;</code>.</p>
<form action="${escapeHtml(target)}" method="post">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
<button type="submit">Register the GitHub App</button></form>`,
    );
  }

  async function finish(res: ServerResponse, url: URL): Promise<void> {
    const code = url.searchParams.get('code') ?? '';
    const state = url.searchParams.get('state') ?? '';
    const expires = states.get(state);
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(code) || expires === undefined || expires < Date.now()) {
      page(
        res,
        400,
        'Setup failed',
        `<h1>Setup link expired or invalid</h1><p>Start again from <a href="${SETUP_PATH}">${SETUP_PATH}</a>.</p>`,
      );
      return;
    }
    states.delete(state);
    const existing = await readFile(envFile, 'utf8').catch(() => '');
    if (done || envKeys(existing).has('APP_ID')) {
      page(
        res,
        409,
        'Already set up',
        `<h1>Already set up</h1><p><code>${escapeHtml(envFile)}</code> already holds an <code>APP_ID</code>; it was left unchanged. Remove it to register another App.</p>`,
      );
      return;
    }
    const response = await doFetch(`${options.config.github.apiBaseUrl}/app-manifests/${code}/conversions`, {
      method: 'POST',
      headers: { accept: 'application/vnd.github+json', 'user-agent': 'speckit-bot-setup' },
    });
    if (!response.ok) {
      const text = (await response.text()).slice(0, 500);
      options.log?.warn({ status: response.status }, 'GitHub App manifest conversion failed');
      page(
        res,
        502,
        'Setup failed',
        `<h1>GitHub refused the registration</h1><p>HTTP ${response.status}: <code>${escapeHtml(text)}</code></p>
<p>The code is valid for one hour and for one use. Start again from <a href="${SETUP_PATH}">${SETUP_PATH}</a>.</p>`,
      );
      return;
    }
    const app = conversion.parse(await response.json());
    await updateEnvFile(envFile, {
      APP_ID: String(app.id),
      PRIVATE_KEY: app.pem,
      WEBHOOK_SECRET: app.webhook_secret ?? '',
    });
    done = true;
    options.log?.info({ appId: app.id, envFile }, 'GitHub App registered; credentials written');
    const install = `${app.html_url}/installations/new`;
    page(
      res,
      200,
      'speckit-bot registered',
      `<h1>GitHub App registered</h1>
<p>App id <code>${app.id}</code>; <code>APP_ID</code>, <code>PRIVATE_KEY</code> and <code>WEBHOOK_SECRET</code> were written to
<code>${escapeHtml(envFile)}</code> (mode 0600).</p>
<ol><li>Restart speckit-bot with that file loaded (see the README, "Register the GitHub App").</li>
<li><a href="${escapeHtml(install)}">Install the App</a> on the repositories it should work on.</li></ol>`,
    );
  }

  return async (req, res) => {
    if (req.method !== 'GET') return false;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/' && options.redirectRoot !== false) {
      res.writeHead(302, { location: SETUP_PATH }).end();
      return true;
    }
    if (url.pathname === SETUP_PATH) {
      await showForm(req, res, url);
      return true;
    }
    if (url.pathname === SETUP_CALLBACK_PATH) {
      await finish(res, url);
      return true;
    }
    return false;
  };
}
