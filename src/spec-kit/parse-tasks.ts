// Parses a Spec Kit tasks.md into phases and tasks. Pure and total: any string
// gives a document; what cannot be read becomes a warning, never an exception.
//
// The file is cut into sections at phase-level headings. A `## Phase N` section
// is always a phase; another section is a phase when it defines tasks of its own
// (`## US1: CLI Output`, `## Maintenance Tasks`). Sections that only repeat
// tasks defined elsewhere are summaries (a progress dashboard), and reference
// sections (dependencies, strategy, notes) never hold work.

import { extractPaths } from './extract-paths.ts';
import { parseTaskLine, type TaskLine } from './parse-task-line.ts';
import {
  cleanHeadingText,
  type Heading,
  isReferenceSection,
  readHeading,
  readPhaseHeading,
} from './read-heading.ts';
import { indentOf, type SourceLine, scanLines } from './scan-lines.ts';
import type { ParseWarning, Phase, Task, TasksDocument } from './types.ts';

/** The parsed document plus where each task's checkbox state character sits in the text. */
export interface TasksAnalysis {
  document: TasksDocument;
  /** Offset (UTF-16 index into the original text) of the character inside `[ ]`, per task. */
  stateOffsets: Map<Task, number>;
}

interface Section {
  /** Index of the heading line (or of the first line for the part before any heading). */
  start: number;
  /** Exclusive end index. */
  end: number;
  kind: 'numbered' | 'other' | 'preamble';
  number: string | null;
  title: string;
  tasks: Task[];
  unreadable: ParseWarning[];
  facts: PhaseFacts;
}

interface PhaseFacts {
  purpose: string | null;
  checkpoint: string | null;
  independentTest: string | null;
}

interface OpenTask {
  task: Task;
  indent: number;
  bodyLines: SourceLine[];
  inCode: boolean;
}

export function parseTasks(text: string): TasksDocument {
  return analyzeTasks(text).document;
}

export function analyzeTasks(text: string): TasksAnalysis {
  const lines = scanLines(text);
  const headings = findHeadings(lines);
  const titleIndex = findTitleIndex(headings);
  const title = titleIndex === undefined ? null : (headings.get(titleIndex)?.text ?? null);
  const stateOffsets = new Map<Task, number>();
  const sections = splitSections(lines, headings, titleIndex, title).map((section) =>
    readSection(section, lines, headings, stateOffsets),
  );
  const phaseSections = choosePhaseSections(sections);
  const phases = phaseSections.map((section) => toPhase(section, lines));
  const warnings = [
    ...phaseSections.flatMap((section) => section.unreadable),
    ...duplicateWarnings(phases),
    ...strandedTaskWarnings(sections, phaseSections),
  ].sort((a, b) => a.line - b.line);
  return { document: { title, phases, warnings }, stateOffsets };
}

function findHeadings(lines: readonly SourceLine[]): Map<number, Heading> {
  const headings = new Map<number, Heading>();
  lines.forEach((line, index) => {
    const heading = line.code ? null : readHeading(line.text);
    if (heading) headings.set(index, heading);
  });
  return headings;
}

/** The first `#` heading that is not itself a phase names the document. */
function findTitleIndex(headings: ReadonlyMap<number, Heading>): number | undefined {
  for (const [index, heading] of headings) {
    if (heading.level === 1 && !readPhaseHeading(heading.text)) return index;
  }
  return undefined;
}

/**
 * Cuts the file at headings at or above the level phases use (usually `##`;
 * `###` in files that nest phases under `## Tasks`), so `###` sub-sections
 * stay inside their phase.
 */
function splitSections(
  lines: readonly SourceLine[],
  headings: ReadonlyMap<number, Heading>,
  titleIndex: number | undefined,
  title: string | null,
): Section[] {
  // reduce, not Math.min(...levels): a spread of 100,000 arguments overflows the stack.
  const phaseLevel = [...headings.values()]
    .filter((heading) => readPhaseHeading(heading.text))
    .reduce((level, heading) => Math.min(level, heading.level), 7);
  const splitLevel = phaseLevel === 7 ? 2 : phaseLevel;
  const starts = [...headings]
    .filter(([index, heading]) => index !== titleIndex && heading.level <= splitLevel)
    .map(([index]) => index);
  const preambleTitle = (title ?? '').replace(/^Tasks?\s*(?:[:：\-–—]\s*|$)/i, '').trim();
  const sections: Section[] = [
    emptySection(0, starts[0] ?? lines.length, 'preamble', null, preambleTitle || 'Tasks'),
  ];
  starts.forEach((start, position) => {
    const heading = headings.get(start);
    const end = starts[position + 1] ?? lines.length;
    const phase = heading && heading.level === splitLevel ? readPhaseHeading(heading.text) : null;
    sections.push(
      phase
        ? emptySection(start, end, 'numbered', phase.number, phase.title)
        : emptySection(start, end, 'other', null, cleanHeadingText(heading?.text ?? '')),
    );
  });
  return sections;
}

