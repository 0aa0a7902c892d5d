// Marks a phase's tasks done in tasks.md after Codex worked on them, and decides
// which of them the diff supports. Ticking edits only the one character inside
// each ticked task's `[ ]`, so line endings, spacing and every other line stay
// byte for byte.

import { analyzeTasks } from './parse-tasks.ts';
import type { Task } from './types.ts';

/**
 * Ticks `[X]` the definition (inside a phase) of each ID. With an ID defined
 * twice, the first pending definition is ticked, as it is the one worked on.
 * Tasks already done (Codex may tick them itself), skipped or deferred, and IDs
 * not found, are left as they are; so ticking twice changes nothing.
 */
export function tickTasks(text: string, taskIds: readonly string[]): string {
  const wanted = new Set(taskIds);
  const { document, stateOffsets } = analyzeTasks(text);
  const offsets: number[] = [];
  const ticked = new Set<string>();
  for (const task of document.phases.flatMap((phase) => phase.tasks)) {
    if (task.state !== 'pending' || !wanted.has(task.id) || ticked.has(task.id)) continue;
    const offset = stateOffsets.get(task);
    if (offset === undefined) continue;
    ticked.add(task.id);
    offsets.push(offset);
  }
  // One pass over the text: copying it once per ticked task is quadratic on big files.
  const parts: string[] = [];
  let from = 0;
  for (const offset of offsets.sort((a, b) => a - b)) {
    if (text[offset] !== ' ') continue;
    parts.push(text.slice(from, offset), 'X');
    from = offset + 1;
  }
  parts.push(text.slice(from));
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
  const verified: Task[] = [];
  const unverified: Task[] = [];
  for (const task of tasks) {
    const touched = task.paths.length === 0 || task.paths.some((path) => isTouched(path, changed));
    (touched ? verified : unverified).push(task);
  }
  return { verified, unverified };
}

function isTouched(taskPath: string, changed: readonly string[]): boolean {
  const path = normalizePath(taskPath);
  if (path === '') return false;
  if (path.includes('*')) {
    const pattern = globToRegExp(path);
    return changed.some((file) => pattern.test(file));
  }
  return changed.some(
    (file) =>
      file === path || file.startsWith(`${path}/`) || file.endsWith(`/${path}`) || file.includes(`/${path}/`),
  );
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
