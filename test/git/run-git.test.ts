import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GitError } from '../../src/git/git-error.ts';
import { authHeaderValue, gitEnvironment, runGit } from '../../src/git/run-git.ts';
import { cloneRepository, commitAll, lsRemoteBranch, pushBranch } from '../../src/git/workspace.ts';
import {
  createBareRepo,
  FIXTURE_IDENTITY,
  fixtureGit,
  makeTempDir,
  removeTempDirs,
  startGitHttpServer,
  writeFiles,
} from '../support/git-fixtures.ts';

const TOKEN = 'ghs_FakeToken0123456789abcdefABCDEF';
const TOKEN_B64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

function expectNoToken(text: string, token = TOKEN): void {
  expect(text).not.toContain(token);
  expect(text).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'));
  expect(text).not.toContain(Buffer.from(token).toString('base64'));
}

function errorText(error: unknown): string {
  const e = error as GitError;
  return [e.message, e.stack, e.stderr, e.stdout, ...e.args, JSON.stringify(e)].join('\n');
}

afterAll(removeTempDirs);

const savedEnv = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

describe('gitEnvironment', () => {
  it('inherits no GIT_* variables, no HOME and no app secrets, and disables prompts and system config', () => {
    const env = gitEnvironment(
      {},
      {
        PATH: '/usr/bin',
        HOME: '/root',
        GIT_DIR: '/elsewhere',
        GIT_AUTHOR_NAME: 'someone',
        GIT_CONFIG_PARAMETERS: "'core.hooksPath'='/tmp/evil'",
        GITHUB_PRIVATE_KEY: 'secret',
        HTTPS_PROXY: 'http://proxy:3128',
      },
    );
    expect(env.PATH).toBe('/usr/bin');
    expect(env.HTTPS_PROXY).toBe('http://proxy:3128');
    expect(env.HOME).toBeUndefined();
    expect(env.GIT_DIR).toBeUndefined();
    expect(env.GIT_AUTHOR_NAME).toBeUndefined();
    expect(env.GIT_CONFIG_PARAMETERS).toBeUndefined();
    expect(env.GITHUB_PRIVATE_KEY).toBeUndefined();
    expect(env).toMatchObject({
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    });
  });

  it('hands the token to git as http.extraheader through GIT_CONFIG_* variables', () => {
    const env = gitEnvironment({ auth: { token: TOKEN } }, {});
    const count = Number(env.GIT_CONFIG_COUNT);
    const config = Object.fromEntries(
      Array.from({ length: count }, (_, i) => [env[`GIT_CONFIG_KEY_${i}`], env[`GIT_CONFIG_VALUE_${i}`]]),
    );
    expect(config['http.extraheader']).toBe(`AUTHORIZATION: basic ${TOKEN_B64}`);
    expect(config['http.extraheader']).toBe(authHeaderValue(TOKEN));
    expect(config['core.hooksPath']).toBe('/dev/null');
  });

  it('refuses GIT_CONFIG_* in the extra environment so auth cannot be overridden', () => {
    expect(() => gitEnvironment({ env: { GIT_CONFIG_COUNT: '0' } }, {})).toThrow(/options.config/);
  });
});

describe('runGit', () => {
  it('ignores GIT_* variables of the parent process', async () => {
    const repo = await createBareRepo();
    process.env.GIT_DIR = '/nonexistent/git-dir';
    process.env.GIT_WORK_TREE = '/nonexistent';
    const { stdout } = await runGit(['rev-parse', '--is-bare-repository'], { cwd: repo.bareDir });
    expect(stdout).toBe('true\n');
  });

  it('returns stdout untrimmed and passes input on stdin', async () => {
    const repo = await createBareRepo();
    const { stdout } = await runGit(['hash-object', '--stdin'], { cwd: repo.bareDir, input: 'hello\n' });
    expect(stdout).toBe('ce013625030ba8dba906f756967f9e9ca394464a\n');
  });

  it('redacts the token from the message, args and output of a failed command', async () => {
    const repo = await createBareRepo();
    const error = await runGit(['rev-parse', '--verify', `${TOKEN}`], {
      cwd: repo.bareDir,
      auth: { token: TOKEN },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expectNoToken(errorText(error));
    expect((error as GitError).args).toContain('***');
    expect((error as GitError).exitCode).toBe(128);
  });

  it('reports a cancelled command as cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await runGit(['version'], { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).kind).toBe('cancelled');
  });

  it('reports a failed remote operation without the token (https, closed port)', async () => {
    const url = 'https://127.0.0.1:1/owner/repo.git';
    const error = await lsRemoteBranch(url, 'main', { token: TOKEN }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).kind).toBe('network');
    expect((error as GitError).transient).toBe(true);
    expect((error as GitError).message).toMatch(/git ls-remote failed/);
    expectNoToken(errorText(error));

    const pushError = await pushBranch({
      dir: (await createBareRepo()).bareDir,
      cloneUrl: url,
      branch: 'speckit/x',
      auth: { token: TOKEN },
    }).catch((e: unknown) => e);
    expect(pushError).toBeInstanceOf(GitError);
    expectNoToken(errorText(pushError));
  });

  it('refuses clone URLs that embed credentials', async () => {
    await expect(
      lsRemoteBranch(`https://x-access-token:${TOKEN}@github.com/o/r.git`, 'main'),
    ).rejects.toThrow(/embeds credentials/);
  });
});

