// Pure helpers for handing an installation token to git and keeping it out of text.

/** User name GitHub expects with an installation token in HTTP basic auth. */
export const TOKEN_USER = 'x-access-token';

/** The replacement for every secret in redacted text. */
export const REDACTED = '***';

function assertHeaderSafe(token: string): void {
  if (token.length === 0) throw new TypeError('The git token is empty.');
  // A control character would let a token inject further HTTP headers.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u001f\u007f]/.test(token)) throw new TypeError('The git token contains control characters.');
}

/** base64("x-access-token:" + token): the basic-auth credential git sends. */
export function basicCredential(token: string): string {
  assertHeaderSafe(token);
  return Buffer.from(`${TOKEN_USER}:${token}`, 'utf8').toString('base64');
}

/**
 * The `http.extraheader` value that authenticates git over HTTPS with an installation
 * token, exactly as actions/checkout does: `AUTHORIZATION: basic <base64>`.
 */
export function authHeaderValue(token: string): string {
  return `AUTHORIZATION: basic ${basicCredential(token)}`;
}

/** Every form in which a token could leak into git's output or our messages. */
export function tokenSecrets(token: string): string[] {
  if (token.length === 0) return [];
  const forms = new Set<string>([
    token,
    Buffer.from(`${TOKEN_USER}:${token}`, 'utf8').toString('base64'),
    Buffer.from(token, 'utf8').toString('base64'),
    encodeURIComponent(token),
  ]);
  return [...forms];
}

// scheme://user[:password]@host — credentials embedded in a URL.
const urlCredentials = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi;

/**
 * Replaces every occurrence of every secret (longest first, so a secret containing
 * another is replaced whole) and any credentials embedded in URLs with `***`.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  const ordered = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of ordered) out = out.split(secret).join(REDACTED);
  return out.replace(urlCredentials, `$1${REDACTED}@`);
}
