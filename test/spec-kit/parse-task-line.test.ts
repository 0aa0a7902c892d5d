import { describe, expect, it } from 'vitest';
import { parseTaskLine } from '../../src/spec-kit/parse-task-line.ts';

describe('parseTaskLine', () => {
  it('reads the canonical layout', () => {
    expect(parseTaskLine('- [ ] T012 [P] [US1] Create User model in `src/models/user.ts`')).toEqual({
      kind: 'task',
      indent: 0,
      stateColumn: 3,
      state: 'pending',
      id: 'T012',
      parallel: true,
      story: 'US1',
      priority: null,
      description: 'Create User model in `src/models/user.ts`',
    });
  });

  it.each([
    ['- [x] T001 Done', 'done'],
    ['- [X] T001 Done', 'done'],
    ['- [~] T001 Partly', 'skipped'],
    ['- [-] T001 Later', 'deferred'],
    ['* [ ] T001 Star bullet', 'pending'],
    ['1. [ ] T001 Ordered list', 'pending'],
  ])('reads the state of %j as %s', (line, state) => {
    expect(parseTaskLine(line)).toMatchObject({ kind: 'task', state, id: 'T001' });
  });

  it('finds the checkbox column for indented and ordered items', () => {
    expect(parseTaskLine('   - [ ] T001 x')).toMatchObject({ indent: 3, stateColumn: 6 });
    expect(parseTaskLine('10.  [ ] T001 x')).toMatchObject({ indent: 0, stateColumn: 6 });
    expect(parseTaskLine('\t- [ ] T001 x')).toMatchObject({ indent: 4, stateColumn: 4 });
  });

  it('reads decorated IDs', () => {
    expect(parseTaskLine('- [x] ✅ **T001 Create project**')).toMatchObject({
      id: 'T001',
      description: 'Create project',
    });
    expect(parseTaskLine('- [x] ~~T017~~ Old approach')).toMatchObject({ id: 'T017', state: 'done' });
    expect(parseTaskLine('- [ ] **T001**: [P] Bold with colon')).toMatchObject({
      id: 'T001',
      parallel: true,
      description: 'Bold with colon',
    });
    expect(parseTaskLine('- [ ] T001 - Dash separated')).toMatchObject({ description: 'Dash separated' });
    expect(parseTaskLine('- [ ] [P] T001 Flag first')).toMatchObject({
      parallel: true,
      description: 'Flag first',
    });
  });

  it('keeps underscores that belong to names', () => {
    expect(parseTaskLine('- [ ] _T001 Rename user_service_')).toMatchObject({
      description: 'Rename user_service',
    });
    expect(parseTaskLine('- [ ] T001 Rename `user_service` module')).toMatchObject({
      description: 'Rename `user_service` module',
    });
  });

  it('reads ID suffixes and dotted IDs, and rejects glued text', () => {
    expect(parseTaskLine('- [ ] T020a Suffix')).toMatchObject({ id: 'T020a' });
    expect(parseTaskLine('- [ ] T3.2 Dotted')).toMatchObject({ id: 'T3.2' });
    expect(parseTaskLine('- [ ] T001abc Glued')).toMatchObject({ kind: 'unreadable' });
  });

  it('treats a checkbox without a task ID as a checklist item', () => {
    expect(parseTaskLine('- [ ] All entities have model tasks')).toEqual({ kind: 'checklist', indent: 0 });
    expect(parseTaskLine('- [x] Test the login flow')).toEqual({ kind: 'checklist', indent: 0 });
    expect(parseTaskLine('- [ ] TODO: decide on caching')).toEqual({ kind: 'checklist', indent: 0 });
  });

  it('reports lines that look like tasks but cannot be read', () => {
    expect(parseTaskLine('- [?] T001 Unsure')).toMatchObject({ kind: 'unreadable' });
    expect(parseTaskLine('- [xx] T001 Double')).toMatchObject({ kind: 'unreadable' });
    expect(parseTaskLine('- [ ] TXXX Placeholder')).toMatchObject({ kind: 'unreadable' });
    expect(parseTaskLine('- [ ] T-01 Dashed')).toMatchObject({ kind: 'unreadable' });
    expect(parseTaskLine('[ ] T001 Not a list item')).toMatchObject({ kind: 'unreadable' });
  });

  it('ignores lines that are not checkboxes', () => {
    expect(parseTaskLine('- T001 Summary line without a checkbox')).toBeNull();
    expect(parseTaskLine('- [P] tasks = different files')?.kind).not.toBe('task');
    expect(parseTaskLine('Plain text mentioning [x] T001')).toBeNull();
  });
});
