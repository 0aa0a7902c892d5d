// Small HTTP helpers of the API: JSON answers in the `{code, message, details}`
// error shape, bounded JSON bodies, zod failures as 400s naming the fields.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly extra: Record<string, unknown>;
  constructor(
    status: number,
    code: string,
    message: string,
    details: unknown = null,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.extra = extra;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError, headers: Record<string, string> = {}): void {
  sendJson(
    res,
    error.status,
    { code: error.code, message: error.message, details: error.details, ...error.extra },
    headers,
  );
}

export const MAX_BODY_BYTES = 64 * 1024;

/** The request's JSON body; `{}` when there is none. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(413, 'body_too_large', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(
      400,
      'invalid_content_type',
      'Send the request body as JSON (Content-Type: application/json).',
      {
        contentType: type || null,
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(
      400,
      'invalid_json',
      `The request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/** Parses `input` or throws a 400 that names every offending field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'body' | 'query' | 'path',
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.flatMap((issue) => {
    // A query parameter is named as a whole (`status`, not `status.0` of its comma list).
    const segments = (where === 'query' ? issue.path.slice(0, 1) : issue.path).map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...segments, key].join('.'), message: 'unknown field' }));
    }
    return [{ field: segments.join('.') || where, message: issue.message }];
  });
  throw new ApiError(
    400,
    'validation_failed',
    `Invalid request ${where}: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`,
    { in: where, fields },
  );
}

export function queryObject(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  return query;
}
