import { describe, expect, it } from 'vitest';
import { commitTrailers, RUN_TRAILER } from '../../src/chain/steps/commit-spec.ts';

describe('commitTrailers', () => {
  it("credits the person who asked with GitHub's <id>+<login> noreply address when the id is known", () => {
    expect(commitTrailers('run-1', { login: 'Codertocat', id: 21031067 })).toEqual({
      [RUN_TRAILER]: 'run-1',
      'Co-authored-by': 'Codertocat <21031067+Codertocat@users.noreply.github.com>',
    });
  });

  it('falls back to <login>@users.noreply.github.com without an id, and credits no bot or API caller', () => {
    expect(commitTrailers('run-1', { login: 'Codertocat', id: null })['Co-authored-by']).toBe(
      'Codertocat <Codertocat@users.noreply.github.com>',
    );
    expect(commitTrailers('run-1', { login: 'renovate[bot]', id: 29139614 })).toEqual({
      [RUN_TRAILER]: 'run-1',
    });
    expect(commitTrailers('run-1', { login: 'api' })).toEqual({ [RUN_TRAILER]: 'run-1' });
  });
});
