import { describe, expect, it } from 'vitest';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';
import { tickTasks } from '../../src/spec-kit/tick-tasks.ts';
import { allTasks, phaseRows, readFixture, taskById, taskRows } from './helpers.ts';

describe('parseTasks on the canonical 001-demo file', () => {
  const doc = parseTasks(readFixture('001-demo.md'));

  it('reads the title and the two phases, with their line ranges', () => {
    expect(doc.title).toBe('Tasks: Demo Greeting CLI');
    expect(phaseRows(doc)).toEqual([
      'Phase 1: Setup (Shared Infrastructure) (11-19)',
      'Phase 2: User Story 1 - Greet a user by name (Priority: P1) 🎯 MVP (23-33)',
    ]);
    expect(doc.warnings).toEqual([]);
  });

  it('reads purpose, goal, independent test and checkpoint', () => {
    const [setup, story] = doc.phases;
    expect(setup).toMatchObject({
      purpose: 'Project initialization and basic structure',
      checkpoint: '`npm test` runs (with no tests yet)',
    });
    expect(setup?.independentTest).toBeUndefined();
    expect(story).toMatchObject({
      purpose: '`greet Ada` prints `Hello, Ada!`',
      independentTest: 'Run `node src/cli.js Ada` and check the output',
      checkpoint: 'User Story 1 is fully functional and testable on its own',
    });
  });

  it('reads every task with its state, flags, story, description, paths and line', () => {
    expect(taskRows(doc.phases[0])).toEqual([
      '15 T001 pending',
      '16 T002 pending [P]',
      '17 T003 pending [P]',
    ]);
    expect(taskRows(doc.phases[1])).toEqual([
      '29 T004 pending [P] [US1]',
      '30 T005 pending [US1]',
      '31 T006 pending [US1]',
    ]);
    expect(taskById(doc, 'T004')).toEqual({
      id: 'T004',
      state: 'pending',
      parallel: true,
      story: 'US1',
      description: 'Write a unit test for `greet()` in `tests/greet.test.js`',
      paths: ['tests/greet.test.js'],
      line: 29,
    });
    expect(taskById(doc, 'T001').paths).toEqual(['src/', 'tests/']);
    expect(taskById(doc, 'T003').paths).toEqual(['eslint.config.js', '.prettierrc']);
  });

  it('does not turn the Format, Dependencies and Notes sections into phases', () => {
    expect(doc.phases.map((phase) => phase.title)).not.toContain('Notes');
    expect(allTasks(doc)).toHaveLength(6);
  });
});

describe('parseTasks on a file generated from the Spec Kit template', () => {
  const doc = parseTasks(readFixture('canonical-template.md'));

  it('finds the five phases and nothing from the reference sections', () => {
    expect(doc.title).toBe('Tasks: Photo Albums');
    expect(phaseRows(doc)).toEqual([
      'Phase 1: Setup (Shared Infrastructure) (34-40)',
      'Phase 2: Foundational (Blocking Prerequisites) (44-54)',
      'Phase 3: User Story 1 - Create an album (Priority: P1) 🎯 MVP (58-78)',
      'Phase 4: User Story 2 - Add photos to an album (Priority: P2) (82-92)',
      'Phase 5: Polish & Cross-Cutting Concerns (96-101)',
    ]);
    expect(doc.warnings).toEqual([]);
  });

  it('ignores the sample task inside the HTML comment and the task copied into the code example', () => {
    const ids = allTasks(doc).map((task) => task.id);
    expect(ids).not.toContain('T999');
    expect(ids.filter((id) => id === 'T007')).toHaveLength(1);
    expect(ids).toEqual(Array.from({ length: 17 }, (_, index) => `T${String(index + 1).padStart(3, '0')}`));
  });

  it('keeps tasks under ### sub-sections in their phase', () => {
    expect(taskRows(doc.phases[2])).toEqual([
      '68 T007 pending [P] [US1]',
      '69 T008 pending [P] [US1]',
      '73 T009 pending [P] [US1]',
      '74 T010 pending [US1]',
      '75 T011 pending [US1]',
      '76 T012 pending [US1]',
    ]);
  });

  it('reads done tasks written with an upper-case X', () => {
    expect(taskRows(doc.phases[0])).toEqual(['38 T001 done', '39 T002 done', '40 T003 pending [P]']);
  });

  it('does not take a route in backticks-free text or a placeholder for a path', () => {
    expect(taskById(doc, 'T013').paths).toEqual(['backend/tests/contract/photos.post.test.ts']);
    expect(taskById(doc, 'T017').paths).toEqual([]);
    expect(taskById(doc, 'T004').paths).toEqual(['backend/src/db/']);
  });
});

