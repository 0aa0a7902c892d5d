// The environment the Codex child process gets: the minimum it needs, nothing of the app's.
// Codex hands its own environment to every command the model runs, so whatever is here
// can end up in a diff.

import { ConfigError } from '../errors.ts';

export interface CodexEnvOptions {
  /** CODEX_HOME for the child (its config.toml, auth.json, state). */
  codexHome: string;
  /** HOME for the child. */
  home: string;
  /**
   * TMPDIR for the child. The workspace-write sandbox lets commands write the
   * workspace and TMPDIR; /tmp itself is excluded (see codexExecArgs), so temp
   * files go to a directory of this attempt's own, outside the diff.
   */
  tmpDir?: string;
  /**
   * More variable names to copy from `source` when set, e.g. the API key variable a custom
   * provider's `env_key` names. Names of the app's own secrets are refused.
   */
  passthrough?: readonly string[];
}

/** Variables copied from the source environment when set. */
export const CODEX_API_KEY_VARS: readonly string[] = ['OPENAI_API_KEY', 'CODEX_API_KEY'];

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';
const DEFAULT_LANG = 'C.UTF-8';

/** The app's own secrets: never passed to Codex, even when asked to. */
const FORBIDDEN = new Set([
  'PRIVATE_KEY',
  'PRIVATE_KEY_PATH',
  'APP_PRIVATE_KEY',
  'GITHUB_PRIVATE_KEY',
  'WEBHOOK_SECRET',
  'GITHUB_WEBHOOK_SECRET',
  'DATABASE_URL',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITHUB_CLIENT_SECRET',
  'CLIENT_SECRET',
  'API_TOKEN',
  'SPECKIT_API_TOKEN',
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['PATH', 'HOME', 'CODEX_HOME', 'LANG', 'TMPDIR']);

/**
 * A minimal environment for the Codex child: PATH, HOME, CODEX_HOME, LANG, TMPDIR, the API key
 * variables when set, and the passthrough names when set. Pure.
 */
export function buildCodexEnv(source: NodeJS.ProcessEnv, options: CodexEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: source.PATH || DEFAULT_PATH,
    HOME: options.home,
    CODEX_HOME: options.codexHome,
    LANG: source.LANG || DEFAULT_LANG,
  };
  if (options.tmpDir) env.TMPDIR = options.tmpDir;
  const names = [...CODEX_API_KEY_VARS, ...(options.passthrough ?? [])];
  for (const name of names) {
    if (!NAME.test(name)) {
      throw new ConfigError(
        `"${name}" is not an environment variable name; fix the Codex passthrough list.`,
        {
          code: 'codex_env_invalid',
        },
      );
    }
    if (FORBIDDEN.has(name.toUpperCase())) {
      throw new ConfigError(
        `${name} holds one of the app's secrets and must not reach Codex; remove it from the Codex passthrough list.`,
        { code: 'codex_env_invalid' },
      );
    }
    if (RESERVED.has(name)) continue;
    const value = source[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  return env;
}
