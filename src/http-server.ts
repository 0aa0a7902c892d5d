// One HTTP server: the webhook path, /healthz, and room for the API.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
// --- issue #11 (ship it): /metrics, /readyz, the setup page ---
import { handleMetrics, type Metrics } from './metrics/metrics.ts';
import type { Readiness } from './metrics/readiness.ts';
import type { SetupHandler } from './setup/setup-app.ts';

export const WEBHOOK_PATH = '/api/github/webhooks';
/** GitHub caps webhook payloads at 25 MB; a bigger body is not GitHub's and is not read. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => unknown;

export interface HttpServerOptions {
  /** Probot's webhook middleware; null while the GitHub App is not configured. */
  webhooks: Middleware | null;
  /** Resolves when the database answers. */
  checkDatabase: () => Promise<void>;
  /**
   * The REST API, SSE stream and dashboard (src/api): answers /api/workflows/*,
   * /api/openapi.json, / and the dashboard's pages; resolves false for other paths.
   */
  api?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  // --- issue #11 (ship it) ---
  /** Serves GET /metrics (Prometheus) and times the webhook path. */
  metrics?: Metrics;
  /** GET /readyz: migrations applied, queues (and workers) started. */
  readiness?: Readiness;
  /** The GitHub App manifest flow (/, /setup, /setup/callback) while credentials are missing. */
  setup?: SetupHandler;
}

export function createHttpServer(options: HttpServerOptions): Server {
  return createServer((req, res) => {
    void route(options, req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { error: 'internal_error', message: (error as Error).message });
      else res.end();
    });
  });
}

async function route(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    try {
      await options.checkDatabase();
      sendJson(res, 200, { status: 'ok' });
    } catch (error) {
      sendJson(res, 503, { status: 'unavailable', reason: `database: ${(error as Error).message}` });
    }
    return;
  }
  // --- issue #11 (ship it) ---
  if (url.pathname === '/metrics' && options.metrics) {
    await handleMetrics(options.metrics, req, res);
    return;
  }
  if (url.pathname === '/readyz' && options.readiness) {
    const problems = await options.readiness.check();
    if (problems.length === 0) sendJson(res, 200, { status: 'ready' });
    else sendJson(res, 503, { status: 'not_ready', problems });
    return;
  }
  if (url.pathname === WEBHOOK_PATH && options.webhooks && options.metrics) {
    const metrics = options.metrics;
    const started = process.hrtime.bigint();
    res.once('finish', () =>
      metrics.webhookLatency(Number(process.hrtime.bigint() - started) / 1e9, res.statusCode),
    );
  }
  if (!options.webhooks && options.setup && (await options.setup(req, res))) return;
  // --- end issue #11 ---
  if (url.pathname === WEBHOOK_PATH) {
    if (req.method === 'POST' && refuseOversizedWebhook(req, res)) return;
    if (!options.webhooks) {
      sendJson(res, 503, {
        error: 'not_configured',
        message:
          'The GitHub App is not configured: set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET.',
      });
      return;
    }
    await options.webhooks(req, res, () => sendJson(res, 404, { error: 'not_found' }));
    return;
  }
  if (options.api && (await options.api(req, res))) return;
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(
      options.webhooks
        ? `speckit-bot is running. Webhooks: POST ${WEBHOOK_PATH}\n`
        : 'speckit-bot is running without GitHub App credentials: set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET, then restart. See README.md.\n',
    );
    return;
  }
  sendJson(res, 404, { error: 'not_found' });
}

/**
 * Refuses a webhook body that GitHub would never send, before anything reads
 * it: over GitHub's 25 MB cap (413), or of unknown length (411; GitHub always
 * sends Content-Length). Nothing is stored for it.
 */
function refuseOversizedWebhook(req: IncomingMessage, res: ServerResponse): boolean {
  const declared = req.headers['content-length'];
  const refusal =
    declared === undefined
      ? {
          status: 411,
          error: 'length_required',
          message: 'Webhook deliveries must declare their Content-Length, as GitHub does.',
        }
      : Number(declared) > MAX_WEBHOOK_BYTES
        ? {
            status: 413,
            error: 'payload_too_large',
            message: `The webhook body is ${declared} bytes; GitHub sends at most ${MAX_WEBHOOK_BYTES} (25 MB), so this delivery is refused unread.`,
          }
        : null;
  if (!refusal) return false;
  // The body is never read: the connection closes after the answer instead of draining it.
  res.setHeader('connection', 'close');
  res.once('finish', () => req.destroy());
  sendJson(res, refusal.status, { error: refusal.error, message: refusal.message });
  return true;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
