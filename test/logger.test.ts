// The logger masks secrets wherever the app (or a library) puts them in a log
// object: tokens, the private key, the webhook secret, the database URL with
// its password, authorization headers — also inside a whole Config or an
// Octokit request error. Each case logs a real secret value and looks for it
// in the line written.
import { RequestError } from '@octokit/request-error';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';

const TOKEN = 'ghs_0123456789abcdefghijklmnopqrstuvwxyz';
const PRIVATE_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
const WEBHOOK_SECRET = 'whsec-5b2d7e9f1a3c';
const DB_PASSWORD = 'pw-9c4e1b7a2f6d';
const DATABASE_URL = `postgresql://speckit:${DB_PASSWORD}@127.0.0.1:1/speckit`;
const API_TOKEN = 'api-token-3e8a0c6b4d2f';
const OPENAI_KEY = 'sk-test-7d1f3b5a9e2c';

function capture() {
  const lines: string[] = [];
  const log = createLogger({ logLevel: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

const keyBody = PRIVATE_KEY.split('\n')[1] as string;
const SECRETS: Record<string, string> = {
  token: TOKEN,
  'private key': keyBody,
  'webhook secret': WEBHOOK_SECRET,
  'database password': DB_PASSWORD,
  'API token': API_TOKEN,
  'OpenAI key': OPENAI_KEY,
};

function leaks(line: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, secret]) => line.includes(secret))
    .map(([name]) => name);
}

describe('the logger’s redaction', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['a token', { token: TOKEN }],
    ['a token one level down', { auth: { token: TOKEN } }],
    ['a token two levels down', { installation: { auth: { token: TOKEN } } }],
    ['a private key', { privateKey: PRIVATE_KEY }],
    ['a private key in the GitHub settings', { github: { privateKey: PRIVATE_KEY } }],
    ['a webhook secret', { webhookSecret: WEBHOOK_SECRET }],
    ['a webhook secret one level down', { github: { webhookSecret: WEBHOOK_SECRET } }],
    ['a database URL', { databaseUrl: DATABASE_URL }],
    ['pg client options', { pg: { connectionString: DATABASE_URL, password: DB_PASSWORD } }],
    ['an authorization header', { headers: { authorization: `token ${TOKEN}` } }],
    ['a request’s authorization header', { req: { headers: { authorization: `Bearer ${API_TOKEN}` } } }],
    [
      'a capitalised Authorization header two levels down',
      { request: { options: { headers: { Authorization: `token ${TOKEN}` } } } },
    ],
  ];
  for (const [name, object] of cases) {
    it(`masks ${name}`, () => {
      const { log, lines } = capture();
      log.info(object, 'something happened');
      expect(lines).toHaveLength(1);
      console.log(`injected: ${name}; observed: ${leaks(lines[0] ?? '').length} secret(s) in the line`);
      expect(leaks(lines[0] as string), lines[0]).toEqual([]);
      expect(lines[0]).toContain('"***"');
    });
  }

  it('masks every secret of a whole Config logged as one object', () => {
    const config = readConfig(
      {
        DATABASE_URL,
        APP_ID: '1',
        PRIVATE_KEY,
        WEBHOOK_SECRET,
        SPECKIT_API_TOKEN: API_TOKEN,
        OPENAI_API_KEY: OPENAI_KEY,
        CODEX_ENV_PASSTHROUGH: 'OPENAI_API_KEY',
      },
      '/tmp',
    );
    // The Config really holds them all but the token (so the check below checks something).
    const raw = JSON.stringify(config);
    expect(Object.values(SECRETS).filter((secret) => raw.includes(secret))).toHaveLength(5);
    const { log, lines } = capture();
    log.info({ config }, 'configuration');
    log.info(config, 'configuration, spread');
    console.log(
      `injected: a Config holding 5 secrets, logged nested and spread; observed: ${
        lines.flatMap(leaks).length
      } secret(s) in ${lines.length} lines`,
    );
    for (const line of lines) expect(leaks(line), line).toEqual([]);
  });

  it('masks the authorization header of an Octokit request error logged as err', () => {
    const error = new RequestError('Bad credentials', 401, {
      request: {
        method: 'POST',
        url: 'https://api.github.com/app/installations/1/access_tokens',
        headers: { authorization: `bearer ${TOKEN}`, 'user-agent': 'speckit-bot' },
      },
      response: {
        status: 401,
        url: 'https://api.github.com/app/installations/1/access_tokens',
        headers: {},
        data: { message: 'Bad credentials' },
      },
    });
    // Octokit also shortens it itself; the logger must not depend on that.
    (error.request.headers as Record<string, string>).authorization = `bearer ${TOKEN}`;
    const { log, lines } = capture();
    log.error({ err: error }, 'step failed');
    console.log(
      `injected: a RequestError carrying the token; observed: ${leaks(lines[0] ?? '').length} leak(s)`,
    );
    expect(leaks(lines[0] as string), lines[0]).toEqual([]);
    expect(lines[0]).toContain('Bad credentials');
  });

  it('logs a failed database connection without its password', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2_000 });
    const error = await client.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).not.toBeNull();
    const { log, lines } = capture();
    log.error({ err: error, databaseUrl: DATABASE_URL }, 'database unreachable');
    expect(leaks(lines[0] as string), lines[0]).toEqual([]);
  });
});
