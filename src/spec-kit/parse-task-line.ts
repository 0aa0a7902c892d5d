// Reads one markdown line as a task. Spec Kit writes `- [ ] T012 [P] [US1] text`,
// but people and agents decorate it (`- [x] ✅ **T001 …**`, `~~T017~~`, `[P]` at
// the end, `[P1]` priorities), so the reader skips decorations around the ID
// instead of demanding one exact layout.

import { indentOf } from './scan-lines.ts';
import type { TaskState } from './types.ts';

export interface TaskLine {
  kind: 'task';
  /** Columns before the list marker; body lines must be indented further. */
  indent: number;
  /** Column of the character between the checkbox brackets. */
  stateColumn: number;
  state: TaskState;
  id: string;
  parallel: boolean;
  story: string | null;
  priority: string | null;
  description: string;
}

export interface UnreadableTaskLine {
  kind: 'unreadable';
  indent: number;
  message: string;
}

/** A checkbox item without a task ID, such as a validation checklist entry. */
export interface ChecklistLine {
  kind: 'checklist';
  indent: number;
}

export type TaskLineResult = TaskLine | UnreadableTaskLine | ChecklistLine;

const CHECKBOX = /^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+)\[([^\]]{0,3})\](.*)$/;
/** Something task-like that is not a `- [ ]` list item: `-[ ] T001`, `[ ] T001`. */
const LOOSE_CHECKBOX = /^[ \t]*(?:[-*+][ \t]*)?\[[^\]]{0,3}\][ \t]*[*_~]*T\d/;
const TASK_ID = /^T\d+(?:\.\d+)*[A-Za-z]{0,2}(?![\p{L}\p{N}_])/u;
/** An ID someone meant but we cannot read: template placeholders (`TXXX`), `T-01`, `T001abc`. */
const SUSPECT_ID = /^T(?:\d|[X#?]{2,}|[-_]\d)/;
const DECORATION = /^(?:\p{Extended_Pictographic}|\p{So}|\u200D|\uFE0F|\s)+/u;
const EMPHASIS_MARKERS = ['**', '__', '~~', '*', '_'] as const;
const STORY = /^(?:US[-_ ]?\d+[A-Za-z]?|Story[-_ ]?\d+[A-Za-z]?)$/i;
const PRIORITY = /^P\d+$/;
const MAX_STEPS = 12;

const STATES: Readonly<Record<string, TaskState>> = {
  ' ': 'pending',
  x: 'done',
  X: 'done',
  '~': 'skipped',
  '-': 'deferred',
};

/** The task, unreadable task or checklist item on `line`, or null for any other line. */
export function parseTaskLine(line: string): TaskLineResult | null {
  const match = CHECKBOX.exec(line);
  if (!match) {
    return LOOSE_CHECKBOX.test(line)
      ? { kind: 'unreadable', indent: indentOf(line), message: 'it is not a "- [ ] T001 …" list item' }
      : null;
  }
  const [, lead = '', marker = '', gap = '', stateText = '', rest = ''] = match;
  const indent = indentOf(lead);
  const head = readTaskHead(rest);
  if (head === null) return { kind: 'checklist', indent };
  if ('problem' in head) return { kind: 'unreadable', indent, message: head.problem };
  const state = STATES[stateText];
  if (state === undefined) {
    return {
      kind: 'unreadable',
      indent,
      message: `its checkbox "[${stateText}]" is not [ ], [x], [~] or [-]`,
    };
  }
  return {
    kind: 'task',
    indent,
    stateColumn: lead.length + marker.length + gap.length + 1,
    // A struck-through pending task was dropped by its author: never work on it.
    state: head.struck && state === 'pending' ? 'skipped' : state,
    id: head.id,
    parallel: head.parallel,
    story: head.story,
    priority: head.priority,
    description: head.description,
  };
}

interface TaskHead {
  id: string;
  struck: boolean;
  parallel: boolean;
  story: string | null;
  priority: string | null;
  description: string;
}

interface Flags {
  parallel: boolean;
  story: string | null;
  priority: string | null;
}

/** Reads what follows the checkbox; null when there is no task ID at all. */
function readTaskHead(rest: string): TaskHead | { problem: string } | null {
  const open: string[] = [];
  const flags: Flags = { parallel: false, story: null, priority: null };
  let text = rest;
  // Decorations and flags before the ID: `✅ **T001`, `~~T017`, `[P] T003`.
  // Loops are bounded: real lines need a handful of steps, hostile ones get no more.
  for (let previous = '', step = 0; previous !== text && step < MAX_STEPS; step++) {
    previous = text;
    text = text.replace(DECORATION, '');
    const marker = EMPHASIS_MARKERS.find((candidate) => text.startsWith(candidate));
    if (marker) {
      open.push(marker);
      text = text.slice(marker.length);
    }
    text = consumeFlag(text, flags);
  }
  const id = TASK_ID.exec(text)?.[0];
  if (id === undefined) {
    const suspect = SUSPECT_ID.exec(text);
    const written = /^\S{1,40}/.exec(text)?.[0] ?? '';
    return suspect ? { problem: `its task ID "${written}" cannot be read` } : null;
  }
  const struck = open.includes('~~');
  text = text.slice(id.length);
  // Closers, flags and `:` between the ID and the description: `**T001**: [P] …`.
  for (let previous = '', step = 0; previous !== text && step < MAX_STEPS; step++) {
    previous = text;
    text = text.replace(/^\s+/, '');
    const closer = open.find((marker) => text.startsWith(marker));
    if (closer) {
      open.splice(open.lastIndexOf(closer), 1);
      text = text.slice(closer.length);
    }
    text = consumeFlag(text.replace(/^[:：]/, ''), flags);
  }
  text = text.replace(/^(?:[.]|[-–—](?=\s))\s*/, '');
  let description = removeUnclosedMarkers(text, open).trim();
  // `[P]` (or a story label) written at the end of the line.
  for (let step = 0; step < MAX_STEPS && description.endsWith(']'); step++) {
    const bracket = description.lastIndexOf('[');
    const tag = description.slice(bracket + 1, -1);
    if (bracket === -1 || !isFlag(tag)) break;
    consumeFlag(`[${tag}]`, flags);
    description = description.slice(0, bracket).trimEnd();
  }
  return { id, struck, ...flags, description };
}

function isFlag(tag: string): boolean {
  return tag === 'P' || STORY.test(tag) || PRIORITY.test(tag);
}

/** Consumes one leading `[P]`, `[US1]` or `[P1]` into `flags`. */
function consumeFlag(text: string, flags: Flags): string {
  const match = /^\[([^\]]+)\]/.exec(text);
  const tag = match?.[1];
  if (tag === undefined || !isFlag(tag)) return text;
  if (tag === 'P') flags.parallel = true;
  else if (PRIORITY.test(tag)) flags.priority ??= tag;
  else flags.story ??= tag;
  return text.slice(tag.length + 2);
}

/**
 * Drops the closing half of emphasis opened before the ID (`**T001 Create x**`).
 * Single `*`/`_` are only removed at the very end: mid-text they are often part
 * of a name such as `user_service`.
 */
function removeUnclosedMarkers(text: string, open: readonly string[]): string {
  let result = text.trimEnd();
  for (const marker of [...open].reverse()) {
    if (result.endsWith(marker)) result = result.slice(0, -marker.length).trimEnd();
    else if (marker.length === 2 && result.includes(marker)) result = result.replace(marker, '');
  }
  return result;
}
