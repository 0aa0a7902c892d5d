import { describe, expect, it } from 'vitest';
import { checkGuardrails, DEFAULT_GUARDRAILS, diffStats } from '../../src/chain/guardrails.ts';

// What `git diff --numstat -z` reports for a text change, a binary file and a workflow.
const CHANGES = [
  { path: 'src/a.ts', added: 1, deleted: 1 },
  { path: 'img/logo.png', added: null, deleted: null },
  { path: '.github/workflows/ci.yml', added: 1, deleted: 1 },
];

describe('diffStats', () => {
  it("counts files, binary files and changed lines from git's list of the files", () => {
    expect(diffStats(CHANGES, 1234)).toEqual({
      files: ['src/a.ts', 'img/logo.png', '.github/workflows/ci.yml'],
      binaryFiles: ['img/logo.png'],
      changedLines: 4,
      bytes: 1234,
    });
  });
});

describe('checkGuardrails', () => {
  it('refuses workflow changes unless allowed, naming the files', () => {
    const problems = checkGuardrails(diffStats(CHANGES, 100));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('.github/workflows/ci.yml');
    expect(
      checkGuardrails(diffStats(CHANGES, 100), { ...DEFAULT_GUARDRAILS, allowWorkflowChanges: true }),
    ).toEqual([]);
  });

  it('refuses a diff over the line or size limit with the numbers', () => {
    const stats = { files: ['a'], binaryFiles: [], changedLines: 20_001, bytes: 11 * 1024 * 1024 };
    const problems = checkGuardrails(stats);
    expect(problems).toEqual([
      'The diff changes 20001 lines, over the limit of 20000; split the phase or raise the limit.',
      'The diff is 11.0 MB, over the limit of 10.0 MB; split the phase or raise the limit.',
    ]);
  });

  it('lets an ordinary diff through', () => {
    expect(checkGuardrails({ files: ['src/x.ts'], binaryFiles: [], changedLines: 10, bytes: 500 })).toEqual(
      [],
    );
  });
});
