// API authentication: `Authorization: Bearer <SPECKIT_API_TOKEN>` compared in
// constant time, or the dashboard's session cookie, obtained by posting the
// token once. The cookie is stateless (an expiry signed with an HMAC keyed by
// the token), so any web process accepts it and changing the token ends every
// session. A token is never accepted in a URL.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'speckit_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export type AuthResult =
  | { kind: 'ok'; via: 'bearer' | 'session' }
  | { kind: 'unauthenticated'; message: string }
  | { kind: 'not_configured' };

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time equality of two secrets of any length (compares their SHA-256). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function sign(token: string, expiresAt: number): string {
  return createHmac('sha256', token).update(`speckit-session:v1:${expiresAt}`).digest('base64url');
}

export function createSessionValue(token: string, now = Date.now()): { value: string; expiresAt: number } {
  const expiresAt = now + SESSION_TTL_MS;
  return { value: `v1.${expiresAt}.${sign(token, expiresAt)}`, expiresAt };
}

/** The expiry of a valid session cookie value, else null. */
export function verifySessionValue(token: string, value: string, now = Date.now()): number | null {
  const match = /^v1\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return null;
  const expiresAt = Number(match[1]);
  if (!(expiresAt > now)) return null;
  return secretsEqual(match[2] ?? '', sign(token, expiresAt)) ? expiresAt : null;
}

export function readCookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return null;
}

export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function authenticate(req: IncomingMessage, token: string | undefined): AuthResult {
  if (!token) return { kind: 'not_configured' };
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match && secretsEqual(match[1] ?? '', token)) return { kind: 'ok', via: 'bearer' };
    return { kind: 'unauthenticated', message: 'The bearer token is not the configured SPECKIT_API_TOKEN.' };
  }
  const cookie = readCookie(req, SESSION_COOKIE);
  if (cookie !== null) {
    if (verifySessionValue(token, cookie) !== null) return { kind: 'ok', via: 'session' };
    return {
      kind: 'unauthenticated',
      message: 'The session has expired or the API token changed: sign in again with the token.',
    };
  }
  return {
    kind: 'unauthenticated',
    message:
      'Authentication required: send `Authorization: Bearer <SPECKIT_API_TOKEN>`, or POST {"token": …} to /api/workflows/speckit/session for a session cookie.',
  };
}

export const NOT_CONFIGURED_MESSAGE =
  'The REST API is disabled because SPECKIT_API_TOKEN is not set. Set SPECKIT_API_TOKEN to a long random secret ' +
  '(e.g. `openssl rand -hex 32`) in the environment of the web process and restart it; then send it as ' +
  '`Authorization: Bearer <token>` or sign in to the dashboard with it.';