function emptySection(
  start: number,
  end: number,
  kind: Section['kind'],
  number: string | null,
  title: string,
): Section {
  const facts = { purpose: null, checkpoint: null, independentTest: null };
  return { start, end, kind, number, title, tasks: [], unreadable: [], facts };
}

/** Reads a section's tasks (with their indented bodies), unreadable task lines and phase facts. */
function readSection(
  section: Section,
  lines: readonly SourceLine[],
  headings: ReadonlyMap<number, Heading>,
  stateOffsets: Map<Task, number>,
): Section {
  let open: OpenTask | null = null;
  for (let index = section.start; index < section.end; index++) {
    const line = lines[index];
    if (!line || headings.has(index)) {
      open = finishTask(open);
      continue;
    }
    if (line.code) {
      // A fence indented under the task belongs to its body, up to its closing fence.
      if (open && (open.inCode || (line.fence === 'open' && indentOf(line.raw) > open.indent))) {
        open.bodyLines.push(line);
        open.inCode = line.fence !== 'close';
      } else open = finishTask(open);
      continue;
    }
    if (line.text.trim() === '') {
      open?.bodyLines.push(line);
      continue;
    }
    const parsed = parseTaskLine(line.text);
    if (parsed?.kind === 'task') {
      finishTask(open);
      const task = toTask(parsed, line);
      stateOffsets.set(task, line.start + parsed.stateColumn);
      section.tasks.push(task);
      open = { task, indent: parsed.indent, bodyLines: [], inCode: false };
      continue;
    }
    if (parsed?.kind === 'unreadable') {
      section.unreadable.push({
        line: line.number,
        message: `This line looks like a task, but ${parsed.message}, so it is not worked on: ${clip(line.text.trim())}`,
      });
    }
    if (open && indentOf(line.text) > open.indent) {
      open.bodyLines.push(line);
      continue;
    }
    open = finishTask(open);
    readPhaseFact(line.text, section.facts);
  }
  finishTask(open);
  return section;
}

function toTask(parsed: TaskLine, line: SourceLine): Task {
  const task: Task = {
    id: parsed.id,
    state: parsed.state,
    parallel: parsed.parallel,
    story: parsed.story,
    description: parsed.description,
    paths: extractPaths(parsed.description),
    line: line.number,
  };
  if (parsed.priority !== null) task.priority = parsed.priority;
  return task;
}

/** Attaches the body lines to the task: dedented text, and the paths they name. Returns null (no open task). */
function finishTask(open: OpenTask | null): null {
  if (!open) return null;
  const isBlank = (line: SourceLine | undefined) => line !== undefined && line.text.trim() === '';
  let first = 0;
  let last = open.bodyLines.length;
  while (first < last && isBlank(open.bodyLines[first])) first++;
  while (last > first && isBlank(open.bodyLines[last - 1])) last--;
  const lines = open.bodyLines.slice(first, last);
  if (lines.length === 0) return null;
  const texts = lines.map((line) => (line.code ? line.raw : line.text).trimEnd());
  const margin = texts
    .filter((text) => text !== '')
    .reduce((least, text) => Math.min(least, indentOf(text)), Number.POSITIVE_INFINITY);
  open.task.body = texts.map((text) => dedent(text, margin)).join('\n');
  const proseLines = lines.filter((line) => !line.code).map((line) => line.text);
  open.task.paths = [...new Set([...open.task.paths, ...extractPaths(proseLines.join('\n'))])];
  return null;
}

/** The labels Spec Kit writes (and a few translations users write) for phase facts. */
const PURPOSE_NAMES = [
  'purpose',
  'goal',
  'zweck',
  'ziel',
  'objetivo',
  'propósito',
  'objectif',
  '目的',
  '目标',
  '目標',
];
const CHECKPOINT_NAMES = [
  'checkpoint',
  'kontrollpunkt',
  'punto de control',
  'point de contrôle',
  '检查点',
  'チェックポイント',
];
const INDEPENDENT_TEST_NAMES = ['independent test'];
const FACT_NAMES = [...PURPOSE_NAMES, ...CHECKPOINT_NAMES, ...INDEPENDENT_TEST_NAMES].join('|');
const PHASE_FACT = new RegExp(
  String.raw`^\s*(?:>\s*)?(?:[-*+]\s+)?(?:(?:\p{Extended_Pictographic}|\p{So}|\uFE0F)+\s*)?(?:\*\*|__)?(${FACT_NAMES})(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*(.+)$`,
  'iu',
);

