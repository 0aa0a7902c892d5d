// Shared helpers for the Spec Kit tests: fixture loading and compact, readable
// summaries of parsed phases and tasks for exact assertions.

import { readFileSync } from 'node:fs';
import type { Phase, Task, TasksDocument } from '../../src/spec-kit/types.ts';

export function readFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/tasks-md/${name}`, import.meta.url), 'utf8');
}

/** `15 T001 pending [P] [US1]`: line, ID, state and flags of a task. */
export function taskRow(task: Task): string {
  const flags = [
    task.parallel ? '[P]' : '',
    task.story ? `[${task.story}]` : '',
    task.priority ? `{${task.priority}}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${task.line} ${task.id} ${task.state}${flags ? ` ${flags}` : ''}`;
}

/** `Phase 1: Setup (11-19)` or `US2: CLI Output (27-32)` for unnumbered phases. */
export function phaseRow(phase: Phase): string {
  const name = phase.number === null ? phase.title : `Phase ${phase.number}: ${phase.title}`;
  return `${name} (${phase.startLine}-${phase.endLine})`;
}

export function phaseRows(doc: TasksDocument): string[] {
  return doc.phases.map(phaseRow);
}

export function taskRows(phase: Phase | undefined): string[] {
  return phase?.tasks.map(taskRow) ?? [];
}

export function allTasks(doc: TasksDocument): Task[] {
  return doc.phases.flatMap((phase) => phase.tasks);
}

export function taskById(doc: TasksDocument, id: string): Task {
  const task = allTasks(doc).find((candidate) => candidate.id === id);
  if (!task) throw new Error(`no task ${id}`);
  return task;
}
