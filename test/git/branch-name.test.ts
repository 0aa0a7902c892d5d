import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import {
  authHeaderValue,
  branchNameProblem,
  featureBranchName,
  featureKeyProblem,
  redact,
} from '../../src/git/branch-name.ts';
import { tokenSecrets } from '../../src/git/secrets.ts';

async function gitAccepts(name: string): Promise<boolean> {
  const result = await execa('git', ['check-ref-format', '--branch', name], {
    reject: false,
    cwd: tmpdir(), // outside a repository, where --branch would expand '@' and '@{-1}'
    env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  return result.exitCode === 0;
}

describe('featureBranchName', () => {
  it('puts the feature key under speckit/', () => {
    expect(featureBranchName('001-user-auth')).toBe('speckit/001-user-auth');
  });

  it('accepts another prefix', () => {
    expect(featureBranchName('002-billing', 'bots/spec-')).toBe('bots/spec-002-billing');
  });

  it.each([
    ['', 'must not be empty'],
    ['001/evil', "may contain only letters, digits, '.', '_' and '-'"],
    ['has space', "may contain only letters, digits, '.', '_' and '-'"],
    ['-rf', 'must start with a letter or a digit'],
    ['.hidden', 'must start with a letter or a digit'],
    ['a..b', "must not contain '..'"],
    ['feature.lock', "may end with '.lock'"],
    ['trailing.', "must not end with '.'"],
    ['x'.repeat(101), 'at most 100 characters'],
    ['ünïcode', "may contain only letters, digits, '.', '_' and '-'"],
  ])('refuses the feature key %j, naming the rule', (key, rule) => {
    expect(() => featureBranchName(key)).toThrow(UserError);
    expect(() => featureBranchName(key)).toThrow(rule);
  });

  it('refuses a prefix that makes an invalid branch', () => {
    expect(() => featureBranchName('001-a', 'bad prefix/')).toThrow(/branch prefix/);
    expect(() => featureBranchName('001-a', '/')).toThrow(/must not start or end with '\/'/);
  });

  it('has the user_error family code so runs report it as the user’s problem', () => {
    try {
      featureBranchName('a/b');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).code).toBe('invalid_feature_key');
    }
  });
});

describe('branchNameProblem', () => {
  const cases = [
    'main',
    'speckit/001-user-auth',
    'a/b/c',
    'feature.v2',
    'x@y',
    'HEAD',
    '-leading-dash',
    'a..b',
    'a b',
    'a~b',
    'a^b',
    'a:b',
    'a?b',
    'a*b',
    'a[b',
    'a\\b',
    'a@{b',
    '/a',
    'a/',
    'a//b',
    'a.',
    'a/.b',
    '.a',
    'a.lock',
    'a.lock/b',
    'a/b.lock',
    'tab\there',
    'del\u007f',
    'ünïcode',
    'a/-b',
  ];

  it.each(cases)('agrees with git check-ref-format --branch on %j', async (name) => {
    expect(branchNameProblem(name) === null).toBe(await gitAccepts(name));
  });

  it("refuses '@', which git reads as HEAD", () => {
    expect(branchNameProblem('@')).toMatch(/must not be '@'/);
  });

  it('is stricter than git for feature keys but never looser', async () => {
    for (const name of cases) {
      if (featureKeyProblem(name) === null) expect(await gitAccepts(name)).toBe(true);
    }
  });
});

describe('authHeaderValue', () => {
  it('is the basic header actions/checkout uses', () => {
    const value = authHeaderValue('ghs_abc123');
    expect(value).toBe(`AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_abc123').toString('base64')}`);
    expect(value).toBe('AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2FiYzEyMw==');
  });

  it('refuses empty tokens and tokens that could inject headers', () => {
    expect(() => authHeaderValue('')).toThrow(/empty/);
    expect(() => authHeaderValue('ghs_a\r\nX-Evil: 1')).toThrow(/control characters/);
  });
});

describe('redact', () => {
  it('replaces every occurrence of every secret', () => {
    expect(redact('a SECRET and SECRET again, also other', ['SECRET', 'other'])).toBe(
      'a *** and *** again, also ***',
    );
  });

  it('replaces the token and its base64 forms', () => {
    const token = 'ghs_0123456789abcdef';
    const b64 = Buffer.from(`x-access-token:${token}`).toString('base64');
    const text = `token ${token} header AUTHORIZATION: basic ${b64} raw ${Buffer.from(token).toString('base64')}`;
    const out = redact(text, tokenSecrets(token));
    expect(out).not.toContain(token);
    expect(out).not.toContain(b64);
    expect(out).toBe('token *** header AUTHORIZATION: basic *** raw ***');
  });

  it('replaces a longer secret whole even when it contains a shorter one', () => {
    expect(redact('xx-abc-yy', ['abc', 'xx-abc-yy'])).toBe('***');
  });

  it('removes credentials embedded in URLs', () => {
    expect(redact("fatal: unable to access 'https://user:pw@github.com/o/r.git/'", [])).toBe(
      "fatal: unable to access 'https://***@github.com/o/r.git/'",
    );
  });

  it('ignores empty secrets and leaves other text alone', () => {
    expect(redact('nothing to hide', ['', 'absent'])).toBe('nothing to hide');
  });
});