/** `**Purpose**: …`, `**Goal:** …`, `**Checkpoint**: …`, `**Independent Test**: …` — first one wins. */
function readPhaseFact(text: string, facts: PhaseFacts): void {
  const match = PHASE_FACT.exec(text);
  const name = match?.[1]?.toLowerCase();
  const value = match?.[2]?.trim();
  if (!name || !value) return;
  if (CHECKPOINT_NAMES.includes(name)) facts.checkpoint ??= value;
  else if (INDEPENDENT_TEST_NAMES.includes(name)) facts.independentTest ??= value;
  else facts.purpose ??= value;
}

/**
 * Numbered phases always count. Other sections count when they define tasks
 * and are not reference sections; then sections whose every task is defined in
 * another counted section are dropped as summaries — the biggest first, since a
 * progress dashboard lists the tasks of many phases. Dropping a section never
 * makes another one covered, so one pass in that order is enough.
 */
function choosePhaseSections(sections: readonly Section[]): Section[] {
  const chosen = new Set(
    sections.filter(
      (section) =>
        section.kind === 'numbered' ||
        (section.tasks.length > 0 && (section.kind === 'preamble' || !isReferenceSection(section.title))),
    ),
  );
  const ids = new Map<Section, Set<string>>();
  const sectionsDefining = new Map<string, number>();
  for (const section of chosen) {
    const own = new Set(section.tasks.map((task) => task.id));
    ids.set(section, own);
    for (const id of own) sectionsDefining.set(id, (sectionsDefining.get(id) ?? 0) + 1);
  }
  const candidates = [...chosen]
    .filter((section) => section.kind !== 'numbered')
    .sort(
      (a, b) =>
        b.tasks.length - a.tasks.length || descriptionLength(a) - descriptionLength(b) || a.start - b.start,
    );
  for (const section of candidates) {
    const own = ids.get(section) ?? new Set<string>();
    if (![...own].every((id) => (sectionsDefining.get(id) ?? 0) > 1)) continue;
    chosen.delete(section);
    for (const id of own) sectionsDefining.set(id, (sectionsDefining.get(id) ?? 1) - 1);
  }
  return sections.filter((section) => chosen.has(section));
}

function descriptionLength(section: Section): number {
  return section.tasks.reduce((sum, task) => sum + task.description.length + (task.body?.length ?? 0), 0);
}

function toPhase(section: Section, lines: readonly SourceLine[]): Phase {
  const contentLines = lines.slice(section.start, section.end).filter(isContent);
  const startLine = contentLines[0]?.number ?? section.start + 1;
  const phase: Phase = {
    number: section.number,
    title: section.title,
    startLine,
    endLine: contentLines[contentLines.length - 1]?.number ?? startLine,
    purpose: section.facts.purpose,
    checkpoint: section.facts.checkpoint,
    tasks: section.tasks,
  };
  if (section.facts.independentTest !== null) phase.independentTest = section.facts.independentTest;
  return phase;
}

/** A line that belongs to a phase's range: not blank, not a `---` separator. */
function isContent(line: SourceLine): boolean {
  const text = line.code ? line.raw : line.text;
  return text.trim() !== '' && !/^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/.test(text);
}

function duplicateWarnings(phases: readonly Phase[]): ParseWarning[] {
  const lines = new Map<string, number[]>();
  for (const task of phases.flatMap((phase) => phase.tasks)) {
    const at = lines.get(task.id);
    if (at) at.push(task.line);
    else lines.set(task.id, [task.line]);
  }
  return [...lines]
    .filter(([, at]) => at.length > 1)
    .map(([id, at]) => ({
      line: at[1] ?? 0,
      message:
        `Task ${id} is defined more than once (lines ${at.join(', ')}); the first pending definition is ` +
        'the one worked on. Give each task its own ID.',
    }));
}

/** Tasks defined only in sections that are not phases (e.g. under `## Notes`) are never worked on: say so. */
function strandedTaskWarnings(
  sections: readonly Section[],
  phaseSections: readonly Section[],
): ParseWarning[] {
  const inPhases = new Set(phaseSections.flatMap((section) => section.tasks.map((task) => task.id)));
  const isPhase = new Set(phaseSections);
  const warnings: ParseWarning[] = [];
  for (const section of sections) {
    if (isPhase.has(section)) continue;
    for (const task of section.tasks) {
      if (inPhases.has(task.id)) continue;
      inPhases.add(task.id);
      warnings.push({
        line: task.line,
        message: `Task ${task.id} is under "${section.title}", which is not a phase, so it is not worked on; move it into a phase.`,
      });
    }
  }
  return warnings;
}

/** Removes `margin` columns of leading whitespace. */
function dedent(text: string, margin: number): string {
  let index = 0;
  let width = 0;
  while (index < text.length && width < margin) {
    const char = text[index];
    if (char === ' ') width++;
    else if (char === '\t') width += 4 - (width % 4);
    else break;
    index++;
  }
  return text.slice(index);
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
