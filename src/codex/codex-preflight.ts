// Preflight of the Codex step: are there credentials Codex can use? Checked before any
// work, recorded in the credential audit, and a missing credential fails the step at once
// (a retry without a fix fails at once again, since it checks again).
//
// Local mode counts as credentials: `codex login status` exiting 0 (an auth.json with a
// ChatGPT login or an API key), a config.toml whose model_provider names an `env_key` that
// is set for the child (or needs no key), or OPENAI_API_KEY/CODEX_API_KEY for the child.
// Cloud mode needs an environment id and a ChatGPT login (an API key is not enough).
//
// What `codex login status` prints (stderr) at 0.169: "Logged in using ChatGPT" (exit 0),
// "API key configured - sk-test-***67890" (exit 0), "Not logged in" (exit 1); see
// openai/codex codex-rs/cli/src/login.rs `run_login_status`, and measured with 0.169.0.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { CODEX_API_KEY_VARS } from './codex-env.ts';
import { codexAuthRemedy } from './codex-error.ts';
import type { CodexMode } from './codex-runner.ts';

export interface CodexPreflightOptions {
  mode: CodexMode;
  codexBin: string;
  /** The child's environment (buildCodexEnv): CODEX_HOME and the passed-through keys. */
  env: Record<string, string>;
  /** Cloud: the environment id the task would run in. */
  cloudEnv?: string | undefined;
  /** Run `codex login status` as this user (setpriv), so it creates nothing root-owned in CODEX_HOME. */
  runAs?: { uid: number; gid: number };
  setpriv?: string | false;
  timeoutMs?: number;
}

export interface CodexCredentialCheck {
  ok: boolean;
  /** For the audit's codex_status: `ok`, `missing`. */
  status: 'ok' | 'missing';
  /** What was found (never a secret): for the audit's notes. */
  notes: string;
  /** How to fix it, when missing. */
  remedy: string | null;
}

interface ProviderInfo {
  name: string;
  envKey: string | null;
  requiresOpenaiAuth: boolean;
}

function tomlString(text: string, key: string): string | null {
  const match = new RegExp(`^\\s*${key}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'm').exec(text);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

/**
 * The model provider a config.toml selects, with its env_key (a small reader for the few
 * keys we need: top-level `model_provider` and the `[model_providers.<name>]` table).
 */
export function readModelProvider(configToml: string): ProviderInfo | null {
  const firstTable = configToml.search(/^\s*\[/m);
  const top = firstTable === -1 ? configToml : configToml.slice(0, firstTable);
  const name = tomlString(top, 'model_provider');
  if (!name || name === 'openai') return null;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const header = new RegExp(`^\\s*\\[model_providers\\.(?:"${escaped}"|${escaped})\\]\\s*$`, 'm').exec(
    configToml,
  );
  if (!header) return { name, envKey: null, requiresOpenaiAuth: false };
  const rest = configToml.slice(header.index + header[0].length);
  const next = rest.search(/^\s*\[/m);
  const table = next === -1 ? rest : rest.slice(0, next);
  return {
    name,
    envKey: tomlString(table, 'env_key'),
    requiresOpenaiAuth: /^\s*requires_openai_auth\s*=\s*true/m.test(table),
  };
}

function redact(text: string): string {
  return text.replace(/\b(sk-[A-Za-z0-9_-]{0,8})[A-Za-z0-9_*-]*/g, '$1***');
}

function statusLine(output: string): string {
  return (
    output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('WARNING: proceeding'))[0] ?? ''
  );
}

async function loginStatus(
  options: CodexPreflightOptions,
): Promise<{ exitCode: number | null; line: string }> {
  const args = ['login', 'status'];
  const setpriv = options.runAs ? (options.setpriv ?? '/usr/bin/setpriv') : false;
  const [file, argv] =
    setpriv && options.runAs
      ? [
          setpriv,
          [
            '--reuid',
            String(options.runAs.uid),
            '--regid',
            String(options.runAs.gid),
            '--clear-groups',
            '--',
            options.codexBin,
            ...args,
          ],
        ]
      : [options.codexBin, args];
  const result = await execa(file, argv, {
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: options.timeoutMs ?? 30_000,
    all: true,
  });
  return { exitCode: result.exitCode ?? null, line: redact(statusLine(String(result.all ?? ''))) };
}

export async function checkCodexCredentials(options: CodexPreflightOptions): Promise<CodexCredentialCheck> {
  const codexHome = options.env.CODEX_HOME;
  if (options.mode === 'cloud') {
    const envId = options.cloudEnv?.trim();
    if (!envId) {
      return {
        ok: false,
        status: 'missing',
        notes: 'cloud: no Codex Cloud environment id',
        remedy:
          'Set CODEX_CLOUD_ENV to the id of a Codex Cloud environment for this repository ' +
          '(run `codex cloud` to browse them), or run the phase locally.',
      };
    }
    const login = await loginStatus(options);
    if (login.exitCode === 0 && /chatgpt/i.test(login.line)) {
      return { ok: true, status: 'ok', notes: `cloud: environment ${envId}; ${login.line}`, remedy: null };
    }
    return {
      ok: false,
      status: 'missing',
      notes: `cloud: environment ${envId}; login status: ${login.line || `exit code ${login.exitCode}`}`,
      remedy:
        `Codex Cloud needs a ChatGPT login: run \`codex login\`${codexHome ? ` with CODEX_HOME=${codexHome}` : ''} ` +
        'as the user the worker runs as (an API key is not enough), then retry.',
    };
  }

  const login = await loginStatus(options);
  if (login.exitCode === 0) return { ok: true, status: 'ok', notes: `local: ${login.line}`, remedy: null };
  const found: string[] = [`login status: ${login.line || `exit code ${login.exitCode}`}`];
  const configToml = codexHome
    ? await readFile(join(codexHome, 'config.toml'), 'utf8').catch(() => null)
    : null;
  const provider = configToml ? readModelProvider(configToml) : null;
  if (provider) {
    if (provider.envKey && options.env[provider.envKey]) {
      return {
        ok: true,
        status: 'ok',
        notes: `local: config.toml provider "${provider.name}" reads ${provider.envKey}, which is set`,
        remedy: null,
      };
    }
    if (!provider.envKey && !provider.requiresOpenaiAuth) {
      return {
        ok: true,
        status: 'ok',
        notes: `local: config.toml provider "${provider.name}" needs no API key`,
        remedy: null,
      };
    }
    if (provider.envKey) {
      return {
        ok: false,
        status: 'missing',
        notes: `local: config.toml provider "${provider.name}" reads ${provider.envKey}, which Codex does not get`,
        remedy:
          `Set ${provider.envKey} for the worker and list it in CODEX_ENV_PASSTHROUGH ` +
          `(the provider "${provider.name}" in config.toml reads its API key from it), then retry.`,
      };
    }
  }
  const key = CODEX_API_KEY_VARS.find((name) => options.env[name]);
  if (key) return { ok: true, status: 'ok', notes: `local: ${key} is set`, remedy: null };
  return {
    ok: false,
    status: 'missing',
    notes: `local: no credentials (${found.join('; ')})`,
    remedy: codexAuthRemedy(codexHome),
  };
}
