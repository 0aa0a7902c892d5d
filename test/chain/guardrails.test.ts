import { describe, expect, it } from 'vitest';
import { checkGuardrails, DEFAULT_GUARDRAILS, diffStats } from '../../src/chain/guardrails.ts';

const PATCH = [
  'diff --git a/src/a.ts b/src/a.ts',
  'index 1111111..2222222 100644',
  '--- a/src/a.ts',
  '+++ b/src/a.ts',
  '@@ -1,2 +1,2 @@',
  '-old',
  '+new',
  ' same',
  'diff --git a/img/logo.png b/img/logo.png',
  'new file mode 100644',
  'index 0000000..3333333',
  'GIT binary patch',
  'literal 4',
  'LcmZQzWMT#Y01f~L',
  '',
  'diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml',
  '--- a/.github/workflows/ci.yml',
  '+++ b/.github/workflows/ci.yml',
  '@@ -1 +1 @@',
  '-on: push',
  '+on: [push, pull_request]',
  '',
].join('\n');

describe('diffStats', () => {
  it('counts files, binary files and changed lines, not headers or binary data', () => {
    expect(diffStats(PATCH)).toEqual({
      files: ['src/a.ts', 'img/logo.png', '.github/workflows/ci.yml'],
      binaryFiles: ['img/logo.png'],
      changedLines: 4,
      bytes: Buffer.byteLength(PATCH),
    });
  });
});

describe('checkGuardrails', () => {
  it('refuses workflow changes unless allowed, naming the files', () => {
    const problems = checkGuardrails(diffStats(PATCH));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('.github/workflows/ci.yml');
    expect(checkGuardrails(diffStats(PATCH), { ...DEFAULT_GUARDRAILS, allowWorkflowChanges: true })).toEqual(
      [],
    );
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
