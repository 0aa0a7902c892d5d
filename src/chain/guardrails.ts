// What a Codex diff may not do before it is committed. Pure: the numbers come
// from the patch text itself.

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

const HEADER = /^diff --git a\/(.+?) b\/(.+)$/;

/** Files, binary files, added+removed lines and size of a `git diff --binary` patch. */
export function diffStats(patch: string): DiffStats {
  const files: string[] = [];
  const binaryFiles = new Set<string>();
  let changedLines = 0;
  let current: string | null = null;
  let inBinary = false;
  for (const line of patch.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      current = header[2] ?? null;
      if (current) files.push(current);
      inBinary = false;
      continue;
    }
    if (line === 'GIT binary patch' || line.startsWith('Binary files ')) {
      if (current) binaryFiles.add(current);
      inBinary = true;
      continue;
    }
    if (inBinary || line.startsWith('+++ ') || line.startsWith('--- ')) continue;
    if (line.startsWith('+') || line.startsWith('-')) changedLines += 1;
  }
  return { files, binaryFiles: [...binaryFiles], changedLines, bytes: Buffer.byteLength(patch) };
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
