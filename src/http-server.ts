// One HTTP server: the webhook path, /healthz, and room for the API.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export const WEBHOOK_PATH = '/api/github/webhooks';

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
  if (url.pathname === WEBHOOK_PATH) {
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

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
