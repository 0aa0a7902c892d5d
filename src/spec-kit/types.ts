// The shape of a parsed Spec Kit tasks.md. Plain data: the parser builds it,
// discovery, ticking and the Codex prompt read it.

/** `[ ]` pending, `[x]`/`[X]` done, `[~]` skipped (or partial), `[-]` deferred. */
export type TaskState = 'pending' | 'done' | 'skipped' | 'deferred';

/** One checkbox line with a task ID, e.g. `- [ ] T012 [P] [US1] Create User model in `src/user.ts``. */
export interface Task {
  /** `T001`, `T020a`, `T3.2` — as written. */
  id: string;
  state: TaskState;
  /** The `[P]` flag: may run in parallel with other `[P]` tasks. */
  parallel: boolean;
  /** The user-story label without brackets (`US1`), or null. */
  story: string | null;
  /** The text after the ID and flags, on the task's own line. */
  description: string;
  /** File or directory paths named in backticks in the description or body, in order, unique. */
  paths: string[];
  /** 1-based line of the checkbox. */
  line: number;
  /** A priority tag such as `P1` (`[P1]`), which is not the parallel flag. Absent when none. */
  priority?: string;
  /** Indented lines under the task (paragraphs, sub-bullets), dedented. Absent when none. */
  body?: string;
}

/** A `## Phase N: Title` section (or another `##` section that defines tasks). */
export interface Phase {
  /** `1`, `3.1`, `3.10` — text, so 3.10 is not 3.1. Null for sections without "Phase N". */
  number: string | null;
  title: string;
  /** 1-based first line (the heading) and last non-blank line of the section. */
  startLine: number;
  endLine: number;
  /** The `**Purpose**:` or `**Goal**:` text. */
  purpose: string | null;
  /** The `**Checkpoint**:` text. */
  checkpoint: string | null;
  /** The `**Independent Test**:` text of a user-story phase. Absent when none. */
  independentTest?: string;
  tasks: Task[];
}

/** Something the parser could not make sense of; reported, never thrown. */
export interface ParseWarning {
  /** 1-based line. */
  line: number;
  message: string;
}

export interface TasksDocument {
  /** The first `#` heading, as written (e.g. `Tasks: Photo Albums`). */
  title: string | null;
  phases: Phase[];
  warnings: ParseWarning[];
}
