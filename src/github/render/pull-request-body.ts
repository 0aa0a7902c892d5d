// The pull request body: rendered from stored state (pure). The bot owns one
// marked block; whatever people write outside it survives every update.
import { renderWarnings } from './run-report.ts';

export const BOT_BLOCK_START = '<!-- speckit-bot:start -->';
export const BOT_BLOCK_END = '<!-- speckit-bot:end -->';

export interface PhaseProgress {
  label: string;
  state: 'done' | 'this run' | 'remaining';
}

export interface PullRequestBodyInput {
  featureKey: string;
  phaseLabel: string;
  runId: string;
  issueNumber: number | null;
  phases: readonly PhaseProgress[];
  tasks: readonly { id: string; description: string }[];
  unverified: readonly { id: string; description: string }[];
  binaryFiles?: readonly string[];
  codexMessage: string | null;
  checkRunUrl: string | null;
  dashboardUrl: string | null;
  warnings?: readonly { line: number; message: string }[];
  /** Where tasks.md is (the specs directory is configurable); default `specs/<feature>/tasks.md`. */
  tasksPath?: string;
  /** How the branch was brought up to date with its base before this phase, if it had to be. */
  branchUpdate?: { mode: 'merge' | 'rebase'; base: string } | null;
}

/** The bot's block alone. */
export function renderBotBlock(input: PullRequestBodyInput): string {
  const lines = [
    BOT_BLOCK_START,
    `Implements \`${input.tasksPath ?? `specs/${input.featureKey}/tasks.md`}\` with Codex, one phase at a time.`,
    '',
    '### Phases',
    ...input.phases.map(
      (phase) =>
        `- [${phase.state === 'remaining' ? ' ' : 'x'}] ${phase.label}${phase.state === 'this run' ? ' ← this run' : ''}`,
    ),
    '',
    `### Tasks of ${input.phaseLabel}`,
    ...input.tasks.map((task) => `- [x] ${task.id} ${task.description}`),
    ...input.unverified.map((task) => `- [ ] ${task.id} ${task.description} — unverified`),
  ];
  if (input.unverified.length > 0) {
    // The tasks are marked in the list above; this says what the mark means.
    lines.push(
      '',
      '### Unverified',
      'Left pending in tasks.md: the diff does not touch the files these tasks name.',
    );
  }
  if (input.branchUpdate) {
    const { base, mode } = input.branchUpdate;
    lines.push(
      '',
      mode === 'merge'
        ? `Before this phase, \`${base}\` was merged into the branch to bring it up to date.`
        : `Before this phase, the branch was rebased onto \`${base}\` to bring it up to date.`,
    );
  }
  if (input.binaryFiles?.length)
    lines.push('', '### Binary files', ...input.binaryFiles.map((file) => `- \`${file}\``));
  if (input.codexMessage) lines.push('', '### Codex says', '', input.codexMessage.slice(0, 4000));
  if (input.warnings?.length) lines.push('', renderWarnings(input.featureKey, input.warnings));
  const links = [
    input.checkRunUrl ? `[check run](${input.checkRunUrl})` : null,
    input.dashboardUrl ? `[run details](${input.dashboardUrl})` : null,
  ].filter(Boolean);
  lines.push(
    '',
    `<sub>speckit-bot run \`${input.runId}\`${links.length ? ` · ${links.join(' · ')}` : ''}</sub>`,
  );
  if (input.issueNumber !== null) lines.push('', `Refs #${input.issueNumber}`);
  lines.push(BOT_BLOCK_END);
  return lines.join('\n');
}

/** A new PR's body. */
export function renderPullRequestBody(input: PullRequestBodyInput): string {
  return renderBotBlock(input);
}

/** An existing body with the bot's block replaced (or appended when a person removed it). */
export function replaceBotBlock(current: string, block: string): string {
  const start = current.indexOf(BOT_BLOCK_START);
  const end = current.indexOf(BOT_BLOCK_END, start);
  if (start === -1 || end === -1) return current.trim() ? `${current.trimEnd()}\n\n${block}` : block;
  return current.slice(0, start) + block + current.slice(end + BOT_BLOCK_END.length);
}