describe('parseTasks with YAML front matter', () => {
  const doc = parseTasks(readFixture('front-matter.md'));

  it('skips the front matter, including a YAML comment that looks like a heading', () => {
    expect(doc.title).toBe('Tasks: API Rate Limits');
    expect(phaseRows(doc)).toEqual(['Phase 1: Setup (12-15)', 'Phase 2: Core (17-19)']);
    expect(taskRows(doc.phases[0])).toEqual(['14 T001 pending', '15 T002 pending [P]']);
    expect(taskRows(doc.phases[1])).toEqual(['19 T003 pending']);
  });

  it('keeps a leading --- separator that is not front matter', () => {
    const text = '---\n# Tasks: X\n\n## Phase 1: Setup\n\n- [ ] T001 Do it\n\n---\n';
    const parsed = parseTasks(text);
    expect(parsed.title).toBe('Tasks: X');
    expect(taskRows(parsed.phases[0])).toEqual(['6 T001 pending']);
  });
});

describe('parseTasks with HTML comments', () => {
  const doc = parseTasks(readFixture('html-comments.md'));

  it('ignores tasks and whole phases hidden in comments', () => {
    expect(phaseRows(doc)).toEqual(['Phase 1: Setup (5-12)', 'Phase 2: Retention (23-26)']);
    expect(allTasks(doc).map((task) => task.id)).toEqual(['T001', 'T003', 'T004', 'T008', 'T009']);
    expect(doc.warnings).toEqual([]);
  });

  it('drops comment text from descriptions and phase facts', () => {
    expect(doc.phases[0]?.purpose).toBe('Storage for audit events');
    expect(taskById(doc, 'T003').description).toBe('Add the `AuditEvent` type in `src/audit/types.ts`');
    expect(taskById(doc, 'T003').paths).toEqual(['src/audit/types.ts']);
    expect(taskById(doc, 'T004').description).toBe(
      'Write events from the request pipeline in `src/audit/writer.ts`',
    );
  });

  it('does not let `<!--` inside a code span hide the rest of the file', () => {
    const text =
      '## Phase 1: Docs\n\n- [ ] T001 Explain the `<!--` marker in `docs/markers.md`\n- [ ] T002 More\n';
    expect(allTasks(parseTasks(text)).map((task) => task.id)).toEqual(['T001', 'T002']);
  });
});

describe('parseTasks task states', () => {
  const doc = parseTasks(readFixture('task-states.md'));

  it('reads pending, done, skipped and deferred, with decorations', () => {
    expect(taskRows(doc.phases[0])).toEqual([
      '5 T001 done',
      '6 T002 done [P]',
      '7 T003 done',
      '8 T004 done',
      '9 T005 skipped',
      '10 T006 deferred',
      '11 T007 skipped',
      '12 T008 pending [P]',
    ]);
    expect(taskRows(doc.phases[1])).toEqual(['16 T009 pending', '17 T010 pending']);
  });

  it('strips the ✅ and bold decorations around a done task', () => {
    expect(taskById(doc, 'T003').description).toBe('Configure the export queue in `src/export/queue.ts`');
    expect(taskById(doc, 'T003').paths).toEqual(['src/export/queue.ts']);
    expect(taskById(doc, 'T004').description).toBe('Add a PDF renderer (replaced by T010)');
  });

  it('treats a struck-through pending task as dropped (skipped), not as work to do', () => {
    expect(taskById(doc, 'T007')).toMatchObject({ state: 'skipped', description: 'Support fax delivery' });
  });

  it('warns about a checkbox whose state cannot be read, with line and text', () => {
    expect(doc.warnings).toEqual([
      {
        line: 18,
        message: expect.stringContaining('"[?]" is not [ ], [x], [~] or [-]') as string,
      },
      { line: 19, message: expect.stringContaining('- [] T012 Upload to Google Drive') as string },
    ]);
    expect(doc.warnings[0]?.message).toContain('- [?] T011 Upload to S3');
  });
});

