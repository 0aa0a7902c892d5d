// A throwaway world for one real Codex run against the fake model server: a CODEX_HOME
// whose config.toml points at the fake, a HOME for the child, a git repository to work
// in, and an artifacts directory for codex.jsonl and the last message.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { buildCodexEnv } from '../../src/codex/codex-env.ts';
import { FAKE_API_KEY_ENV, writeCodexHome } from './fake-model-server.ts';

export interface CodexTestWorld {
  base: string;
  codexHome: string;
  home: string;
  repo: string;
  logPath: string;
  lastMessagePath: string;
  /** The child's environment: buildCodexEnv over `source` plus the fake's API key. */
  env(source?: NodeJS.ProcessEnv): Record<string, string>;
  cleanup(): Promise<void>;
}

/** Creates the world; `files` are committed into the repository (default: README.md = "old\n"). */
export async function createCodexTestWorld(
  modelServerUrl: string,
  files: Record<string, string> = { 'README.md': 'old\n' },
): Promise<CodexTestWorld> {
  const base = await mkdtemp(join(tmpdir(), 'speckit-codex-'));
  const codexHome = await writeCodexHome(join(base, 'codex-home'), modelServerUrl);
  const home = join(base, 'home');
  const repo = join(base, 'repo');
  const artifacts = join(base, 'artifacts');
  await Promise.all([mkdir(home), mkdir(repo), mkdir(artifacts)]);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
  const git = (...args: string[]) =>
    execa('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: repo });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'initial');
  return {
    base,
    codexHome,
    home,
    repo,
    logPath: join(artifacts, 'codex.jsonl'),
    lastMessagePath: join(artifacts, 'last-message.txt'),
    env: (source = process.env) =>
      buildCodexEnv(
        { ...source, [FAKE_API_KEY_ENV]: 'fake-key' },
        { codexHome, home, passthrough: [FAKE_API_KEY_ENV] },
      ),
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
}
