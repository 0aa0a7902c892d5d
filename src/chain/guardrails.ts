// What a Codex diff may not do before it is committed. Pure: the numbers come
// from git's account of the applied patch.
import type { NumstatEntry } from '../git/git-output.ts';

export interface DiffStats {
  files: string[];
  binaryFiles: string[];
  changedLines: number;
  bytes: number;
}

export interface GuardrailLimits {
  maxFiles: number;
  maxChangedLines: number;
  maxBytes: number;
  allowWorkflowChanges: boolean;
}

export const DEFAULT_GUARDRAILS: GuardrailLimits = {
  maxFiles: 200,
  maxChangedLines: 20_000,
  maxBytes: 10 * 1024 * 1024,
  allowWorkflowChanges: false,
};

/**
 * Files, binary files and added+removed lines of a diff, from git's own list
 * of the files (`git diff --numstat -z`, see stagedChanges), and its size.
 * Git names files exactly there; parsing `diff --git` headers instead misses
 * the quoted ones (`"a/.github/workflows/\303\251.yml"`), which would slip
 * past the workflow check and the limits.
 */
export function diffStats(changes: readonly NumstatEntry[], bytes: number): DiffStats {
  return {
    files: changes.map((change) => change.path),
    binaryFiles: changes.filter((change) => change.added === null).map((change) => change.path),
    changedLines: changes.reduce((sum, change) => sum + (change.added ?? 0) + (change.deleted ?? 0), 0),
    bytes,
  };
}

/** The problems that stop a commit, each saying what to do; empty when the diff may be committed. */
export function checkGuardrails(stats: DiffStats, limits: GuardrailLimits = DEFAULT_GUARDRAILS): string[] {
  const problems: string[] = [];
  const workflows = stats.files.filter((file) => file.startsWith('.github/workflows/'));
  if (workflows.length > 0 && !limits.allowWorkflowChanges) {
    problems.push(
      `The diff changes GitHub Actions workflows (${workflows.join(', ')}), which this repository does not allow; ` +
        'allow it in .github/speckit.yml or make that change by hand.',
    );
  }
  if (stats.files.length > limits.maxFiles) {
    problems.push(
      `The diff changes ${stats.files.length} files, over the limit of ${limits.maxFiles}; split the phase or raise the limit.`,
    );
  }
  if (stats.changedLines > limits.maxChangedLines) {
    problems.push(
      `The diff changes ${stats.changedLines} lines, over the limit of ${limits.maxChangedLines}; split the phase or raise the limit.`,
    );
  }
  if (stats.bytes > limits.maxBytes) {
    problems.push(
      `The diff is ${(stats.bytes / 1024 / 1024).toFixed(1)} MB, over the limit of ${(limits.maxBytes / 1024 / 1024).toFixed(1)} MB; split the phase or raise the limit.`,
    );
  }
  return problems;
}
