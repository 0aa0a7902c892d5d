import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCodexPrompt, MAX_PROMPT_BYTES } from '../../src/spec-kit/build-codex-prompt.ts';
import { pendingTasks } from '../../src/spec-kit/find-next-phase.ts';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';
import { tickTasks, untickTasks } from '../../src/spec-kit/tick-tasks.ts';
import type { TaskState } from '../../src/spec-kit/types.ts';

// A generated tasks.md together with what a correct parser must find in it.
interface ModelTask {
  id: string;
  state: TaskState;
  /** 1-based. */
  line: number;
}

interface GeneratedFile {
  text: string;
  eol: string;
  bom: boolean;
  tasks: ModelTask[];
}

const STATE_CHARS: ReadonlyArray<readonly [string, TaskState]> = [
  [' ', 'pending'],
  [' ', 'pending'],
  ['x', 'done'],
  ['X', 'done'],
  ['~', 'skipped'],
  ['-', 'deferred'],
];

const taskSpec = fc.record({
  gap: fc.integer({ min: 1, max: 9 }),
  suffix: fc.constantFrom('', '', '', 'a', 'b'),
  state: fc.constantFrom(...STATE_CHARS),
  indent: fc.constantFrom('', '', ' '),
  bullet: fc.constantFrom('-', '-', '*', '1.'),
  bold: fc.boolean(),
  emoji: fc.constantFrom('', '', '✅ '),
  flags: fc.constantFrom('', '[P] ', '[US1] ', '[P] [US2] ', '[P1] '),
  trailingParallel: fc.boolean(),
  description: fc.constantFrom(
    'Create the project structure',
    'Add the model in `src/models/user.ts`',
    'Wire the route in `src/api/routes.ts` (depends on earlier tasks)',
    'Écrire la documentation dans `docs/guide.md` 📚',
    'Configure `eslint.config.js` and `.prettierrc`',
  ),
  body: fc.constantFrom(
    [],
    ['  - Sub-step with `src/extra.ts`'],
    ['', '  A second paragraph.', '  - [ ] an unnumbered sub-step'],
  ),
  noiseAfter: fc.constantFrom('none', 'none', 'blank', 'checklist', 'code-copy', 'comment-copy', 'separator'),
});

const phaseSpec = fc.record({
  heading: fc.constantFrom('numbered', 'numbered', 'dash', 'decimal', 'unnumbered'),
  title: fc.constantFrom('Setup', 'Core 🚀', 'User Story 1 - Browse (Priority: P1)', 'Nachbereitung'),
  purpose: fc.boolean(),
  subsection: fc.boolean(),
  tasks: fc.array(taskSpec, { maxLength: 6 }),
});

const fileSpec = fc.record({
  bom: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n'),
  frontMatter: fc.boolean(),
  title: fc.boolean(),
  dashboard: fc.boolean(),
  phases: fc.array(phaseSpec, { minLength: 1, maxLength: 5 }),
  notes: fc.boolean(),
});

function buildFile(spec: typeof fileSpec extends fc.Arbitrary<infer T> ? T : never): GeneratedFile {
  const lines: string[] = [];
  const tasks: ModelTask[] = [];
  const copies: string[] = [];
  let next = 0;
  if (spec.frontMatter)
    lines.push('---', 'description: "Generated task list"', '# a YAML comment', '---', '');
  if (spec.title) lines.push('# Tasks: Generated Feature', '');
  const dashboardAt = lines.length;
  spec.phases.forEach((phase, phaseIndex) => {
    const number = phaseIndex + 1;
    const heading = {
      numbered: `## Phase ${number}: ${phase.title}`,
      dash: `## Phase ${number} – ${phase.title}`,
      decimal: `## Phase 3.${number}: ${phase.title}`,
      unnumbered: `## US${number}: ${phase.title}`,
    }[phase.heading];
    lines.push(heading, '');
    if (phase.purpose) lines.push('**Purpose**: Why this phase exists', '');
    if (phase.subsection) lines.push('### Implementation', '');
    for (const task of phase.tasks) {
      next += task.gap;
      const id = `T${String(next).padStart(3, '0')}${task.suffix}`;
      const [char, state] = task.state;
      const idText = task.bold ? `**${id}**` : id;
      const trailing = task.trailingParallel ? ' [P]' : '';
      lines.push(
        `${task.indent}${task.bullet} [${char}] ${task.emoji}${idText} ${task.flags}${task.description}${trailing}`,
      );
      tasks.push({ id, state, line: lines.length });
      copies.push(id);
      lines.push(...task.body.map((line) => (line === '' ? '' : `${task.indent}${line}`)));
      const noise = {
        none: [],
        blank: [''],
        checklist: ['', '- [ ] All tasks name a file'],
        'code-copy': ['', '```bash', `- [ ] ${id} copied into an example`, '```', ''],
        'comment-copy': [`<!-- - [ ] ${id} an old draft -->`],
        separator: ['', '---', ''],
      }[task.noiseAfter];
      lines.push(...noise);
    }
    lines.push('');
  });
  if (spec.dashboard && copies.length > 0) {
    const dashboard = ['## Progress Dashboard', '', ...copies.map((id) => `- [ ] ${id} (summary)`), ''];
    lines.splice(dashboardAt, 0, ...dashboard);
    for (const task of tasks) task.line += dashboard.length;
  }
  if (spec.notes) lines.push('## Notes', '', '- [P] tasks = different files', '- [ ] Commit after each task');
  const text = `${spec.bom ? '\uFEFF' : ''}${lines.join(spec.eol)}${spec.eol}`;
  return { text, eol: spec.eol, bom: spec.bom, tasks };
}

