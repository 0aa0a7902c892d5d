// Markdown for the check run, the progress comment and the pull request body.
// Pure: everything shown is derived from the stored run and its attempts.
import type { Conclusion, RunStatus } from '../../chain/chain.ts';

export interface AttemptView {
  taskName: string;
  status: string;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RunView {
  id: string;
  repository: string;
  featureKey: string;
  phaseNumber: string | null;
  phaseTitle: string | null;
  status: string;
  conclusion: string | null;
  currentStep: string;
  branchName: string;
  prUrl: string | null;
  summary: string | null;
  errorStep: string | null;
  errorMessage: string | null;
  triggerActor: string;
}

export function phaseLabel(run: Pick<RunView, 'phaseNumber' | 'phaseTitle'>): string {
  if (run.phaseNumber && run.phaseTitle) return `Phase ${run.phaseNumber}: ${run.phaseTitle}`;
  return run.phaseTitle ?? (run.phaseNumber ? `Phase ${run.phaseNumber}` : 'next phase');
}

const ICONS: Record<string, string> = {
  queued: '⏳',
  running: '🔄',
  succeeded: '✅',
  failed: '❌',
  skipped: '⏭️',
  cancelled: '🚫',
};

function duration(attempt: AttemptView): string {
  if (!attempt.startedAt || !attempt.finishedAt) return '';
  const ms = attempt.finishedAt.getTime() - attempt.startedAt.getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function renderStepTable(attempts: readonly AttemptView[]): string {
  if (attempts.length === 0) return '';
  const rows = attempts.map(
    (a) => `| ${a.taskName} | ${ICONS[a.status] ?? ''} ${a.status} | ${a.attempt} | ${duration(a)} |`,
  );
  return ['| step | state | attempt | duration |', '|---|---|---|---|', ...rows].join('\n');
}

export function checkRunTitle(run: RunView): string {
  const phase = phaseLabel(run);
  if (run.status === 'pending') return `Queued: ${run.featureKey}`;
  if (run.conclusion === null || run.status === 'running') return `${phase} — ${run.currentStep}`;
  return conclusionTitle(run.conclusion as Conclusion, phase);
}

function conclusionTitle(conclusion: Conclusion, phase: string): string {
  switch (conclusion) {
    case 'success':
      return `${phase} implemented`;
    case 'neutral':
      return 'Nothing to do';
    case 'failure':
      return `${phase} failed`;
    case 'cancelled':
      return `${phase} cancelled`;
    case 'timed_out':
      return `${phase} timed out`;
  }
}

/** The check-run summary: outcome first, then the step table. */
export function renderCheckRunSummary(run: RunView, attempts: readonly AttemptView[]): string {
  const lines: string[] = [];
  lines.push(`**Feature** \`${run.featureKey}\` · **${phaseLabel(run)}** · started by @${run.triggerActor}`);
  lines.push('');
  lines.push(...outcomeLines(run));
  const table = renderStepTable(attempts);
  if (table) lines.push('', table);
  lines.push('', `<sub>run \`${run.id}\`</sub>`);
  return lines.join('\n');
}

function outcomeLines(run: RunView): string[] {
  const status = run.status as RunStatus;
  if (
    run.errorMessage &&
    (status === 'failed' || run.conclusion === 'failure' || run.conclusion === 'timed_out')
  ) {
    return [
      `**Failed at step \`${run.errorStep ?? run.currentStep}\`:** ${run.errorMessage}`,
      '',
      `Fix the cause, then comment \`/speckit run ${run.featureKey}\` to try again.`,
    ];
  }
  const lines: string[] = [];
  if (run.prUrl) lines.push(`**Pull request:** ${run.prUrl}`);
  if (run.summary) lines.push(run.summary);
  if (lines.length === 0)
    lines.push(status === 'pending' ? 'Waiting for a worker.' : `Working: ${run.currentStep}.`);
  return lines;
}

/** The one progress comment on the issue or PR where the run was asked for. */
export function renderProgressComment(run: RunView, attempts: readonly AttemptView[]): string {
  const state =
    run.conclusion && !['pending', 'running', 'cancelling'].includes(run.status)
      ? conclusionTitle(run.conclusion as Conclusion, phaseLabel(run))
      : `Working on ${phaseLabel(run)} (${run.currentStep})`;
  return [`### Spec Kit · \`${run.featureKey}\` — ${state}`, '', renderCheckRunSummary(run, attempts)].join(
    '\n',
  );
}

/** tasks.md problems that did not stop the run (duplicate IDs, unreadable task lines). */
export function renderWarnings(
  featureKey: string,
  warnings: readonly { line: number; message: string }[],
): string {
  const shown = warnings
    .slice(0, 20)
    .map((w) => `- \`specs/${featureKey}/tasks.md\` line ${w.line}: ${w.message}`);
  const more = warnings.length > shown.length ? [`- … and ${warnings.length - shown.length} more`] : [];
  return ['### Warnings in tasks.md', ...shown, ...more].join('\n');
}
