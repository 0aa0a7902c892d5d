// A fake OpenAI Responses API for running the real Codex CLI offline.
//
// Codex sends `POST /v1/responses` with `stream: true` and reads Server-Sent Events.
// Each request is one model "turn": the test decides what the model answers through a
// `respond` callback (or `scriptedResponder([...])`). A follow-up request after a tool
// call carries the tool's output in `input` (see `toolOutputs` / `isToolFollowUp`).
//
//   const server = await startFakeModelServer(scriptedResponder([
//     applyPatchCall('*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n'),
//     finalMessage('Done.'),
//   ]));
//   const codexHome = await writeCodexHome(dir, server.url);

import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

/** The model name tests pass with `-m`: one the CLI knows, so it offers the apply_patch tool. */
export const FAKE_MODEL = 'gpt-5.5';

/** The env var the `local` provider reads its API key from (any value works). */
export const FAKE_API_KEY_ENV = 'FAKE_MODEL_API_KEY';

export interface FakeUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

export type FakeTurn =
  /** A final assistant message: the turn ends. */
  | { kind: 'message'; text: string; usage?: Partial<FakeUsage> }
  /** A freeform `apply_patch` custom tool call; Codex applies the patch and asks again. */
  | { kind: 'apply_patch'; patch: string; callId: string; usage?: Partial<FakeUsage> }
  /** An `exec_command` function call; Codex runs the shell command and asks again. */
  | {
      kind: 'exec_command';
      cmd: string;
      callId: string;
      /** How long Codex waits for output before answering (the command keeps running). */
      yieldTimeMs?: number;
      usage?: Partial<FakeUsage>;
    }
  /** An HTTP error status with a JSON error body (as the OpenAI API sends). */
  | { kind: 'http_error'; status: number; message: string; code?: string }
  /** A `response.failed` SSE event (HTTP 200). */
  | { kind: 'response_failed'; message: string; code?: string }
  /** Waits `ms`, then answers with `then`. */
  | { kind: 'delay'; ms: number; then: FakeTurn }
  /** Sends `response.created`, then never another byte (until the server closes). */
  | { kind: 'hang' };

export interface FakeRequest {
  /** The parsed JSON body Codex sent (`any`: tests poke at whatever Codex sends). */
  body: any;
  /** 0 for the first `/v1/responses` request of this server, then 1, 2, … */
  index: number;
}

export type FakeResponder = (request: FakeRequest) => FakeTurn | Promise<FakeTurn>;

export interface FakeModelServer {
  /** Base URL for the provider's `base_url`, e.g. `http://127.0.0.1:4711/v1`. */
  url: string;
  /** Every `/v1/responses` request received, in order. */
  requests: FakeRequest[];
  /** Other requests (method + path) Codex made, e.g. model listings; answered 404. */
  otherRequests: string[];
  /** Stops listening and destroys open (hanging) connections. */
  close(): Promise<void>;
}

// --- turn builders ---------------------------------------------------------------

export function finalMessage(text: string, usage?: Partial<FakeUsage>): FakeTurn {
  return usage ? { kind: 'message', text, usage } : { kind: 'message', text };
}

export function applyPatchCall(patch: string, callId = `call_${randomUUID()}`): FakeTurn {
  return { kind: 'apply_patch', patch, callId };
}

export function execCommandCall(
  cmd: string,
  options: { callId?: string; yieldTimeMs?: number } = {},
): FakeTurn {
  const turn: FakeTurn = { kind: 'exec_command', cmd, callId: options.callId ?? `call_${randomUUID()}` };
  if (options.yieldTimeMs !== undefined) turn.yieldTimeMs = options.yieldTimeMs;
  return turn;
}

export function httpError(status: number, message: string, code?: string): FakeTurn {
  return code ? { kind: 'http_error', status, message, code } : { kind: 'http_error', status, message };
}

export function responseFailed(message: string, code?: string): FakeTurn {
  return code ? { kind: 'response_failed', message, code } : { kind: 'response_failed', message };
}

export function delayed(ms: number, then: FakeTurn): FakeTurn {
  return { kind: 'delay', ms, then };
}

export function hang(): FakeTurn {
  return { kind: 'hang' };
}

/**
 * Answers requests with `turns` in order; once exhausted, answers `fallback`
 * (by default a final message, so a run always ends).
 */
export function scriptedResponder(
  turns: readonly FakeTurn[],
  fallback: FakeTurn = finalMessage('Nothing left to do.'),
): FakeResponder {
  let next = 0;
  return () => {
    const turn = turns[next];
    next += 1;
    return turn ?? fallback;
  };
}

// --- reading requests -------------------------------------------------------------

export interface ToolOutput {
  type: 'function_call_output' | 'custom_tool_call_output';
  callId: string;
  output: string;
}

type Json = Record<string, unknown>;

function field(value: unknown, name: string): unknown {
  return value && typeof value === 'object' ? (value as Json)[name] : undefined;
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    return output
      .map((part: unknown) => {
        const text = field(part, 'text');
        return typeof text === 'string' ? text : JSON.stringify(part);
      })
      .join('');
  }
  if (output && typeof output === 'object' && 'content' in output) {
    return outputText((output as { content: unknown }).content);
  }
  return JSON.stringify(output ?? null);
}

