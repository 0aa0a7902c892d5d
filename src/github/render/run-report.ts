// Markdown for the check run and the progress comment. Pure: everything shown
// is derived from the stored run, its attempts and what its steps stored.
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

/** What the report shows beyond the run row: links, the phase's tasks, Codex activity, token usage. */
export interface ReportDetails {
  links?: { checkRun?: string | null; dashboard?: string | null; log?: string | null };
  /** The phase's tasks: pending while the run works, then done or unverified after apply. */
  tasks?: readonly { id: string; description?: string; state: 'pending' | 'done' | 'unverified' }[];
  /** Latest Codex activity (commands run, files touched), newest last. */
  activity?: readonly string[];
  /** Token usage, e.g. "Codex used 440 tokens (…)". */
  usage?: string | null;
  /** Why the run waits in the queue (its installation's Codex steps are at their limit). */
  waiting?: string | null;
}

/** GitHub's limit for a check run's output.summary / output.text, and for a comment body. */
export const TEXT_LIMIT = 65_535;
const MAX_TASKS = 100;
const MAX_ACTIVITY = 10;
const MAX_LINE = 300;

const STEP_NAMES = ['intake', 'discover', 'codex', 'apply', 'publish', 'finalize'] as const;

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

function isActive(status: string): boolean {
  return ['pending', 'running', 'cancelling'].includes(status);
}

export function checkRunTitle(run: RunView, details?: ReportDetails): string {
  const phase = phaseLabel(run);
  if (details?.waiting && run.status === 'running') return `${phase} — waiting for a Codex slot`;
  if (run.status === 'pending') return `Queued: ${run.featureKey}`;
  if (run.status === 'cancelling') return `${phase} — cancelling`;
  if (run.conclusion === null || run.status === 'running') return `${phase} — ${run.currentStep}`;
  return conclusionTitle(run.conclusion as Conclusion, phase);
}

export function conclusionTitle(conclusion: Conclusion, phase: string): string {
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

/** `text` ending as a sentence: with a full stop unless it already ends with one (or ? ! …). */
function sentence(text: string): string {
  const trimmed = text.trimEnd();
  return /[.!?…:]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function clip(line: string): string {
  const single = line.replace(/\s+/g, ' ').trim();
  return single.length > MAX_LINE ? `${single.slice(0, MAX_LINE - 1)}…` : single;
}

function renderTasks(details: ReportDetails | undefined): string[] {
  const tasks = details?.tasks ?? [];
  if (tasks.length === 0) return [];
  const icon = { pending: '[ ]', done: '[x]', unverified: '[ ]' } as const;
  const shown = tasks.slice(0, MAX_TASKS).map((task) => {
    const note = task.state === 'unverified' ? ' ⚠️ *unverified: left pending*' : '';
    return `- ${icon[task.state]} ${task.id}${task.description ? ` ${clip(task.description)}` : ''}${note}`;
  });
  const more = tasks.length > shown.length ? [`- … and ${tasks.length - shown.length} more`] : [];
  return ['', '#### Tasks', ...shown, ...more];
}

function renderActivity(details: ReportDetails | undefined): string[] {
  const lines: string[] = [];
  const activity = (details?.activity ?? []).slice(-MAX_ACTIVITY);
  if (activity.length > 0)
    lines.push('', '#### Codex activity', ...activity.map((item) => `- ${clip(item)}`));
  if (details?.usage) lines.push('', `**Tokens:** ${details.usage}`);
  return lines;
}

/** What to do after a failure: retry from the failed step (the button, or the comment). */
function nextStepAdvice(run: RunView): string {
  return (
    `Fix the cause, then press **Retry** on the check run or comment \`/speckit retry ${run.id}\` ` +
    `to resume from step \`${run.errorStep ?? run.currentStep}\` (earlier steps' results are reused), ` +
    `or comment \`/speckit run ${run.featureKey}\` to start over.`
  );
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
      nextStepAdvice(run),
    ];
  }
  const lines: string[] = [];
  if (run.prUrl) lines.push(`**Pull request:** ${run.prUrl}`);
  if (run.summary) lines.push(run.summary);
  if (lines.length === 0) {
    if (status === 'pending') lines.push('Waiting for a worker.');
    else if (status === 'cancelling') lines.push('Cancelling: stopping the current step.');
    else lines.push(`Working: ${run.currentStep}.`);
  }
  return lines;
}

/** The check-run summary: outcome first, then the step table, the phase's tasks, Codex activity. */
export function renderCheckRunSummary(
  run: RunView,
  attempts: readonly AttemptView[],
  details?: ReportDetails,
): string {
  const lines: string[] = [];
  lines.push(`**Feature** \`${run.featureKey}\` · **${phaseLabel(run)}** · started by @${run.triggerActor}`);
  lines.push('');
  lines.push(...outcomeLines(run));
  if (details?.waiting) lines.push('', `⏳ ${details.waiting}`);
  const table = renderStepTable(attempts);
  if (table) lines.push('', table);
  lines.push(...renderTasks(details));
  lines.push(...renderActivity(details));
  if (details?.links?.dashboard) lines.push('', `[Dashboard](${details.links.dashboard})`);
  lines.push('', `<sub>run \`${run.id}\`</sub>`);
  return truncateMarkdown(lines.join('\n'), TEXT_LIMIT, details?.links?.log ?? details?.links?.dashboard);
}

