import { describe, expect, it } from 'vitest';
import { extractPaths, toPath } from '../../src/spec-kit/extract-paths.ts';

describe('extractPaths', () => {
  it('keeps files and directories named in backticks, in order, once', () => {
    expect(extractPaths('Edit `src/a.ts`, `src/` and `README.md`, then `src/a.ts` again')).toEqual([
      'src/a.ts',
      'src/',
      'README.md',
    ]);
  });

  it.each([
    ['npm test', null],
    ['UserService', null],
    ['greet()', null],
    ['/api/users', null],
    ['GET /albums', null],
    ['https://example.com/a.md', null],
    ['--format json', null],
    ['process.env', null],
    ['v1.2.3', null],
    ['...', null],
    ['../outside.ts', null],
    ['./src/a.ts', 'src/a.ts'],
    ['/specs/001-x/plan.md', 'specs/001-x/plan.md'],
    ['src/app.ts:42', 'src/app.ts'],
    ['src/app.ts#L10-L20', 'src/app.ts'],
    ['.env.example', '.env.example'],
    ['Dockerfile', 'Dockerfile'],
    ['package.json', 'package.json'],
    ['app/[id]/page.tsx', 'app/[id]/page.tsx'],
    ['src/**/*.test.ts', 'src/**/*.test.ts'],
  ])('reads %j as %j', (span, path) => {
    expect(toPath(span)).toBe(path);
  });

  it('reads double-backtick code spans', () => {
    expect(extractPaths('Use ``src/a`b.ts`` here')).toEqual([]);
    expect(extractPaths('Use ``src/a.ts`` here')).toEqual(['src/a.ts']);
  });
});
