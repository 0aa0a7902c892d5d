import { describe, expect, it } from 'vitest';
import {
  attributesPatternFor,
  conflictPathsFromApplyOutput,
  findTrailerMatch,
  hasUrlCredentials,
  invalidUtf8Sections,
  parseLsRemote,
  parseNumstat,
  parsePushPorcelain,
  parseStatusV2,
  trailerKeyProblem,
} from '../../src/git/git-output.ts';
import { classifyGitFailure } from '../../src/git/run-git.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('git output parsing', () => {
  it('reads ls-remote lines into a ref map', () => {
    const refs = parseLsRemote(`${A}\trefs/heads/main\n${B}\trefs/heads/x/refs/heads/main\n`);
    expect(refs.get('refs/heads/main')).toBe(A);
    expect(refs.get('refs/heads/x/refs/heads/main')).toBe(B);
    expect(parseLsRemote('').size).toBe(0);
  });

  it('reads numstat -z records, binary files as null counts and paths verbatim', () => {
    const out = '3\t1\tsrc/a.ts\0-\t-\timg/logo.png\0' + '1\t0\t.github/workflows/é "x"\t.yml\0';
    expect(parseNumstat(out)).toEqual([
      { path: 'src/a.ts', added: 3, deleted: 1 },
      { path: 'img/logo.png', added: null, deleted: null },
      { path: '.github/workflows/é "x"\t.yml', added: 1, deleted: 0 },
    ]);
    expect(parseNumstat('')).toEqual([]);
  });

  it('reads porcelain v2 status: head, branch, and whether any path differs', () => {
    const headers = `# branch.oid ${A}\0# branch.head speckit/001-auth\0# branch.upstream origin/x\0`;
    expect(parseStatusV2(headers)).toEqual({ head: A, branch: 'speckit/001-auth', clean: true });
    expect(parseStatusV2(`${headers}? notes.txt\0`).clean).toBe(false);
    expect(parseStatusV2(`${headers}1 .M N... 100644 100644 100644 ${A} ${A} README.md\0`).clean).toBe(false);
    // A rename's original path is a record of its own: still unclean, still parsed.
    expect(parseStatusV2(`${headers}2 R. N... 100644 100644 100644 ${A} ${A} R100 b.txt\0a.txt\0`)).toEqual({
      head: A,
      branch: 'speckit/001-auth',
      clean: false,
    });
    expect(parseStatusV2('# branch.oid (initial)\0# branch.head (detached)\0')).toEqual({
      head: null,
      branch: null,
      clean: true,
    });
  });

  it('spots credentials in URLs', () => {
    expect(hasUrlCredentials('https://x-access-token:t@github.com/o/r.git')).toBe(true);
    expect(hasUrlCredentials('https://github.com/o/r.git')).toBe(false);
    expect(hasUrlCredentials('/tmp/repo@2/origin.git')).toBe(false);
  });

  it('reads the push porcelain status of one ref', () => {
    const out = `To /tmp/o.git\n=\tHEAD:refs/heads/speckit/a\t[up to date]\nDone\n`;
    expect(parsePushPorcelain(out, 'refs/heads/speckit/a')).toEqual({ flag: '=', summary: '[up to date]' });
    const rejected = `To /tmp/o.git\n!\tHEAD:refs/heads/b\t[rejected] (stale info)\nDone\n`;
    expect(parsePushPorcelain(rejected, 'refs/heads/b')?.flag).toBe('!');
    expect(parsePushPorcelain(rejected, 'refs/heads/c')).toBeNull();
  });

  it('finds the commit with a matching trailer value', () => {
    const out = `${A}\x1f\x1e\n${B}\x1fother\x1frun-1\x1e\n`;
    expect(findTrailerMatch(out, 'run-1')).toBe(B);
    expect(findTrailerMatch(out, 'run-2')).toBeNull();
    expect(findTrailerMatch(out, '')).toBeNull();
  });

  it('validates trailer keys', () => {
    expect(trailerKeyProblem('Speckit-Run-Id')).toBeNull();
    expect(trailerKeyProblem('bad key')).toMatch(/letters, digits/);
    expect(trailerKeyProblem('a,b')).not.toBeNull();
    expect(trailerKeyProblem('')).not.toBeNull();
  });

  it('names the files git apply complains about', () => {
    const stderr = [
      'error: patch failed: src/a.ts:3',
      'error: src/a.ts: patch does not apply',
      "Applied patch to 'b.md' with conflicts.",
      'U b.md',
      'error: c.txt: already exists in index',
      'error: gone.txt: does not exist in index',
    ].join('\n');
    expect(conflictPathsFromApplyOutput(stderr).sort()).toEqual(['b.md', 'c.txt', 'gone.txt', 'src/a.ts']);
  });

  it('quotes a path as an exact gitattributes pattern', () => {
    expect(attributesPatternFor('dir/file.txt')).toBe('"/dir/file.txt"');
    expect(attributesPatternFor('a b*.txt')).toBe('"/a\\040b\\\\\\052.txt"');
  });

  it('finds the diff sections that are not UTF-8', () => {
    const patch = Buffer.concat([
      Buffer.from('diff --git a/a b/a\n+ok\n'),
      Buffer.from('diff --git a/b b/b\n+'),
      Buffer.from([0xe9, 0x0a]),
      Buffer.from('diff --git a/c b/c\n+fine diff --git inside\n'),
    ]);
    expect(invalidUtf8Sections(patch, ['a', 'b', 'c'])).toEqual(['b']);
    expect(invalidUtf8Sections(patch, ['a', 'b'])).toEqual(['a', 'b']);
  });

  it.each([
    ["fatal: Authentication failed for 'https://github.com/o/r.git/'", 'auth'],
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", 'auth'],
    ['remote: Repository not found.', 'not_found'],
    ["fatal: repository 'http://127.0.0.1:1/missing.git/' not found", 'not_found'],
    ['fatal: Remote branch nope not found in upstream origin', 'not_found'],
    [
      "fatal: unable to access 'https://127.0.0.1:1/o/r.git/': Failed to connect to 127.0.0.1 port 1",
      'network',
    ],
    ['fatal: something else', 'other'],
  ])('classifies %j as %s', (stderr, kind) => {
    expect(classifyGitFailure(stderr)).toBe(kind);
  });
});