/** The latest attempt of each step, in chain order: the progress comment's checklist. */
function renderChecklist(run: RunView, attempts: readonly AttemptView[]): string[] {
  const latest = new Map<string, AttemptView>();
  for (const attempt of attempts) latest.set(attempt.taskName, attempt);
  return STEP_NAMES.map((step) => {
    const attempt = latest.get(step);
    const done = attempt?.status === 'succeeded' || attempt?.status === 'skipped';
    let note = '';
    if (attempt) {
      const tries = attempt.attempt > 1 ? `, attempt ${attempt.attempt}` : '';
      const time = duration(attempt);
      note = ` — ${ICONS[attempt.status] ?? ''} ${attempt.status}${tries}${time ? `, ${time}` : ''}`;
    } else if (isActive(run.status) && run.currentStep === step) {
      note = ' — ⏳ queued';
    }
    return `- [${done ? 'x' : ' '}] ${step}${note}`;
  });
}

function statusLine(run: RunView): string {
  const phase = phaseLabel(run);
  switch (run.status) {
    case 'pending':
      return `⏳ **Queued** — ${phase} of \`${run.featureKey}\`, waiting for a worker.`;
    case 'running':
      return `🔄 **Working** — ${phase}, step \`${run.currentStep}\`.`;
    case 'cancelling':
      return `🛑 **Cancelling** — stopping step \`${run.currentStep}\`.`;
    default: {
      const conclusion = (run.conclusion ?? (run.status === 'failed' ? 'failure' : 'success')) as Conclusion;
      const icon = { success: '✅', neutral: '⚪', failure: '❌', cancelled: '🚫', timed_out: '⏱️' }[
        conclusion
      ];
      return `${icon} **${conclusionTitle(conclusion, phase)}**`;
    }
  }
}

/** The final sentence, addressed to the person who started the run. */
function finalResult(run: RunView): string | null {
  if (isActive(run.status)) return null;
  const who = `@${run.triggerActor}`;
  const phase = phaseLabel(run);
  switch ((run.conclusion ?? (run.status === 'failed' ? 'failure' : 'success')) as Conclusion) {
    case 'success':
      return `${who} ${phase} is done${run.prUrl ? `: ${run.prUrl}` : '.'}`;
    case 'neutral':
      return `${who} nothing to do: ${run.summary ?? 'no changes.'}`;
    case 'cancelled':
      return `${who} the run was cancelled; the branch \`${run.branchName}\` was left as it was.`;
    case 'timed_out':
      return `${who} the run timed out at step \`${run.errorStep ?? run.currentStep}\`. ${nextStepAdvice(run)}`;
    case 'failure':
      return `${who} the run failed at step \`${run.errorStep ?? run.currentStep}\`: ${sentence(run.errorMessage ?? 'see the check run')} ${nextStepAdvice(run)}`;
  }
}

/** The last line of a run's progress comment: how a retried intake finds the comment it made. */
export function progressCommentMarker(runId: string): string {
  return `<sub>run \`${runId}\`</sub>`;
}

/**
 * The one progress comment on the issue or PR where the run was asked for,
 * edited in place. It changes only when the run's state does (no live Codex
 * activity or token counts: those are the check run's), so a long Codex step
 * costs it no GitHub writes.
 */
export function renderProgressComment(
  run: RunView,
  attempts: readonly AttemptView[],
  details?: ReportDetails,
): string {
  const lines = [`### Spec Kit · \`${run.featureKey}\` · ${phaseLabel(run)}`, '', statusLine(run), ''];
  if (details?.waiting) lines.push(`⏳ ${details.waiting}`, '');
  lines.push(...renderChecklist(run, attempts));
  const links = [
    details?.links?.checkRun ? `[Check run](${details.links.checkRun})` : null,
    details?.links?.dashboard ? `[Dashboard](${details.links.dashboard})` : null,
    run.prUrl ? `[Pull request](${run.prUrl})` : null,
  ].filter(Boolean);
  if (links.length > 0) lines.push('', links.join(' · '));
  if (!isActive(run.status) && run.summary && run.conclusion !== 'neutral') lines.push('', clip(run.summary));
  const result = finalResult(run);
  if (result) lines.push('', result);
  lines.push('', progressCommentMarker(run.id));
  return truncateMarkdown(lines.join('\n'), TEXT_LIMIT, details?.links?.dashboard);
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

/**
 * Cuts `text` to `limit` characters at a line boundary, closing an open code
 * fence, and ends it with a note saying so (with a link to the full log when
 * there is one). Text within the limit is returned unchanged.
 */
export function truncateMarkdown(text: string, limit = TEXT_LIMIT, fullLogUrl?: string | null): string {
  if (text.length <= limit) return text;
  const note = `\n\n… **Truncated:** GitHub shows at most ${limit.toLocaleString('en-US')} characters here; ${
    fullLogUrl ? `the full log is at ${fullLogUrl}.` : 'the full log is in the run artifacts.'
  }`;
  const fence = '\n```';
  let cut = text.slice(0, Math.max(0, limit - note.length - fence.length));
  const newline = cut.lastIndexOf('\n');
  if (newline > cut.length / 2) cut = cut.slice(0, newline);
  const fences = cut.match(/^```/gm)?.length ?? 0;
  if (fences % 2 === 1) cut += fence;
  return cut + note;
}
