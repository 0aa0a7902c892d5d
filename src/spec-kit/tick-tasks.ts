// Marks a phase's tasks done in tasks.md after Codex worked on them, and decides
// which of them the diff supports. Ticking edits only the one character inside
// each ticked task's `[ ]`, so line endings, spacing and every other line stay
// byte for byte.

import { analyzeTasks } from './parse-tasks.ts';
import type { Task } from './types.ts';

/** Names one phase, as `Phase.number` and `Phase.title` do. */
export interface PhaseRef {
  number: string | null;
  title: string;
}

export interface TickOptions {
  /** Only change definitions inside this phase; resolves IDs defined in several phases. */
  phase?: PhaseRef;
}

/**
 * Ticks `[X]` the definition (inside a phase) of each ID. With an ID defined
 * twice, the first pending definition is ticked, as it is the one worked on.
 * Tasks already done (Codex may tick them itself), skipped or deferred, and IDs
 * not found, are left as they are; so ticking twice changes nothing.
 */
export function tickTasks(text: string, taskIds: readonly string[], options: TickOptions = {}): string {
  return setCheckboxes(text, taskIds, options, (task) => task.state === 'pending', ' ', 'X');
}

/**
 * Puts done tasks back to `[ ]`: for a task Codex ticked although the diff does
 * not support it (unverified), which must stay pending. With an ID defined
 * twice, the first done definition is unticked — pass `phase` to be exact.
 */
export function untickTasks(text: string, taskIds: readonly string[], options: TickOptions = {}): string {
  return setCheckboxes(text, taskIds, options, (task) => task.state === 'done', 'xX', ' ');
}

/** Replaces the checkbox character of the first matching definition of each ID; nothing else changes. */
function setCheckboxes(
  text: string,
  taskIds: readonly string[],
  options: TickOptions,
  matches: (task: Task) => boolean,
  from: string,
  to: string,
): string {
  const wanted = new Set(taskIds);
  const { document, stateOffsets } = analyzeTasks(text);
  const { phase } = options;
  const phases = phase
    ? document.phases.filter(
        (candidate) => candidate.number === phase.number && candidate.title === phase.title,
      )
    : document.phases;
  const offsets: number[] = [];
  const done = new Set<string>();
  for (const task of phases.flatMap((candidate) => candidate.tasks)) {
    if (!matches(task) || !wanted.has(task.id) || done.has(task.id)) continue;
    const offset = stateOffsets.get(task);
    if (offset === undefined || !from.includes(text.charAt(offset))) continue;
    done.add(task.id);
    offsets.push(offset);
  }
  // One pass over the text: copying it once per task is quadratic on big files.
  const parts: string[] = [];
  let start = 0;
  for (const offset of offsets.sort((a, b) => a - b)) {
    parts.push(text.slice(start, offset), to);
    start = offset + 1;
  }
  parts.push(text.slice(start));
  return parts.join('');
}

export interface TaskVerification {
  verified: Task[];
  unverified: Task[];
}

/**
 * A task that names paths is verified when the diff touches one of them: the
 * file itself, a file under a named directory, or — for repositories that keep
 * code in a sub-project (`backend/src/…`) — the same path below a folder.
 * A task that names no paths cannot be checked this way and counts as verified.
 */
export function verifyTasks(tasks: readonly Task[], changedPaths: readonly string[]): TaskVerification {
  const changed = changedPaths.map(normalizePath).filter((path) => path !== '');
  const touchedRuns = segmentRuns(changed);
  const verified: Task[] = [];
  const unverified: Task[] = [];
  for (const task of tasks) {
    const touched =
      task.paths.length === 0 ||
      task.paths.some((path) => isTouched(normalizePath(path), changed, touchedRuns));
    (touched ? verified : unverified).push(task);
  }
  return { verified, unverified };
}

function isTouched(path: string, changed: readonly string[], touchedRuns: ReadonlySet<string>): boolean {
  if (path === '') return false;
  if (path.includes('*')) {
    const pattern = globToRegExp(path);
    return changed.some((file) => pattern.test(file));
  }
  return touchedRuns.has(path);
}

/**
 * Every run of whole path segments of the changed files: `backend/src/a.ts`
 * gives `backend`, `backend/src`, `src/a.ts`, `a.ts`, … A named path is touched
 * exactly when it is one of these — the file, a folder above it, or the same
 * path inside a sub-project folder — and a Set makes each check O(1).
 */
function segmentRuns(files: readonly string[]): Set<string> {
  const runs = new Set<string>();
  for (const file of files) {
    const segments = file.split('/');
    for (let start = 0; start < segments.length; start++) {
      for (let end = start + 1; end <= segments.length; end++) runs.add(segments.slice(start, end).join('/'));
    }
  }
  return runs;
}

function normalizePath(path: string): string {
  return path
    .trim()
    .replaceAll('\\', '/')
    .replace(/^(?:\.\/)+/, '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
}

/** `src/**\/*.ts` → a RegExp; `**` spans folders, `*` stays within one. Matches at a folder boundary. */
function globToRegExp(glob: string): RegExp {
  const source = glob
    .split(/(\*\*\/?|\*)/)
    .map((part) => {
      if (part === '**/') return '(?:.*/)?';
      if (part === '**') return '.*';
      if (part === '*') return '[^/]*';
      return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`(?:^|/)${source}(?:/.*)?$`);
}