describe('parseTasks task IDs', () => {
  const doc = parseTasks(readFixture('task-ids.md'));

  it('reads IDs with suffixes and gaps, and bold IDs', () => {
    expect(taskRows(doc.phases[0])).toEqual([
      '5 T001 pending',
      '6 T010 pending',
      '7 T020 pending',
      '8 T020a pending',
      '9 T020b pending [P]',
      '10 T021 pending',
      '11 T022 pending [P]',
      '12 T023 pending [US2]',
    ]);
    expect(taskById(doc, 'T021').description).toBe('Add date range filters in `src/search/date-range.ts`');
    expect(taskById(doc, 'T022').description).toBe('Add tag filters in `src/search/tags.ts`');
    expect(taskById(doc, 'T023').description).toBe('Persist filters in the URL in `web/src/useFilters.ts`');
  });

  it('warns about the template placeholder ID TXXX', () => {
    expect(doc.warnings).toEqual([
      {
        line: 13,
        message:
          'This line looks like a task, but its task ID "TXXX" cannot be read, so it is not worked on: ' +
          '- [ ] TXXX [P] Documentation updates in docs/',
      },
    ]);
  });
});

describe('parseTasks flags', () => {
  const doc = parseTasks(readFixture('task-flags.md'));

  it('treats [P1] and [P2] as priorities, not the parallel flag', () => {
    expect(taskById(doc, 'T001')).toMatchObject({ parallel: false, priority: 'P1', story: 'US1' });
    expect(taskById(doc, 'T002')).toMatchObject({ parallel: false, priority: 'P2', story: 'US1' });
    expect(taskById(doc, 'T001').description).toBe('Add the `muted` column in `db/schema.prisma`');
  });

  it('reads [P] at the end of the line and task lines indented by a space', () => {
    expect(taskRows(doc.phases[0])).toEqual([
      '5 T001 pending [US1] {P1}',
      '6 T002 pending [US1] {P2}',
      '7 T003 pending [P] [US1]',
      '8 T004 pending [US1]',
      '9 T005 pending [P] [US1]',
      '10 T006 pending [P] [US1]',
      '11 T007 pending',
    ]);
    expect(taskById(doc, 'T003').description).toBe('Add the mute endpoint in `src/api/mute.ts`');
  });

  it('leaves a [P] in the middle of the description alone', () => {
    expect(taskById(doc, 'T007')).toMatchObject({
      parallel: false,
      description: 'Mention [P] tasks in the contributor guide `CONTRIBUTING.md`',
      paths: ['CONTRIBUTING.md'],
    });
  });
});

describe('parseTasks task bodies', () => {
  const doc = parseTasks(readFixture('task-bodies.md'));

  it('keeps multi-paragraph bodies and sub-bullets with their task', () => {
    expect(taskRows(doc.phases[0])).toEqual([
      '5 T001 pending',
      '14 T002 pending',
      '23 T003 pending [P]',
      '26 T004 pending',
    ]);
    expect(taskById(doc, 'T001').body).toBe(
      [
        'Retries use exponential backoff: 1 s, 2 s, 4 s … capped at 5 minutes.',
        'The policy lives in `src/webhooks/retry-policy.ts`.',
        '',
        '- Jitter: ±20 %',
        '- Give up after 10 attempts',
        '- [ ] unit test for the cap (sub-step, not a task)',
      ].join('\n'),
    );
  });

  it('collects paths named in the body, but not inside its code block', () => {
    expect(taskById(doc, 'T001').paths).toEqual(['src/webhooks/retry-policy.ts']);
    expect(taskById(doc, 'T002').paths).toEqual(['db/migrations/0012_webhook_attempts.sql']);
    expect(taskById(doc, 'T002').body).toContain('```sql\n- [ ] not a task either\n');
  });

  it('ends a body at an unindented paragraph', () => {
    expect(taskById(doc, 'T003').body).toBeUndefined();
    expect(taskById(doc, 'T003').paths).toEqual(['admin/src/Attempts.tsx']);
  });
});

