// Checks that turn an unusable tasks.md into a UserError whose message names
// the file and says what to do. Parsing itself never throws.

import { UserError } from '../errors.ts';
import type { TasksDocument } from './types.ts';

/** tasks.md files above 1 MB are refused before parsing. */
export const MAX_TASKS_BYTES = 1_048_576;

export function assertTasksSize(byteLength: number, path: string): void {
  if (byteLength <= MAX_TASKS_BYTES) return;
  throw new UserError(
    `${path} is ${byteLength.toLocaleString('en-US')} bytes; speckit-bot reads tasks files of at most ` +
      `1 MB (${MAX_TASKS_BYTES.toLocaleString('en-US')} bytes). Split the feature into smaller features, ` +
      'or move long notes out of tasks.md.',
  );
}

export function assertHasTasks(doc: TasksDocument, path: string): void {
  if (doc.phases.some((phase) => phase.tasks.length > 0)) return;
  const unreadable = doc.warnings[0];
  const hint = unreadable
    ? ` ${doc.warnings.length} line(s) could not be read; the first, line ${unreadable.line}: ${unreadable.message}`
    : '';
  throw new UserError(
    `${path} has no tasks. speckit-bot works on checkbox lines with a task ID, such as ` +
      '"- [ ] T001 Create project structure", under "## Phase 1: Setup" headings. ' +
      `Run /speckit.tasks to generate the task list, or write the tasks in that format.${hint}`,
  );
}
