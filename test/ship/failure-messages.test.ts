// Every error code the app raises has a row in docs/operations.md, "Failure
// messages users see" (what users see, the cause, what to do), and every code
// there is one the app raises, so the table cannot fall behind the code.
//
// Codes are read from src/ as they are written: `code:` / `errorCode:` /
// `error_code:` (or a `code =` default) with a literal, both literals of a
// `code: cond ? 'a' : 'b'`, a `const NAME = '…'` given as `code: NAME`, the
// base classes' `options.code ?? '…'` defaults, and GitError's
// `git_<kind>` codes from the GitFailureKind union.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const CODE = "'([a-z][a-z0-9_]*)'";

/** Each code raised in src/, with the files that raise it. */
function raisedCodes(): Map<string, Set<string>> {
  const codes = new Map<string, Set<string>>();
  const add = (code: string | undefined, file: string) => {
    if (code) codes.set(code, (codes.get(code) ?? new Set()).add(file));
  };
  const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts') && !file.startsWith('generated'),
  );
  for (const file of files) {
    const text = readFileSync(path.join(root, 'src', file), 'utf8');
    for (const m of text.matchAll(new RegExp(`\\b(?:code|errorCode|error_code)\\s*[:=]\\s*${CODE}`, 'g')))
      add(m[1], file);
    for (const m of text.matchAll(new RegExp(`\\bcode:\\s*[^,{}]*?\\?\\s*${CODE}\\s*:\\s*${CODE}`, 'gs'))) {
      add(m[1], file);
      add(m[2], file);
    }
    for (const m of text.matchAll(new RegExp(`\\.code\\s*\\?\\?\\s*${CODE}`, 'g'))) add(m[1], file);
    for (const m of text.matchAll(/\bcode:\s*([A-Z][A-Z0-9_]*)\b/g)) {
      const value = new RegExp(`const ${m[1]} = ${CODE}`).exec(text)?.[1];
      expect(value, `${file}: \`code: ${m[1]}\` is no string constant of that file`).toBeDefined();
      add(value, file);
    }
  }
  // GitError: `git_<kind>`, `git_error` for kind 'other'.
  const gitError = readFileSync(path.join(root, 'src/git/git-error.ts'), 'utf8');
  expect(gitError, 'GitError names its codes differently now: teach this test').toContain(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of GitError's template literal
    "code: options.code ?? `git_${kind === 'other' ? 'error' : kind}`",
  );
  const kinds = /export type GitFailureKind =([^;]+);/.exec(gitError)?.[1] ?? '';
  for (const [, kind] of kinds.matchAll(/'([a-z_]+)'/g))
    add(kind === 'other' ? 'git_error' : `git_${kind}`, 'git/git-error.ts');
  return codes;
}

/** The code column of every row of the failure tables, with the rest of the row. */
function documentedRows(): { codes: string[]; cells: string[] }[] {
  const doc = readFileSync(path.join(root, 'docs/operations.md'), 'utf8');
  const start = doc.indexOf('## Failure messages users see');
  expect(start).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| code |'))
    .map((line) => {
      const cells = line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, '').trim());
      return { codes: [...(cells[0] ?? '').matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1] ?? ''), cells };
    });
}

describe('docs/operations.md, "Failure messages users see"', () => {
  const raised = raisedCodes();
  const rows = documentedRows();
  const documented = new Set(rows.flatMap((row) => row.codes));

  it('reads the codes of every kind of raise site', () => {
    // One code per way of raising one, so a broken pattern shows here.
    for (const code of [
      'git_push_rejected', // code: '…'
      'installation_removed', // errorCode: '…'
      'worker_lost', // error_code: '…'
      'codex_cloud_failed', // code: cond ? '…' : '…'
      'git_commit_unavailable', // code: CONST
      'internal_error', // options.code ?? '…'
      'git_network', // git_<kind>
    ])
      expect(raised.has(code), code).toBe(true);
    console.log(`${raised.size} codes raised in src/, ${documented.size} in the table, ${rows.length} rows`);
  });

  it('has a row for every code raised in src/', () => {
    const missing = [...raised]
      .filter(([code]) => !documented.has(code))
      .map(([code, files]) => `${code} (${[...files].join(', ')})`);
    expect(missing, 'add a row: what users see, the cause, what to do').toEqual([]);
  });

  it('names no code that src/ does not raise', () => {
    expect([...documented].filter((code) => !raised.has(code))).toEqual([]);
  });

  it('says for every row what users see, the cause and what to do', () => {
    for (const row of rows) {
      expect(row.cells, row.cells.join(' | ')).toHaveLength(4);
      for (const cell of row.cells) expect(cell.length, row.cells.join(' | ')).toBeGreaterThan(0);
    }
  });
});