describe('parseTasks phase headings', () => {
  it('reads en dash, em dash and hyphen separators', () => {
    const doc = parseTasks(readFixture('dash-headings.md'));
    expect(phaseRows(doc)).toEqual([
      'Phase 1: Setup (3-5)',
      'Phase 2: Theme switcher (7-9)',
      'Phase 3: Persist the choice (11-13)',
      'Phase 4: Polish (15-17)',
    ]);
  });

  it('keeps decimal phase numbers as text, so 3.10 is not 3.1', () => {
    const doc = parseTasks(readFixture('decimal-phases.md'));
    expect(doc.phases.map((phase) => phase.number)).toEqual([
      '3.1',
      '3.2',
      '3.3',
      '3.4',
      '3.5',
      '3.6',
      '3.7',
      '3.8',
      '3.9',
      '3.10',
      '3.11',
    ]);
    expect(phaseRows(doc)[1]).toBe('Phase 3.2: Tests First (TDD) ⚠️ MUST COMPLETE BEFORE 3.3 (9-11)');
    expect(phaseRows(doc)[9]).toBe('Phase 3.10: Dunning (34-36)');
    expect(taskRows(doc.phases[9])).toEqual(['35 T011 pending', '36 T012 pending [P]']);
  });

  it('reads short headings, headings without "Phase N" that hold tasks, ### sub-sections and --- separators', () => {
    const doc = parseTasks(readFixture('short-headings.md'));
    expect(phaseRows(doc)).toEqual([
      'Phase 1: Setup (3-5)',
      'Phase 2: Foundation (9-11)',
      'Phase 3: US1 Browse (15-23)',
      'US2: CLI Output (27-32)',
      'Maintenance / Post-Completion Tasks (36-39)',
    ]);
    expect(doc.phases[3]).toMatchObject({ number: null, purpose: 'Output as a table or as JSON' });
    expect(taskRows(doc.phases[2])).toEqual(['19 T003 pending [P] [US1]', '23 T004 pending [US1]']);
    expect(taskRows(doc.phases[4])).toEqual(['38 T007 pending', '39 T008 pending']);
    expect(doc.warnings).toEqual([]);
  });

  it('makes a file without ## headings one implicit phase titled from its # title', () => {
    const doc = parseTasks(readFixture('no-phase-headings.md'));
    expect(doc.title).toBe('Tasks: Fix Typo in Signup Email');
    expect(doc.phases).toHaveLength(1);
    expect(doc.phases[0]).toMatchObject({
      number: null,
      title: 'Fix Typo in Signup Email',
      startLine: 1,
      endLine: 7,
    });
    expect(taskRows(doc.phases[0])).toEqual(['5 T001 pending', '6 T002 pending [P]', '7 T003 done']);
  });

  it('titles the implicit phase "Tasks" when the file has no title either', () => {
    const doc = parseTasks('- [ ] T001 Do the thing\n');
    expect(doc.title).toBeNull();
    expect(doc.phases).toEqual([
      expect.objectContaining({ number: null, title: 'Tasks', startLine: 1, endLine: 1 }),
    ]);
  });

  it('reads phases nested as ### under a ## Tasks heading', () => {
    const doc = parseTasks(readFixture('nested-phase-headings.md'));
    expect(doc.title).toBe('Feature 007: Saved Searches');
    expect(phaseRows(doc)).toEqual(['Phase 1: Setup (7-9)', 'Phase 2: Core (11-19)']);
    expect(taskRows(doc.phases[1])).toEqual(['15 T002 pending', '19 T003 pending [P]']);
  });

  it('reads non-English text and emoji in headings', () => {
    const doc = parseTasks(readFixture('non-english.md'));
    expect(doc.title).toBe('Aufgaben: Benutzerprofil 👤');
    expect(phaseRows(doc)).toEqual([
      'Phase 1: Einrichtung 🚀 (3-8)',
      'Phase 2: 用户故事 1 – 编辑个人资料 (优先级: P1) 🎯 (10-13)',
      'Phase 3: 仕上げ ✨ (15-17)',
      'Phase 4: Vérification finale — éàü (19-21)',
    ]);
    expect(doc.phases[0]?.purpose).toBe('Grundstruktur anlegen');
    expect(taskById(doc, 'T003')).toMatchObject({
      story: 'US1',
      description: '在 `src/profile/edit.ts` 中实现编辑功能',
      paths: ['src/profile/edit.ts'],
    });
    expect(taskById(doc, 'T005').paths).toEqual(['README.ja.md']);
    expect(taskById(doc, 'T006').description).toBe("Vérifier l'accessibilité dans `docs/a11y.md` 🔍");
  });
});

