// Finds the native Codex binary shipped by the installed `@openai/codex` platform package.
// The package's `bin/codex.js` is a Node wrapper that, on older Node versions, spawns the
// binary as a second process which outlives a killed wrapper: always run the binary itself.

import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.ts';

interface CodexTarget {
  triple: string;
  packageName: string;
  executable: string;
}

const TARGETS: Readonly<Record<string, CodexTarget>> = {
  'linux-x64': {
    triple: 'x86_64-unknown-linux-musl',
    packageName: '@openai/codex-linux-x64',
    executable: 'codex',
  },
  'linux-arm64': {
    triple: 'aarch64-unknown-linux-musl',
    packageName: '@openai/codex-linux-arm64',
    executable: 'codex',
  },
  'darwin-x64': {
    triple: 'x86_64-apple-darwin',
    packageName: '@openai/codex-darwin-x64',
    executable: 'codex',
  },
  'darwin-arm64': {
    triple: 'aarch64-apple-darwin',
    packageName: '@openai/codex-darwin-arm64',
    executable: 'codex',
  },
  'win32-x64': {
    triple: 'x86_64-pc-windows-msvc',
    packageName: '@openai/codex-win32-x64',
    executable: 'codex.exe',
  },
  'win32-arm64': {
    triple: 'aarch64-pc-windows-msvc',
    packageName: '@openai/codex-win32-arm64',
    executable: 'codex.exe',
  },
};

export interface ResolveCodexBinOptions {
  platform?: NodeJS.Platform;
  arch?: string;
  /** A file or directory URL/path to resolve packages from; defaults to this module. */
  resolveFrom?: string;
}

function tryResolve(require: NodeJS.Require, request: string): string | null {
  try {
    return require.resolve(request);
  } catch {
    return null;
  }
}

/**
 * The absolute path of the native `codex` binary for this platform.
 * Throws a ConfigError saying what to install when it is missing.
 */
export function resolveCodexBin(options: ResolveCodexBinOptions = {}): string {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const target = TARGETS[`${platform}-${arch}`];
  if (!target) {
    throw new ConfigError(
      `The Codex CLI has no native build for ${platform}/${arch}. Run the worker on Linux or macOS (x64 or arm64).`,
      { code: 'codex_not_installed' },
    );
  }

  const require = createRequire(options.resolveFrom ?? import.meta.url);
  // The platform package is an optional dependency of @openai/codex: hoisted next to it
  // or nested under it.
  const candidates: string[] = [];
  const hoisted = tryResolve(require, `${target.packageName}/package.json`);
  if (hoisted) candidates.push(dirname(hoisted));
  const wrapper = tryResolve(require, '@openai/codex/package.json');
  if (wrapper) {
    const nested = tryResolve(createRequire(wrapper), `${target.packageName}/package.json`);
    if (nested) candidates.push(dirname(nested));
    candidates.push(dirname(wrapper));
  }

  for (const root of candidates) {
    const binary = join(root, 'vendor', target.triple, 'bin', target.executable);
    if (!existsSync(binary)) continue;
    try {
      accessSync(binary, constants.X_OK);
    } catch (cause) {
      throw new ConfigError(`The Codex binary ${binary} is not executable. Run \`chmod +x ${binary}\`.`, {
        code: 'codex_not_installed',
        cause,
      });
    }
    return binary;
  }

  throw new ConfigError(
    `The Codex CLI is not installed for ${platform}/${arch}: ${target.packageName} was not found. ` +
      'Run `npm install @openai/codex` (without --omit=optional or --no-optional, so npm installs the ' +
      `platform package ${target.packageName}).`,
    { code: 'codex_not_installed' },
  );
}
