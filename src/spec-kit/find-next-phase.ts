// Which phase a run works on: the first one, in document order, that still has
// a pending task. Document order, not phase number: `3.10` comes after `3.9`
// because the file says so, and unnumbered phases have no number to sort by.

import type { Phase, Task, TasksDocument } from './types.ts';

export function findNextPhase(doc: TasksDocument): Phase | undefined {
  return doc.phases.find((phase) => pendingTasks(phase).length > 0);
}

/** The phase's pending tasks in order; a task ID repeated inside the phase is listed once. */
export function pendingTasks(phase: Phase): Task[] {
  const seen = new Set<string>();
  return phase.tasks.filter((task) => {
    if (task.state !== 'pending' || seen.has(task.id)) return false;
    seen.add(task.id);
    return true;
  });
}