describe('parseTasks code blocks, checklists and reference sections', () => {
  it('ignores checkboxes inside ``` , ```` and ~~~ fences', () => {
    const doc = parseTasks(readFixture('code-fences.md'));
    expect(phaseRows(doc)).toEqual(['Phase 1: Parser (3-29)', 'Phase 2: Output (31-33)']);
    expect(allTasks(doc).map((task) => task.id)).toEqual(['T001', 'T002', 'T003']);
    expect(taskRows(doc.phases[0])).toEqual(['5 T001 pending', '21 T002 pending']);
    expect(doc.warnings).toEqual([]);
  });

  it('treats checkbox lists without IDs as checklists and reference sections as non-phases', () => {
    const doc = parseTasks(readFixture('reference-sections.md'));
    expect(phaseRows(doc)).toEqual([
      'Phase 1: Setup (3-8)',
      'Phase 2: User Story 1 - Invite a teammate (Priority: P1) (10-19)',
    ]);
    expect(allTasks(doc).map((task) => task.id)).toEqual(['T001', 'T002', 'T003', 'T004']);
  });

  it('warns about a task defined only under a non-phase section such as Notes', () => {
    const doc = parseTasks(readFixture('reference-sections.md'));
    expect(doc.warnings).toEqual([
      {
        line: 39,
        message:
          'Task T099 is under "Notes", which is not a phase, so it is not worked on; move it into a phase.',
      },
    ]);
  });
});

describe('parseTasks summaries', () => {
  it('treats a progress dashboard before Phase 1 as a summary: the definition inside a phase wins', () => {
    const doc = parseTasks(readFixture('progress-dashboard.md'));
    expect(phaseRows(doc)).toEqual([
      'Phase 1: Setup (21-25)',
      'Phase 2: Core Sync (27-32)',
      'Phase 3: Conflicts (34-38)',
    ]);
    expect(taskRows(doc.phases[1])).toEqual([
      '29 T004 done',
      '30 T005 pending',
      '31 T006 pending [P]',
      '32 T007 pending',
    ]);
    expect(taskById(doc, 'T005').description).toBe(
      'Replay queued writes when back online in `app/src/sync/replay.ts`',
    );
    expect(doc.warnings).toEqual([]);
  });

  it('drops an unnamed summary section that repeats tasks of unnumbered phases', () => {
    const doc = parseTasks(readFixture('status-summary.md'));
    expect(phaseRows(doc)).toEqual(['US1: Default shortcuts (10-15)', 'US2: Custom bindings (17-20)']);
    expect(taskRows(doc.phases[0])).toEqual(['14 T001 done [US1]', '15 T002 pending [US1]']);
    expect(doc.warnings).toEqual([]);
  });
});

