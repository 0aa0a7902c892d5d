// The REST API, the SSE stream and the dashboard, as one request handler that
// the HTTP server consults before its own routes. It answers its paths and
// returns true, or returns false for anything else (the webhook, /healthz).
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { PrismaClient } from '../db/prisma.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { contentTypeFor, openArtifactFile, readCodexActivity } from './artifact-files.ts';
import {
  authenticate,
  createSessionValue,
  NOT_CONFIGURED_MESSAGE,
  readCookie,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  secretsEqual,
  sessionCookie,
  verifySessionValue,
} from './auth.ts';
import type { HubMessage, RunEventHub } from './events.ts';
import { ApiError, parseInput, queryObject, readJsonBody, sendError, sendJson } from './http-helpers.ts';
import { buildOpenApiDocument } from './openapi.ts';
import type { RunCommands } from './run-commands-port.ts';
import {
  type CodexActivity,
  cancelRunBody,
  createRunBody,
  eventsQuery,
  listRunsQuery,
  retryRunBody,
  runIdParam,
  sessionBody,
} from './schemas.ts';
import { API_BASE, serializeArtifact, serializeRun, serializeTask } from './serialize.ts';

export interface ApiDeps {
  prisma: PrismaClient;
  runCommands: RunCommands;
  events: RunEventHub;
  /** SPECKIT_API_TOKEN; unset disables the API (503 with instructions). */
  apiToken: string | undefined;
  artifactsDir: string;
  /** Mark the session cookie Secure (the public URL is https). */
  secureCookies: boolean;
  log: Logger;
  /** Interval of SSE heartbeat comments. */
  heartbeatMs?: number;
}

export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** The actor recorded for runs started, retried or cancelled through the API. */
export const API_ACTOR = 'api';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const DASHBOARD_PAGE = new RegExp(`^/runs/(${UUID})/?$`);
const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};
const DASHBOARD_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const assetCache = new Map<string, Buffer>();
async function readAsset(file: string): Promise<Buffer> {
  let content = assetCache.get(file);
  if (!content) {
    content = await readFile(new URL(`./dashboard/${file}`, import.meta.url));
    assetCache.set(file, content);
  }
  return content;
}

const notFound = (what: string) => new ApiError(404, 'not_found', `${what} was not found.`);

