import { type Logger, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/** Paths that may hold a secret in anything we log; pino replaces their values. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
  'webhookSecret',
  '*.webhookSecret',
  'databaseUrl',
  '*.databaseUrl',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
];

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    name: 'speckit-bot',
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '***' },
  });
}