describe('git over smart HTTP with an installation token', () => {
  it('sends the token as basic auth, clones and pushes, and stores it nowhere in the clone', async () => {
    const repo = await createBareRepo({ files: { 'README.md': '# over http\n' } });
    const server = await startGitHttpServer({ projectRoot: join(repo.bareDir, '..'), token: TOKEN });
    try {
      const cloneUrl = `${server.url}/origin.git`;
      const auth = { token: TOKEN };
      expect(await lsRemoteBranch(cloneUrl, 'main', auth)).toBe(await repo.readBranch('main'));
      expect(server.authorizations).toContain(`basic ${TOKEN_B64}`);

      const dir = join(await makeTempDir(), 'clone');
      await cloneRepository({ cloneUrl, dir, branch: 'main', auth });
      await writeFiles(dir, { 'new.txt': 'pushed over http\n' });
      const sha = await commitAll(dir, { message: 'Over HTTP', author: FIXTURE_IDENTITY });
      const pushed = await pushBranch({
        dir,
        cloneUrl,
        branch: 'speckit/http',
        auth,
        expectedRemoteSha: null,
      });
      expect(pushed).toMatchObject({ pushed: true, remoteSha: sha });
      // git's own account of the push, as the push log keeps it.
      expect(pushed.output).toContain('HEAD:refs/heads/speckit/http');
      expectNoToken(pushed.output);
      expect(await repo.readBranch('speckit/http')).toBe(sha);

      const config = await readFile(join(dir, '.git', 'config'), 'utf8');
      expectNoToken(config);
      expect(config.toLowerCase()).not.toContain('extraheader');
      expect(config).toContain(`url = ${cloneUrl}`);
      const listed = await fixtureGit(['config', '--list', '--show-origin'], dir);
      expectNoToken(listed);
      expect(listed.toLowerCase()).not.toContain('extraheader');
      const reflog = await fixtureGit(['reflog', '--all'], dir);
      expectNoToken(reflog);
      const logs = await fixtureGit(['log', '--all', '--format=%B'], dir);
      expectNoToken(logs);
    } finally {
      await server.close();
    }
  });

  it('fails with an auth error that does not contain the wrong token', async () => {
    const repo = await createBareRepo();
    const server = await startGitHttpServer({ projectRoot: join(repo.bareDir, '..'), token: TOKEN });
    try {
      const wrong = 'ghs_WrongToken9876543210zyxwvu';
      const error = await cloneRepository({
        cloneUrl: `${server.url}/origin.git`,
        dir: join(await makeTempDir(), 'clone'),
        branch: 'main',
        auth: { token: wrong },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitError);
      expect((error as GitError).kind).toBe('auth');
      expect((error as GitError).message).toMatch(/Contents read & write/);
      expectNoToken(errorText(error), wrong);
      expect(server.authorizations.at(-1)).toBe(
        `basic ${Buffer.from(`x-access-token:${wrong}`).toString('base64')}`,
      );
    } finally {
      await server.close();
    }
  });

  it('reports a missing repository as not found', async () => {
    const root = await makeTempDir();
    await mkdir(join(root, 'empty'));
    const server = await startGitHttpServer({ projectRoot: root });
    try {
      const error = await lsRemoteBranch(`${server.url}/missing.git`, 'main').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitError);
      expect((error as GitError).kind).toBe('not_found');
    } finally {
      await server.close();
    }
  });
});
