import { describe, expect, it } from 'vitest';
import {
  BOT_BLOCK_END,
  BOT_BLOCK_START,
  renderPullRequestBody,
  replaceBotBlock,
} from '../../src/github/render/pull-request-body.ts';

const input = {
  featureKey: '001-demo',
  phaseLabel: 'Phase 2: Farewell',
  runId: 'run-1',
  issueNumber: 7,
  phases: [
    { label: 'Phase 1: Setup', state: 'done' as const },
    { label: 'Phase 2: Farewell', state: 'this run' as const },
    { label: 'Phase 3: Polish', state: 'remaining' as const },
  ],
  tasks: [{ id: 'T003', description: 'Create `src/bye.txt`' }],
  unverified: [{ id: 'T004', description: 'Document `docs/bye.md`' }],
  binaryFiles: ['img/logo.png'],
  codexMessage: 'Implemented the farewell.',
  checkRunUrl: 'https://github.com/o/r/runs/5',
  dashboardUrl: 'https://speckit.example.com/runs/run-1',
  warnings: [{ line: 12, message: 'T002 is defined twice (lines 9 and 12)' }],
};

describe('the pull request body', () => {
  it('shows the phase checklist, the tasks with unverified ones marked, Codex summary, links and the issue', () => {
    const body = renderPullRequestBody(input);
    expect(body.startsWith(BOT_BLOCK_START)).toBe(true);
    expect(body.endsWith(BOT_BLOCK_END)).toBe(true);
    expect(body).toContain('- [x] Phase 1: Setup\n- [x] Phase 2: Farewell ← this run\n- [ ] Phase 3: Polish');
    expect(body).toContain('- [x] T003 Create `src/bye.txt`');
    expect(body).toContain('- [ ] T004 Document `docs/bye.md` — unverified');
    // Listed once, with the mark, and explained.
    expect(body.split('T004')).toHaveLength(2);
    expect(body).toContain('### Unverified\nLeft pending in tasks.md: the diff does not touch the files');
    expect(body).toContain('- `img/logo.png`');
    expect(body).toContain('Implemented the farewell.');
    expect(body).toContain(
      '[check run](https://github.com/o/r/runs/5) · [run details](https://speckit.example.com/runs/run-1)',
    );
    expect(body).toContain('line 12: T002 is defined twice');
    expect(body).toContain('Refs #7');
  });

  it('names the configured tasks.md and how the branch was brought up to date', () => {
    const body = renderPullRequestBody({
      ...input,
      tasksPath: 'docs/specs/001-demo/tasks.md',
      branchUpdate: { mode: 'merge', base: 'main' },
    });
    expect(body).toContain('Implements `docs/specs/001-demo/tasks.md` with Codex');
    expect(body).toContain('Before this phase, `main` was merged into the branch to bring it up to date.');
    const rebased = renderPullRequestBody({ ...input, branchUpdate: { mode: 'rebase', base: '001-demo' } });
    expect(rebased).toContain('the branch was rebased onto `001-demo`');
    expect(renderPullRequestBody(input)).not.toContain('Before this phase');
    expect(renderPullRequestBody({ ...input, unverified: [] })).not.toContain('### Unverified');
  });

  it('replaces only its own block and keeps what people wrote around it', () => {
    const first = renderPullRequestBody(input);
    const edited = `Reviewer notes: looks good.\n\n${first}\n\n- [ ] manual QA`;
    const next = replaceBotBlock(edited, renderPullRequestBody({ ...input, codexMessage: 'Second pass.' }));
    expect(next.startsWith('Reviewer notes: looks good.\n\n')).toBe(true);
    expect(next.endsWith('\n\n- [ ] manual QA')).toBe(true);
    expect(next).toContain('Second pass.');
    expect(next).not.toContain('Implemented the farewell.');
    expect(next.split(BOT_BLOCK_START)).toHaveLength(2);
  });

  it('appends its block when a person removed it', () => {
    expect(replaceBotBlock('Just my text', 'BLOCK')).toBe('Just my text\n\nBLOCK');
    expect(replaceBotBlock('', 'BLOCK')).toBe('BLOCK');
  });
});
