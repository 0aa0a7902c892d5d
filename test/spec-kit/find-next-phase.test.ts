import { describe, expect, it } from 'vitest';
import { findNextPhase, pendingTasks } from '../../src/spec-kit/find-next-phase.ts';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';
import { readFixture } from './helpers.ts';

function next(name: string) {
  return findNextPhase(parseTasks(readFixture(name)));
}

describe('findNextPhase', () => {
  it('picks the first phase with a pending task', () => {
    expect(next('001-demo.md')?.title).toBe('Setup (Shared Infrastructure)');
    expect(next('canonical-template.md')?.number).toBe('1');
  });

  it('skips phases whose tasks are all done, skipped or deferred', () => {
    expect(next('task-states.md')?.number).toBe('1');
    expect(next('short-headings.md')?.title).toBe('US1 Browse');
    expect(next('all-done.md')).toBeUndefined();
  });

  it('follows document order: 3.10 comes after 3.9', () => {
    expect(next('decimal-phases.md')?.number).toBe('3.10');
  });

  it('works on unnumbered and implicit phases', () => {
    expect(next('status-summary.md')?.title).toBe('US1: Default shortcuts');
    expect(next('no-phase-headings.md')?.title).toBe('Fix Typo in Signup Email');
  });

  it('returns undefined for a document without phases', () => {
    expect(findNextPhase(parseTasks(''))).toBeUndefined();
  });
});

describe('pendingTasks', () => {
  it('lists only pending tasks, in order', () => {
    const phase = findNextPhase(parseTasks(readFixture('task-states.md')));
    expect(phase && pendingTasks(phase).map((task) => task.id)).toEqual(['T008']);
  });

  it('lists a task ID repeated inside one phase once: the first pending definition', () => {
    const doc = parseTasks('## Phase 1: Setup\n- [x] T001 a\n- [ ] T001 b\n- [ ] T001 c\n- [ ] T002 d\n');
    const phase = doc.phases[0];
    expect(phase && pendingTasks(phase).map((task) => `${task.id}@${task.line}`)).toEqual([
      'T001@3',
      'T002@5',
    ]);
  });
});