const generatedFile = fileSpec.map(buildFile);

function splitLines(text: string, eol: string): string[] {
  return text.replace(/^\uFEFF/, '').split(eol);
}

describe('parseTasks on generated tasks.md files', () => {
  it('finds exactly the tasks defined in phases, with their states and lines', () => {
    fc.assert(
      fc.property(generatedFile, (file) => {
        const doc = parseTasks(file.text);
        const found = doc.phases.flatMap((phase) =>
          phase.tasks.map(({ id, state, line }) => ({ id, state, line })),
        );
        expect(found).toEqual(file.tasks);
        expect(doc.warnings).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('tickTasks on generated tasks.md files', () => {
  const fileAndSelection = generatedFile.chain((file) =>
    fc.record({
      file: fc.constant(file),
      ticked: fc.subarray(file.tasks.map((task) => task.id)),
    }),
  );

  it('tick-then-parse marks exactly the ticked tasks done and leaves every other line identical', () => {
    fc.assert(
      fc.property(fileAndSelection, ({ file, ticked }) => {
        const result = tickTasks(file.text, ticked);
        const chosen = new Set(ticked);
        const changed = new Set(
          file.tasks
            .filter((task) => chosen.has(task.id) && task.state === 'pending')
            .map((task) => task.line),
        );
        const after = parseTasks(result);
        const states = after.phases.flatMap((phase) => phase.tasks.map((task) => [task.id, task.state]));
        expect(states).toEqual(
          file.tasks.map((task) => [task.id, changed.has(task.line) ? 'done' : task.state]),
        );
        const before = splitLines(file.text, file.eol);
        const now = splitLines(result, file.eol);
        expect(now).toHaveLength(before.length);
        before.forEach((line, index) => {
          if (changed.has(index + 1)) expect(now[index]).toBe(line.replace('[ ]', '[X]'));
          else expect(now[index]).toBe(line);
        });
        expect(result.startsWith('\uFEFF')).toBe(file.bom);
      }),
      { numRuns: 300 },
    );
  });

  it('unticking what was ticked restores the file byte for byte', () => {
    fc.assert(
      fc.property(fileAndSelection, ({ file, ticked }) => {
        const pending = new Set(file.tasks.filter((task) => task.state === 'pending').map((task) => task.id));
        const ids = ticked.filter((id) => pending.has(id));
        expect(untickTasks(tickTasks(file.text, ids), ids)).toBe(file.text);
      }),
    );
  });

  it('ticking twice is a no-op', () => {
    fc.assert(
      fc.property(fileAndSelection, ({ file, ticked }) => {
        const once = tickTasks(file.text, ticked);
        expect(tickTasks(once, ticked)).toBe(once);
      }),
    );
  });
});

// Fragments that stress the scanner: fences, comments, headings, checkboxes, line endings.
const FRAGMENTS = [
  '- [ ] T001 task',
  '- [x] **T002** done',
  ' - [~] T003a',
  '* [-] ~~T004~~',
  '- [?] T005',
  '- [ ] TXXX',
  '- [ ] checklist',
  '[P]',
  '[US1]',
  '`src/a.ts`',
  '``',
  '`',
  '```',
  '````',
  '~~~',
  '<!--',
  '-->',
  '## Phase 1: A',
  '## Phase 3.10 – B',
  '### Sub',
  '# Title',
  '## Notes',
  '## Progress Dashboard',
  '---',
  '**Purpose**: x',
  '\n',
  '\r\n',
  '\r',
  '\t',
  '  ',
  '\uFEFF',
  '🚀',
  '\uD800',
  'T1.2',
];

const markdownish = fc
  .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 5 })), { maxLength: 60 })
  .map((parts) => parts.join(''));
const anyText = fc.oneof(
  markdownish,
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary' }),
);

describe('parseTasks on arbitrary text', () => {
  it('never throws and returns consistent phases', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const doc = parseTasks(text);
        let previousEnd = 0;
        for (const phase of doc.phases) {
          expect(phase.startLine).toBeGreaterThan(previousEnd);
          expect(phase.endLine).toBeGreaterThanOrEqual(phase.startLine);
          for (const task of phase.tasks) {
            expect(task.line).toBeGreaterThanOrEqual(phase.startLine);
            expect(task.line).toBeLessThanOrEqual(phase.endLine);
          }
          previousEnd = phase.endLine;
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('tickTasks only turns [ ] into [X] and keeps the length', () => {
    fc.assert(
      fc.property(
        anyText,
        fc.array(fc.constantFrom('T001', 'T002', 'T003a', 'T004', 'T1.2')),
        (text, ids) => {
          const ticked = tickTasks(text, ids);
          expect(ticked).toHaveLength(text.length);
          for (let index = 0; index < text.length; index++) {
            if (ticked[index] !== text[index]) {
              expect([text[index], ticked[index], text[index - 1], text[index + 1]]).toEqual([
                ' ',
                'X',
                '[',
                ']',
              ]);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('buildCodexPrompt stays under the cap for any parsed phase', () => {
    fc.assert(
      fc.property(anyText, fc.string(), (text, featureKey) => {
        for (const phase of parseTasks(text).phases) {
          const prompt = buildCodexPrompt({
            featureKey,
            tasksPath: `specs/${featureKey}/tasks.md`,
            phase,
            tasks: pendingTasks(phase),
            designDocs: ['spec.md'],
            agentsMd: true,
          });
          expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
        }
      }),
      { numRuns: 300 },
    );
  });
});
