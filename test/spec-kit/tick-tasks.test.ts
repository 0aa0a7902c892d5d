import { describe, expect, it } from 'vitest';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';
import { tickTasks, untickTasks, verifyTasks } from '../../src/spec-kit/tick-tasks.ts';
import type { Task } from '../../src/spec-kit/types.ts';
import { allTasks, readFixture, taskById } from './helpers.ts';

function changedLines(before: string, after: string): number[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b).toHaveLength(a.length);
  return a.flatMap((line, index) => (line === b[index] ? [] : [index + 1]));
}

describe('tickTasks', () => {
  it('ticks the phase tasks to [X] and changes nothing else', () => {
    const text = readFixture('001-demo.md');
    const ticked = tickTasks(text, ['T001', 'T002', 'T003']);
    expect(changedLines(text, ticked)).toEqual([15, 16, 17]);
    expect(ticked.split('\n')[15]).toBe(
      '- [X] T002 [P] Initialize Node.js project in `package.json` with a `greet` bin entry',
    );
    expect(ticked.length).toBe(text.length);
    expect(parseTasks(ticked).phases[0]?.tasks.map((task) => task.state)).toEqual(['done', 'done', 'done']);
  });

  it('keeps CRLF line endings and the BOM byte for byte', () => {
    const text = readFixture('crlf-bom.md');
    const ticked = tickTasks(text, ['T001', 'T003']);
    expect(ticked).toBe(
      text
        .replace('- [ ] T001 Add the WiX project', '- [X] T001 Add the WiX project')
        .replace('- [ ] T003 Keep user settings', '- [X] T003 Keep user settings'),
    );
    expect(ticked.startsWith('\uFEFF# Tasks')).toBe(true);
    expect(ticked.match(/\r\n/g)?.length).toBe(text.match(/\r\n/g)?.length);
  });

  it('is a no-op the second time', () => {
    const text = readFixture('canonical-template.md');
    const once = tickTasks(text, ['T007', 'T008', 'T009']);
    expect(tickTasks(once, ['T007', 'T008', 'T009'])).toBe(once);
  });

  it('copes with tasks Codex already ticked itself', () => {
    const text = readFixture('001-demo.md');
    const byCodex = text.replace('- [ ] T004', '- [x] T004');
    const ticked = tickTasks(byCodex, ['T004', 'T005', 'T006']);
    expect(ticked).toContain('- [x] T004');
    expect(ticked).toContain('- [X] T005');
    expect(changedLines(byCodex, ticked)).toEqual([30, 31]);
  });

  it('leaves skipped, deferred and struck-through tasks, and unknown IDs, alone', () => {
    const text = readFixture('task-states.md');
    expect(tickTasks(text, ['T005', 'T006', 'T007', 'T404'])).toBe(text);
  });

  it('ticks only definitions inside phases, never the copy in a summary, a code block or a comment', () => {
    const dashboard = readFixture('progress-dashboard.md');
    expect(changedLines(dashboard, tickTasks(dashboard, ['T006']))).toEqual([31]);
    const template = readFixture('canonical-template.md');
    expect(changedLines(template, tickTasks(template, ['T007', 'T999']))).toEqual([68]);
  });

  it('ticks the first pending definition of a duplicated ID', () => {
    const text = readFixture('duplicate-ids.md');
    expect(changedLines(text, tickTasks(text, ['T003']))).toEqual([10]);
  });

  it('ticks decorated and indented task lines in place', () => {
    const text = readFixture('task-flags.md');
    const ticked = tickTasks(text, ['T005']);
    expect(ticked.split('\n')[8]).toBe(
      ' - [X] T005 [P] [US1] Add a test for muted channels in `tests/notify/dispatch.test.ts`',
    );
    const hidden = '## Phase 1: A\n<!-- note --> - [ ] T001 Visible after a comment\n';
    expect(tickTasks(hidden, ['T001'])).toBe(
      '## Phase 1: A\n<!-- note --> - [X] T001 Visible after a comment\n',
    );
  });
});

