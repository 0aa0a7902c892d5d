// The benchmark repository: a Spec Kit project of about 1 MB (working tree)
// with one feature per run, so that runs never wait on each other's
// one-active-run-per-feature rule and every run starts from the default branch.
import { type BareRepo, createBareRepo } from '../../test/support/git-fixtures.ts';

export const DEFAULT_BRANCH = 'main';

export function featureKey(index: number): string {
  return `f${String(index).padStart(3, '0')}-bench`;
}

export function tasksMarkdown(feature: string): string {
  return [
    `# Tasks: ${feature}`,
    '',
    `**Input**: Design documents from \`/specs/${feature}/\``,
    '',
    '## Phase 1: Setup',
    '',
    `- [ ] T001 Create \`src/${feature}/hello.txt\` with a greeting`,
    '- [ ] T002 [P] Mention the greeting in `README.md`',
    '',
    '## Phase 2: User Story 1 - Farewell (Priority: P1)',
    '',
    `- [ ] T003 [US1] Create \`src/${feature}/bye.txt\` with a farewell`,
    '',
  ].join('\n');
}

/** Deterministic, source-like text (compresses like code, not like random bytes). */
function fillerFile(index: number, bytes: number): string {
  const words = [
    'const',
    'value',
    'return',
    'function',
    'export',
    'import',
    'async',
    'await',
    'phase',
    'task',
  ];
  let seed = index * 7919 + 17;
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const parts: string[] = [];
    for (let i = 0; i < 10; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      parts.push(`${words[seed % words.length]}${seed % 997}`);
    }
    const line = `${parts.join(' ')};`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

export interface BenchRepo extends BareRepo {
  /** file:// URL: git transfers packs as it would over HTTPS (a plain path would hardlink). */
  url: string;
  features: number;
  sizeBytes: number;
}

/** A bare repository with ~`megabytes` MB of files and `features` features. */
export async function createBenchRepo(options: { features: number; megabytes?: number }): Promise<BenchRepo> {
  const files: Record<string, string> = {
    'README.md': '# Benchmark project\n\nA Spec Kit project used by the speckit-bot benchmarks.\n',
  };
  for (let i = 1; i <= options.features; i++) {
    const feature = featureKey(i);
    files[`specs/${feature}/spec.md`] = `# Feature Specification: ${feature}\n`;
    files[`specs/${feature}/plan.md`] = `# Implementation Plan: ${feature}\n`;
    files[`specs/${feature}/tasks.md`] = tasksMarkdown(feature);
  }
  const target = (options.megabytes ?? 1) * 1024 * 1024;
  let size = Object.values(files).reduce((sum, text) => sum + text.length, 0);
  for (let i = 0; size < target; i++) {
    const text = fillerFile(i, 4096);
    files[`lib/module-${String(i).padStart(3, '0')}.js`] = text;
    size += text.length;
  }
  const repo = await createBareRepo({ files, branch: DEFAULT_BRANCH });
  return { ...repo, url: `file://${repo.bareDir}`, features: options.features, sizeBytes: size };
}