export function createApiHandler(deps: ApiDeps): ApiHandler {
  const { prisma, log } = deps;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;

  async function loadRunOrNull(runId: string) {
    const run = await prisma.specWorkflowRun.findUnique({ where: { id: runId } });
    return run ? serializeRun(run) : null;
  }

  async function listRuns(url: URL, res: ServerResponse): Promise<void> {
    const query = parseInput(listRunsQuery, queryObject(url), 'query');
    const where: Prisma.SpecWorkflowRunWhereInput = {};
    if (query.status) where.status = { in: query.status };
    if (query.featureKey) where.featureKey = query.featureKey;
    if (query.repository) where.repository = query.repository;
    if (query.createdBy) where.createdBy = query.createdBy;
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor);
      where.OR = [
        { createdAt: { lt: cursor.createdAt } },
        { createdAt: cursor.createdAt, id: { lt: cursor.id } },
      ];
    }
    const rows = await prisma.specWorkflowRun.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    sendJson(res, 200, {
      items: page.map(serializeRun),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    });
  }

  async function getRun(runId: string, res: ServerResponse): Promise<void> {
    const run = await prisma.specWorkflowRun.findUnique({
      where: { id: runId },
      include: {
        tasks: { orderBy: [{ id: 'asc' }] },
        artifacts: { orderBy: [{ createdAt: 'asc' }, { path: 'asc' }] },
      },
    });
    if (!run) throw notFound(`Run ${runId}`);
    const { tasks, artifacts, ...row } = run;
    sendJson(res, 200, {
      ...serializeRun(row),
      tasks: tasks.map(serializeTask),
      artifacts: artifacts.map(serializeArtifact),
    });
  }

  async function codexActivity(runId: string, res: ServerResponse): Promise<void> {
    const run = await prisma.specWorkflowRun.findUnique({ where: { id: runId }, select: { id: true } });
    if (!run) throw notFound(`Run ${runId}`);
    const logs = await prisma.workflowArtifact.findMany({
      where: { runId, artifactType: 'codex_logs' },
      orderBy: [{ attempt: 'asc' }, { createdAt: 'asc' }],
    });
    const items: CodexActivity[] = [];
    let truncated = false;
    for (const artifact of logs) {
      const activity = await readCodexActivity(deps.artifactsDir, artifact);
      if (!activity) continue;
      items.push(...activity.items);
      truncated ||= activity.truncated;
    }
    sendJson(res, 200, { items, truncated });
  }

  async function createRun(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseInput(createRunBody, await readJsonBody(req), 'body');
    const result = await deps.runCommands.createRun({ ...body, createdBy: API_ACTOR });
    switch (result.kind) {
      case 'created': {
        const run = await loadRunOrNull(result.runId);
        if (!run) throw new ApiError(500, 'internal_error', 'The run was created but cannot be read back.');
        log.info({ runId: result.runId, repository: body.repository }, 'run created through the API');
        sendJson(res, 202, { run }, { location: `${API_BASE}/runs/${result.runId}` });
        return;
      }
      case 'active':
        throw new ApiError(
          409,
          'run_active',
          `A run for ${body.featureKey ? `${body.featureKey} in ` : ''}${body.repository} is already active (run ${result.runId}); wait for it to finish or cancel it.`,
          { runId: result.runId },
          { run: await loadRunOrNull(result.runId) },
        );
      case 'not_installed':
        throw new ApiError(404, 'not_installed', result.message, { repository: body.repository });
      case 'invalid':
        throw new ApiError(400, 'invalid_request', result.message);
      case 'limited':
        throw new ApiError(429, 'run_limit', result.message, { field: result.field });
    }
  }

  async function retryRun(runId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseInput(retryRunBody, await readJsonBody(req), 'body');
    const result = await deps.runCommands.retryRun(runId, { ...body, actor: API_ACTOR });
    await answerCommand(runId, result, res, 'run_not_failed');
  }

  async function cancelRun(runId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    parseInput(cancelRunBody, await readJsonBody(req), 'body');
    const result = await deps.runCommands.cancelRun(runId, { actor: API_ACTOR });
    await answerCommand(runId, result, res, 'run_finished');
  }

  async function answerCommand(
    runId: string,
    result:
      | { kind: 'retried' | 'cancelling' }
      | { kind: 'not_found' }
      | { kind: 'conflict'; message: string },
    res: ServerResponse,
    conflictCode: string,
  ): Promise<void> {
    if (result.kind === 'not_found') throw notFound(`Run ${runId}`);
    const run = await loadRunOrNull(runId);
    if (result.kind === 'conflict') throw new ApiError(409, conflictCode, result.message, { runId }, { run });
    if (!run) throw notFound(`Run ${runId}`);
    log.info({ runId, action: result.kind }, 'run command accepted through the API');
    sendJson(res, 202, { run });
  }

  async function downloadArtifact(runId: string, artifactId: string, res: ServerResponse): Promise<void> {
    const artifact = await prisma.workflowArtifact.findFirst({ where: { id: artifactId, runId } });
    if (!artifact) throw notFound(`Artifact ${artifactId} of run ${runId}`);
    const opened = await openArtifactFile(deps.artifactsDir, artifact.path);
    if (opened.kind === 'outside_root') {
      log.warn({ runId, artifactId, path: artifact.path }, 'refused an artifact outside the artifact root');
      throw new ApiError(403, 'forbidden_path', opened.message, { artifactId });
    }
    if (opened.kind === 'missing')
      throw new ApiError(404, 'artifact_missing', opened.message, { artifactId });
    const safeName = opened.fileName.replace(/[^A-Za-z0-9._-]/g, '_');
    res.writeHead(200, {
      'content-type': contentTypeFor(opened.fileName),
      'content-length': opened.size,
      'content-disposition': `attachment; filename="${artifact.step}-${artifact.attempt}-${safeName}"`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    await pipeline(opened.stream, res);
  }

  async function streamEvents(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = parseInput(eventsQuery, queryObject(url), 'query');
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const send = (message: HubMessage) => {
      if (message.kind === 'resync') {
        res.write(`event: resync\ndata: ${JSON.stringify({ reason: message.reason })}\n\n`);
        return;
      }
      if (query.runId && message.event.runId !== query.runId) return;
      res.write(`event: ${message.event.type}\ndata: ${JSON.stringify(message.event)}\n\n`);
    };
    const unsubscribe = deps.events.subscribe(send);
    const heartbeat = setInterval(
      () => res.write(`: heartbeat ${new Date().toISOString()}\n\n`),
      heartbeatMs,
    );
    const closed = new Promise<void>((resolve) => {
      res.on('close', resolve);
    });
    // Wait briefly for the LISTEN to be in place; if the database is away the
    // stream stays open and a `resync` event follows the reconnection.
    let timer: NodeJS.Timeout | undefined;
    const listening = await Promise.race([
      deps.events.ready().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 2000);
      }),
    ]);
    clearTimeout(timer);
    if (!listening) log.warn('SSE client connected while the event listener is down');
    res.write(`event: ready\ndata: ${JSON.stringify({ runId: query.runId ?? null, listening })}\n\n`);
    await closed;
    clearInterval(heartbeat);
    unsubscribe();
  }

  async function session(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    if (req.method === 'GET') {
      const cookie = readCookie(req, SESSION_COOKIE);
      const expiresAt = cookie ? verifySessionValue(token, cookie) : null;
      const bearer = authenticate(req, token).kind === 'ok';
      sendJson(res, 200, {
        authenticated: bearer || expiresAt !== null,
        expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null,
      });
      return;
    }
    if (req.method === 'DELETE') {
      res.writeHead(204, {
        'set-cookie': sessionCookie('', 0, deps.secureCookies),
        'cache-control': 'no-store',
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') throw methodNotAllowed('GET, POST, DELETE');
    const body = parseInput(sessionBody, await readJsonBody(req), 'body');
    if (!secretsEqual(body.token, token)) {
      throw new ApiError(401, 'unauthenticated', 'That is not the configured SPECKIT_API_TOKEN.');
    }
    const created = createSessionValue(token);
    sendJson(
      res,
      200,
      { authenticated: true, expiresAt: new Date(created.expiresAt).toISOString() },
      { 'set-cookie': sessionCookie(created.value, Math.floor(SESSION_TTL_MS / 1000), deps.secureCookies) },
    );
  }

  async function api(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    for (const name of ['token', 'access_token', 'api_token']) {
      if (url.searchParams.has(name)) {
        throw new ApiError(
          400,
          'token_in_url',
          'Tokens are never accepted in URLs (they end up in logs): use the Authorization header or the session cookie.',
          { fields: [{ field: name, message: 'not allowed in the URL' }] },
        );
      }
    }
    const rest = url.pathname.slice(API_BASE.length).replace(/\/+$/, '') || '/';
    const token = deps.apiToken;
    if (!token) throw new ApiError(503, 'api_disabled', NOT_CONFIGURED_MESSAGE);
    if (rest === '/session') return session(req, res, token);

    const auth = authenticate(req, token);
    if (auth.kind === 'not_configured') throw new ApiError(503, 'api_disabled', NOT_CONFIGURED_MESSAGE);
    if (auth.kind === 'unauthenticated') throw new ApiError(401, 'unauthenticated', auth.message);
    if (auth.via === 'session' && method !== 'GET' && method !== 'HEAD') checkSameOrigin(req);

    if (rest === '/runs') {
      if (method === 'GET') return listRuns(url, res);
      if (method === 'POST') return createRun(req, res);
      throw methodNotAllowed('GET, POST');
    }
    if (rest === '/events') {
      if (method !== 'GET') throw methodNotAllowed('GET');
      return streamEvents(url, req, res);
    }
    const segments = rest.split('/').slice(1);
    if (segments[0] !== 'runs' || segments.length < 2) throw notFound(`${url.pathname}`);
    const runId = parseInput(runIdParam, decodeSegment(segments[1] ?? ''), 'path');
    if (segments.length === 2) {
      if (method !== 'GET') throw methodNotAllowed('GET');
      return getRun(runId, res);
    }
    const action = segments[2];
    if (segments.length === 3 && (action === 'retry' || action === 'cancel')) {
      if (method !== 'POST') throw methodNotAllowed('POST');
      return action === 'retry' ? retryRun(runId, req, res) : cancelRun(runId, req, res);
    }
    if (segments.length === 3 && action === 'codex-activity') {
      if (method !== 'GET') throw methodNotAllowed('GET');
      return codexActivity(runId, res);
    }
    if (action === 'artifacts' && segments.length === 4) {
      if (method !== 'GET') throw methodNotAllowed('GET');
      const artifactId = parseInput(runIdParam, decodeSegment(segments[3] ?? ''), 'path');
      return downloadArtifact(runId, artifactId, res);
    }
    throw notFound(url.pathname);
  }

  async function dashboard(url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const asset = ASSETS[url.pathname];
    const page = url.pathname === '/' || DASHBOARD_PAGE.test(url.pathname);
    if (!asset && !page) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, methodNotAllowed('GET'));
      return true;
    }
    const content = await readAsset(asset ? asset.file : 'index.html');
    res.writeHead(200, {
      ...DASHBOARD_HEADERS,
      'content-type': asset ? asset.type : 'text/html; charset=utf-8',
      'content-length': content.length,
    });
    res.end(req.method === 'HEAD' ? undefined : content);
    return true;
  }

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/api/openapi.json') {
        if (req.method !== 'GET') throw methodNotAllowed('GET');
        sendJson(res, 200, buildOpenApiDocument());
        return true;
      }
      if (url.pathname === API_BASE || url.pathname.startsWith(`${API_BASE}/`)) {
        await api(url, req, res);
        return true;
      }
      return await dashboard(url, req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      if (error instanceof ApiError) {
        // A 413 left the rest of the body unread (the request stream is closed):
        // the connection cannot be reused, so the client is told to open a new one.
        const headers: Record<string, string> =
          error.status === 405
            ? { allow: String(error.details) }
            : error.status === 413
              ? { connection: 'close' }
              : {};
        sendError(res, error, headers);
        return true;
      }
      log.error({ err: error, path: url.pathname }, 'API request failed');
      sendError(res, new ApiError(500, 'internal_error', 'The server failed to answer; see its log.'));
      return true;
    }
  };
}

function methodNotAllowed(allow: string): ApiError {
  return new ApiError(405, 'method_not_allowed', `Use ${allow} on this path.`, allow);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A cookie-authenticated change must come from the dashboard's own origin (SameSite=Strict does the rest). */
function checkSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== req.headers.host) {
    throw new ApiError(
      403,
      'cross_origin',
      'Changes with the session cookie must come from the dashboard itself.',
    );
  }
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) && !Number.isNaN(date.getTime())) {
      return { createdAt: date, id };
    }
  } catch {
    // fall through
  }
  throw new ApiError(
    400,
    'validation_failed',
    'Invalid request query: cursor: not a cursor this API returned',
    {
      in: 'query',
      fields: [{ field: 'cursor', message: 'not a cursor this API returned' }],
    },
  );
}
