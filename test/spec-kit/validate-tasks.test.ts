import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';
import { assertHasTasks, assertTasksSize, MAX_TASKS_BYTES } from '../../src/spec-kit/validate-tasks.ts';
import { readFixture } from './helpers.ts';

describe('assertTasksSize', () => {
  it('accepts files up to 1 MB', () => {
    expect(MAX_TASKS_BYTES).toBe(1_048_576);
    expect(() => assertTasksSize(0, 'specs/001-demo/tasks.md')).not.toThrow();
    expect(() => assertTasksSize(1_048_576, 'specs/001-demo/tasks.md')).not.toThrow();
  });

  it('refuses larger files with a UserError naming the file and the limit', () => {
    expect(() => assertTasksSize(1_048_577, 'specs/001-demo/tasks.md')).toThrow(UserError);
    expect(() => assertTasksSize(2_000_000, 'specs/001-demo/tasks.md')).toThrow(
      'specs/001-demo/tasks.md is 2,000,000 bytes; speckit-bot reads tasks files of at most 1 MB (1,048,576 bytes).',
    );
  });
});

describe('assertHasTasks', () => {
  it('accepts a document with tasks, even when all are done', () => {
    expect(() => assertHasTasks(parseTasks(readFixture('all-done.md')), 'specs/x/tasks.md')).not.toThrow();
  });

  it('refuses a document without tasks with a UserError that names the file and says what to do', () => {
    const doc = parseTasks(readFixture('no-tasks.md'));
    let error: unknown;
    try {
      assertHasTasks(doc, 'specs/009-onboarding/tasks.md');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('user_error');
    expect((error as UserError).message).toBe(
      'specs/009-onboarding/tasks.md has no tasks. speckit-bot works on checkbox lines with a task ID, such as ' +
        '"- [ ] T001 Create project structure", under "## Phase 1: Setup" headings. Run /speckit.tasks to ' +
        'generate the task list, or write the tasks in that format.',
    );
  });

  it('mentions the first unreadable line when there is one', () => {
    const doc = parseTasks('# Tasks: X\n\n## Phase 1: Setup\n\n- [ ] TXXX Do something\n');
    expect(() => assertHasTasks(doc, 'specs/x/tasks.md')).toThrow(
      /1 line\(s\) could not be read; the first, line 5: .*TXXX/,
    );
  });
});