describe('parseTasks warnings', () => {
  const doc = parseTasks(readFixture('duplicate-ids.md'));

  it('reports an ID defined twice in phases with both lines, and keeps both definitions', () => {
    expect(doc.warnings.slice(0, 2)).toEqual([
      {
        line: 11,
        message:
          'Task T002 is defined more than once (lines 6, 11); the first pending definition is the one worked on. ' +
          'Give each task its own ID.',
      },
      {
        line: 16,
        message: expect.stringContaining('Task T003 is defined more than once (lines 10, 16)') as string,
      },
    ]);
    expect(taskRows(doc.phases[1])).toEqual(['10 T003 pending', '11 T002 done', '12 T004 pending']);
    expect(taskRows(doc.phases[2])).toEqual(['16 T003 pending', '17 T005 pending']);
  });

  it('reports a task-like line that is not a list item', () => {
    expect(doc.warnings[2]).toEqual({
      line: 18,
      message:
        'This line looks like a task, but it is not a "- [ ] T001 …" list item, so it is not worked on: ' +
        '-[ ] T006 Log reset attempts in `src/auth/audit.ts`',
    });
  });
});

describe('parseTasks line endings and encodings', () => {
  const raw = readFixture('crlf-bom.md');

  it('has a BOM and CRLF line endings in the fixture itself', () => {
    expect(raw.startsWith('\uFEFF')).toBe(true);
    expect(raw).toContain('\r\n');
    expect(raw.replaceAll('\r\n', '')).not.toContain('\n');
  });

  it('reads a CRLF file with a BOM like its LF twin', () => {
    const doc = parseTasks(raw);
    const lf = parseTasks(raw.slice(1).replaceAll('\r\n', '\n'));
    expect(doc).toEqual(lf);
    expect(doc.title).toBe('Tasks: Windows Installer');
    expect(phaseRows(doc)).toEqual(['Phase 1: Setup (3-8)', 'Phase 2: Upgrade path (10-12)']);
    expect(taskRows(doc.phases[0])).toEqual(['7 T001 pending', '8 T002 done [P]']);
    expect(taskById(doc, 'T001').description).toBe('Add the WiX project in `installer/Product.wxs`');
    expect(doc.phases[0]?.purpose).toBe('Build the MSI on CI');
  });

  it('reads lone CR line endings', () => {
    const doc = parseTasks('## Phase 1: Setup\r- [ ] T001 One\r- [x] T002 Two\r');
    expect(taskRows(doc.phases[0])).toEqual(['2 T001 pending', '3 T002 done']);
  });
});

describe('parseTasks on files without work', () => {
  it('finds phases but no tasks in a file with only checklists, code and comments', () => {
    const doc = parseTasks(readFixture('no-tasks.md'));
    expect(phaseRows(doc)).toEqual(['Phase 1: Setup (3-14)']);
    expect(allTasks(doc)).toEqual([]);
    expect(doc.warnings).toEqual([]);
  });

  it('returns an empty document for empty text', () => {
    expect(parseTasks('')).toEqual({ title: null, phases: [], warnings: [] });
  });
});

describe('parseTasks on large and hostile files', () => {
  const MB = 1_048_576;
  const fill = (unit: string) => unit.repeat(Math.floor(MB / unit.length));

  it.each([
    ['30,000 tasks in one phase', `## Phase 1: A\n${fill('- [ ] T001 Do `src/file.ts`\n')}`],
    [
      '20,000 unnumbered sections',
      Array.from({ length: 20_000 }, (_, i) => `## Part ${i}\n- [ ] T${i} x`).join('\n'),
    ],
    ['one line of backtick runs', `- [ ] T001 ${fill('` ``a')}`],
    ['one line of comment openers and code spans', fill('`<!--` a ')],
    ['a heading of stars', `## ${fill('*')}x`],
    ['a line of spaces', `${fill(' ')}x`],
    [
      'a task naming 100,000 paths',
      `- [ ] T001 ${Array.from({ length: 100_000 }, (_, i) => `\`f${i}.ts\``).join(' ')}`,
    ],
    ['100,000 phase headings', fill('## Phase 1\n')],
    ['a task body of 100,000 lines', `- [ ] T001 x\n${fill('  - y\n')}`],
    ['a task with a thousand flags', `- [ ] T001 ${fill('[P] ')}x ${fill(' [P]')}`],
  ])('parses and ticks 1 MB of %s in linear time', (_name, text) => {
    const started = performance.now();
    parseTasks(text);
    tickTasks(text, ['T001', 'T002']);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
