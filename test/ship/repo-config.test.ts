// `.github/speckit.yml`: schema (valid, invalid with field-naming messages,
// defaults) and the loader (contents API at the default branch's head, cached
// per commit sha).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../../src/errors.ts';
import {
  createRepoConfigLoader,
  DEFAULT_REPO_CONFIG,
  parseRepoConfig,
  REPO_CONFIG_FIELDS,
  RepoConfigError,
} from '../../src/repo-config/index.ts';

const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
/** The README's `.github/speckit.yml` example. */
const readmeExample = /```yaml\n(# \.github\/speckit\.yml[\s\S]*?)```/.exec(readme)?.[1] ?? '';

/** The dotted leaf paths of a parsed YAML mapping. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [prefix.slice(0, -1)];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, `${prefix}${key}.`));
}

function problemsOf(text: string): string {
  try {
    parseRepoConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RepoConfigError);
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('expected the file to be refused');
}

describe('the .github/speckit.yml schema', () => {
  it('applies the documented defaults when the file is absent or empty', () => {
    expect(DEFAULT_REPO_CONFIG).toEqual({
      specsDir: 'specs',
      branchPrefix: 'speckit/',
      pullRequest: { draft: false, labels: [] },
      codex: { mode: undefined, model: undefined, cloudEnv: undefined },
      diffLimits: { maxFiles: 200, maxLines: 20_000 },
      allowWorkflowChanges: false,
      allowedRunners: [],
      autoContinue: false,
      branchUpdate: 'merge',
      commands: { setup: [], verify: [], onVerifyFailure: 'fail' },
      limits: { maxActiveRuns: undefined, maxRunsPerDay: undefined },
    });
    expect(parseRepoConfig('')).toEqual(DEFAULT_REPO_CONFIG);
    expect(parseRepoConfig('# nothing set yet\n')).toEqual(DEFAULT_REPO_CONFIG);
    expect(Object.isFrozen(DEFAULT_REPO_CONFIG.pullRequest.labels)).toBe(true);
  });

  it('reads every field of a complete file', () => {
    const config = parseRepoConfig(`
version: 1
specs_dir: docs/specs/
branch_prefix: bot/speckit-
pull_request:
  draft: true
  labels: [speckit, needs-review]
codex:
  mode: cloud
  model: gpt-5.5
  cloud_env: env_123
diff_limits:
  max_files: 50
  max_lines: 3000
allow_workflow_changes: true
allowed_runners: [octocat, my-org/maintainers]
auto_continue: true
branch_update: rebase
commands:
  setup: npm ci
  verify: [npm test, npm run lint]
limits:
  max_active_runs: 2
  max_runs_per_day: 40
`);
    expect(config).toEqual({
      specsDir: 'docs/specs',
      branchPrefix: 'bot/speckit-',
      pullRequest: { draft: true, labels: ['speckit', 'needs-review'] },
      codex: { mode: 'cloud', model: 'gpt-5.5', cloudEnv: 'env_123' },
      diffLimits: { maxFiles: 50, maxLines: 3000 },
      allowWorkflowChanges: true,
      allowedRunners: ['octocat', 'my-org/maintainers'],
      autoContinue: true,
      branchUpdate: 'rebase',
      commands: { setup: ['npm ci'], verify: ['npm test', 'npm run lint'], onVerifyFailure: 'fail' },
      limits: { maxActiveRuns: 2, maxRunsPerDay: 40 },
    });
  });

  it('accepts the example of the README', () => {
    const config = parseRepoConfig(readmeExample);
    expect(config.allowedRunners).toEqual([]);
    expect(config.commands).toEqual({ setup: ['npm ci'], verify: ['npm test'], onVerifyFailure: 'fail' });
    expect(config.codex.model).toBe('gpt-5.5');
  });

  it('documents every field in the README example, and no other', () => {
    expect(REPO_CONFIG_FIELDS).toContain('commands.on_verify_failure');
    expect(leafPaths(parseYaml(readmeExample)).sort()).toEqual([...REPO_CONFIG_FIELDS].sort());
  });

  it('shows in the README the message an invalid file really gets', () => {
    const shown = /An invalid\s+file makes commands reply[^`]*```text\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown, 'README, "Per-repository configuration": the sample reply').toBeDefined();
    expect(`@octocat ${problemsOf('pull_request:\n  draft: "yes"\n')}\n`).toBe(shown);
  });

  it('reads max_active_runs as given (the server caps it when runs are admitted) and refuses nonsense', () => {
    expect(parseRepoConfig('limits:\n  max_active_runs: 25\n').limits.maxActiveRuns).toBe(25);
    expect(problemsOf('limits:\n  max_active_runs: 0\n')).toContain('`limits.max_active_runs`');
  });

  it('keeps defaults for the fields a partial file leaves out', () => {
    const config = parseRepoConfig('pull_request:\n  draft: true\n');
    expect(config.pullRequest).toEqual({ draft: true, labels: [] });
    expect(config.branchPrefix).toBe('speckit/');
    // Unset: the server's SPECKIT_MAX_ACTIVE_RUNS applies.
    expect(config.limits.maxActiveRuns).toBeUndefined();
  });

  it('names the file, the field and the problem for a wrong type', () => {
    const message = problemsOf('pull_request:\n  draft: "yes"\n');
    expect(message).toContain('.github/speckit.yml is invalid');
    expect(message).toContain('`pull_request.draft`: expected a boolean, got string');
  });

  it('names every bad field at once, including list items and unknown keys', () => {
    const message = problemsOf(`
branch_prefix: "../escape"
codex:
  mode: remote
allowed_runners: [octocat, "not a user"]
diff_limits:
  max_files: -1
auto_contine: true
branch_update: squash
`);
    expect(message).toContain('`branch_prefix`:');
    expect(message).toMatch(/`codex\.mode`: .*"local".*"cloud"/);
    expect(message).toContain('`allowed_runners[1]`: expected a GitHub username or "org/team"');
    expect(message).toMatch(/`diff_limits\.max_files`: .*(>0|positive|greater)/i);
    expect(message).toContain('`auto_contine`: is not a known field (check the spelling)');
    expect(message).toMatch(/`branch_update`: .*"merge".*"rebase"/);
  });

  it('refuses paths outside the repository and reports YAML syntax errors with a line', () => {
    expect(problemsOf('specs_dir: ../../etc\n')).toContain(
      '`specs_dir`: must be a path inside the repository (relative, without "..")',
    );
    expect(problemsOf('pull_request: [unclosed\n')).toMatch(/`\(file\)`: is not valid YAML \(line \d+\)/);
    expect(problemsOf('- just\n- a list\n')).toContain('`(file)`: expected a mapping of fields');
  });
});

describe('loadRepoConfig', () => {
  const api = 'https://api.github.com';
  const octokit = new ProbotOctokit({
    auth: { token: 'test' },
    retry: { enabled: false },
    throttle: { enabled: false },
  } as never);
  const repo = { owner: 'octo', name: 'hello' };

  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  function branchAt(sha: string) {
    return nock(api).get('/repos/octo/hello/branches/main').reply(200, { name: 'main', commit: { sha } });
  }
  function fileAt(sha: string, text: string | null) {
    const scope = nock(api).get('/repos/octo/hello/contents/.github%2Fspeckit.yml').query({ ref: sha });
    return text === null
      ? scope.reply(404, { message: 'Not Found' })
      : scope.reply(200, {
          type: 'file',
          encoding: 'base64',
          content: Buffer.from(text).toString('base64'),
        });
  }

  it('reads the file at the head commit of the default branch and caches it per commit', async () => {
    const loader = createRepoConfigLoader();
    branchAt('a'.repeat(40));
    fileAt('a'.repeat(40), 'pull_request:\n  draft: true\n');
    expect((await loader.load(octokit, repo, 'main')).pullRequest.draft).toBe(true);
    // Same commit: only the branch is asked again.
    branchAt('a'.repeat(40));
    expect((await loader.load(octokit, repo, 'main')).pullRequest.draft).toBe(true);
    // A new commit: the file is read again.
    branchAt('b'.repeat(40));
    fileAt('b'.repeat(40), 'pull_request:\n  draft: false\n');
    expect((await loader.load(octokit, repo, 'main')).pullRequest.draft).toBe(false);
    expect(loader.size).toBe(2);
    expect(nock.isDone()).toBe(true);
  });

  it('applies the defaults when the file is absent, and throws a UserError when it is invalid', async () => {
    const loader = createRepoConfigLoader();
    branchAt('c'.repeat(40));
    fileAt('c'.repeat(40), null);
    expect(await loader.load(octokit, repo, 'main')).toBe(DEFAULT_REPO_CONFIG);
    branchAt('d'.repeat(40));
    fileAt('d'.repeat(40), 'limits:\n  max_active_runs: lots\n');
    await expect(loader.load(octokit, repo, 'main')).rejects.toThrow(
      /`limits\.max_active_runs`: expected a number, got string/,
    );
  });

  it('does not cache a GitHub failure', async () => {
    const loader = createRepoConfigLoader();
    branchAt('e'.repeat(40));
    nock(api)
      .get('/repos/octo/hello/contents/.github%2Fspeckit.yml')
      .query(true)
      .reply(502, { message: 'Bad Gateway' });
    await expect(loader.load(octokit, repo, 'main')).rejects.toMatchObject({ status: 502 });
    branchAt('e'.repeat(40));
    fileAt('e'.repeat(40), 'auto_continue: true\n');
    expect((await loader.load(octokit, repo, 'main')).autoContinue).toBe(true);
  });
});
