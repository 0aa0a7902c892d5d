// The pull request body: rendered from stored state (pure).
import { renderWarnings } from './run-report.ts';

export function renderPullRequestBody(params: {
  featureKey: string;
  phaseLabel: string;
  runId: string;
  tasks: readonly { id: string; description: string }[];
  unverified: readonly { id: string; description: string }[];
  codexMessage: string | null;
  warnings?: readonly { line: number; message: string }[];
}): string {
  const lines = [
    `Implements **${params.phaseLabel}** of \`specs/${params.featureKey}/tasks.md\` with Codex.`,
    '',
    '### Tasks',
    ...params.tasks.map((task) => `- [x] ${task.id} ${task.description}`),
  ];
  if (params.unverified.length > 0) {
    lines.push('', '### Unverified (left pending: the diff does not touch the files they name)');
    lines.push(...params.unverified.map((task) => `- [ ] ${task.id} ${task.description}`));
  }
  if (params.codexMessage) lines.push('', '### Codex says', '', params.codexMessage.slice(0, 4000));
  if (params.warnings?.length) lines.push('', renderWarnings(params.featureKey, params.warnings));
  lines.push('', `<sub>speckit-bot run \`${params.runId}\`</sub>`);
  return lines.join('\n');
}