/** Every tool output carried in a request's `input`, oldest first. */
export function toolOutputs(body: unknown): ToolOutput[] {
  const input = field(body, 'input');
  if (!Array.isArray(input)) return [];
  const outputs: ToolOutput[] = [];
  for (const item of input) {
    const type = field(item, 'type');
    if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      outputs.push({
        type,
        callId: String(field(item, 'call_id') ?? ''),
        output: outputText(field(item, 'output')),
      });
    }
  }
  return outputs;
}

/** True when the request answers a tool call: its last input item is a tool output. */
export function isToolFollowUp(body: unknown): boolean {
  const input = field(body, 'input');
  if (!Array.isArray(input) || input.length === 0) return false;
  const type = field(input[input.length - 1], 'type');
  return type === 'function_call_output' || type === 'custom_tool_call_output';
}

// --- the server ---------------------------------------------------------------------

function usageJson(usage: Partial<FakeUsage> | undefined) {
  const input = usage?.inputTokens ?? 100;
  const cached = usage?.cachedInputTokens ?? 0;
  const output = usage?.outputTokens ?? 20;
  const reasoning = usage?.reasoningTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}

function sse(res: ServerResponse, type: string, data: Record<string, unknown>): void {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

function sendItem(
  res: ServerResponse,
  responseId: string,
  item: Record<string, unknown>,
  usage?: Partial<FakeUsage>,
) {
  startSse(res);
  sse(res, 'response.created', { response: { id: responseId } });
  sse(res, 'response.output_item.done', { output_index: 0, item });
  sse(res, 'response.completed', { response: { id: responseId, usage: usageJson(usage) } });
  res.end();
}

async function sendTurn(res: ServerResponse, turn: FakeTurn, onHang: () => void): Promise<void> {
  const responseId = `resp_${randomUUID()}`;
  switch (turn.kind) {
    case 'message': {
      const id = `msg_${randomUUID()}`;
      startSse(res);
      sse(res, 'response.created', { response: { id: responseId } });
      sse(res, 'response.output_item.added', {
        output_index: 0,
        item: { type: 'message', role: 'assistant', id, content: [] },
      });
      sse(res, 'response.output_text.delta', {
        item_id: id,
        output_index: 0,
        content_index: 0,
        delta: turn.text,
      });
      sse(res, 'response.output_item.done', {
        output_index: 0,
        item: {
          type: 'message',
          role: 'assistant',
          id,
          status: 'completed',
          content: [{ type: 'output_text', text: turn.text, annotations: [] }],
        },
      });
      sse(res, 'response.completed', { response: { id: responseId, usage: usageJson(turn.usage) } });
      res.end();
      return;
    }
    case 'apply_patch':
      sendItem(
        res,
        responseId,
        {
          type: 'custom_tool_call',
          id: `ctc_${randomUUID()}`,
          status: 'completed',
          call_id: turn.callId,
          name: 'apply_patch',
          input: turn.patch,
        },
        turn.usage,
      );
      return;
    case 'exec_command':
      sendItem(
        res,
        responseId,
        {
          type: 'function_call',
          id: `fc_${randomUUID()}`,
          status: 'completed',
          call_id: turn.callId,
          name: 'exec_command',
          arguments: JSON.stringify(
            turn.yieldTimeMs === undefined
              ? { cmd: turn.cmd }
              : { cmd: turn.cmd, yield_time_ms: turn.yieldTimeMs },
          ),
        },
        turn.usage,
      );
      return;
    case 'http_error': {
      const body = JSON.stringify({
        error: { message: turn.message, type: 'server_error', code: turn.code ?? null, param: null },
      });
      res.writeHead(turn.status, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    case 'response_failed':
      startSse(res);
      sse(res, 'response.created', { response: { id: responseId } });
      sse(res, 'response.failed', {
        response: {
          id: responseId,
          status: 'failed',
          error: { code: turn.code ?? 'server_error', message: turn.message },
        },
      });
      res.end();
      return;
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, turn.ms));
      if (res.destroyed) return;
      await sendTurn(res, turn.then, onHang);
      return;
    case 'hang':
      startSse(res);
      sse(res, 'response.created', { response: { id: responseId } });
      onHang();
      return;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the fake on 127.0.0.1 with an OS-chosen port. */
export async function startFakeModelServer(respond: FakeResponder): Promise<FakeModelServer> {
  const requests: FakeRequest[] = [];
  const otherRequests: string[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'POST' && path === '/v1/responses') {
        const raw = await readBody(req);
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
        const request: FakeRequest = { body, index: requests.length };
        requests.push(request);
        const turn = await respond(request);
        await sendTurn(res, turn, () => {});
        return;
      }
      otherRequests.push(`${req.method} ${req.url}`);
      await readBody(req);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error), type: 'server_error' } }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    otherRequests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes `<dir>/config.toml` pointing Codex at the fake server through a `local`
 * provider (Responses API, no retries so failures are fast). Returns `dir`, to be
 * used as CODEX_HOME. The child needs `FAKE_API_KEY_ENV` set to any value.
 */
export async function writeCodexHome(dir: string, baseUrl: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = [
    'model_provider = "local"',
    `model = "${FAKE_MODEL}"`,
    '',
    '[model_providers.local]',
    'name = "local"',
    `base_url = "${baseUrl}"`,
    `env_key = "${FAKE_API_KEY_ENV}"`,
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.toml'), config);
  return dir;
}