describe('verifyTasks', () => {
  const doc = parseTasks(readFixture('canonical-template.md'));
  const tasks = ['T004', 'T009', 'T012', 'T017'].map((id) => taskById(doc, id));

  it('verifies tasks whose named file or directory the diff touches', () => {
    const result = verifyTasks(tasks, [
      'backend/src/db/migrations/0001_init.sql',
      'backend/src/models/album.ts',
      'README.md',
    ]);
    expect(result.verified.map((task) => task.id)).toEqual(['T004', 'T009', 'T017']);
    expect(result.unverified.map((task) => task.id)).toEqual(['T012']);
  });

  it('counts a task naming no paths as verified, even with an empty diff', () => {
    const result = verifyTasks(tasks, []);
    expect(result.verified.map((task) => task.id)).toEqual(['T017']);
    expect(result.unverified.map((task) => task.id)).toEqual(['T004', 'T009', 'T012']);
  });

  it('is satisfied by any one of several named paths', () => {
    const demo = parseTasks(readFixture('001-demo.md'));
    expect(verifyTasks([taskById(demo, 'T003')], ['.prettierrc']).verified).toHaveLength(1);
  });

  it('does not confuse a directory with a file that shares its prefix', () => {
    const task = { ...taskById(doc, 'T004'), paths: ['src/db/'] } satisfies Task;
    expect(verifyTasks([task], ['src/db.ts']).unverified).toEqual([task]);
    expect(verifyTasks([task], ['src/db/index.ts']).verified).toEqual([task]);
  });

  it('accepts the named path inside a sub-project folder and normalizes ./ and backslashes', () => {
    const task = { ...taskById(doc, 'T009'), paths: ['src/models/album.ts'] } satisfies Task;
    expect(verifyTasks([task], ['backend/src/models/album.ts']).verified).toEqual([task]);
    expect(verifyTasks([task], ['./src\\models\\album.ts']).verified).toEqual([task]);
    expect(verifyTasks([task], ['other/src/models/album.tsx']).unverified).toEqual([task]);
  });

  it('matches glob paths', () => {
    const task = { ...taskById(doc, 'T009'), paths: ['tests/**/*.test.ts'] } satisfies Task;
    expect(verifyTasks([task], ['tests/unit/deep/a.test.ts']).verified).toEqual([task]);
    expect(verifyTasks([task], ['tests/a.test.ts']).verified).toEqual([task]);
    expect(verifyTasks([task], ['tests/unit/a.spec.ts']).unverified).toEqual([task]);
  });

  it('keeps the input order in both lists', () => {
    const all = allTasks(doc);
    const { verified, unverified } = verifyTasks(all, []);
    expect([...verified, ...unverified]).toHaveLength(all.length);
    expect(unverified.map((task) => task.line)).toEqual(
      [...unverified.map((task) => task.line)].sort((a, b) => a - b),
    );
  });
});

describe('tickTasks and untickTasks within one phase', () => {
  const text = readFixture('duplicate-ids.md');

  it('ticks the definition inside the named phase when an ID is defined in several phases', () => {
    const hardening = { number: '3', title: 'Hardening' };
    expect(changedLines(text, tickTasks(text, ['T003'], { phase: hardening }))).toEqual([16]);
    expect(tickTasks(text, ['T001'], { phase: hardening })).toBe(text);
  });

  it('puts a task Codex ticked but the diff does not support back to pending, changing only that character', () => {
    const demo = readFixture('crlf-bom.md');
    const byCodex = demo.replace('- [ ] T003 Keep', '- [x] T003 Keep');
    const restored = untickTasks(byCodex, ['T003'], { phase: { number: '2', title: 'Upgrade path' } });
    expect(restored).toBe(demo);
    expect(untickTasks(restored, ['T003'])).toBe(demo);
  });

  it('leaves pending, skipped and deferred tasks alone when unticking', () => {
    const states = readFixture('task-states.md');
    expect(untickTasks(states, ['T005', 'T006', 'T008', 'T404'])).toBe(states);
    expect(changedLines(states, untickTasks(states, ['T001', 'T002']))).toEqual([5, 6]);
  });
});
