import { type DestinationStream, type Logger, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/** Field names that hold a secret (or a URL with one), at any of the first three levels of a log object. */
const SECRET_FIELDS = [
  'token',
  'privateKey',
  'webhookSecret',
  'databaseUrl',
  'connectionString',
  'password',
  'apiToken',
  // The values of CODEX_ENV_PASSTHROUGH (an API key, typically) in Config.codex.
  'childEnv',
];

/** Paths that may hold a secret in anything we log; pino replaces their values. */
export const REDACTED_PATHS = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
  ...['authorization', 'Authorization'].flatMap((header) => [
    `headers.${header}`,
    `*.headers.${header}`,
    // An Octokit RequestError logged as `err`: err.request.headers.authorization.
    `*.*.headers.${header}`,
  ]),
];

/** pino's redaction of REDACTED_PATHS (the tests' loggers use it too). */
export const REDACTION = { paths: REDACTED_PATHS, censor: '***' };

/** The app's logger: JSON lines on stdout (or `destination`), secrets masked. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = { name: 'speckit-bot', level: config.logLevel, redact: REDACTION };
  return destination ? pino(options, destination) : pino(options);
}
