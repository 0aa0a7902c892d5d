// `/speckit status`: the latest runs, where they are, and links. Pure.
import { phaseLabel } from './run-report.ts';

export interface StatusRunView {
  id: string;
  featureKey: string;
  phaseNumber: string | null;
  phaseTitle: string | null;
  status: string;
  conclusion: string | null;
  currentStep: string;
  prUrl: string | null;
  checkRunId: bigint | null;
  triggerActor: string;
  createdAt: Date;
}

const STATE_ICONS: Record<string, string> = {
  pending: '⏳',
  running: '🔄',
  cancelling: '🛑',
  succeeded: '✅',
  failed: '❌',
  cancelled: '🚫',
};

function state(run: StatusRunView): string {
  const icon = STATE_ICONS[run.status] ?? '';
  if (['pending', 'running', 'cancelling'].includes(run.status))
    return `${icon} ${run.status} (${run.currentStep})`;
  return `${icon} ${run.conclusion ?? run.status}`;
}

export function renderStatus(params: {
  scope: string;
  runs: readonly StatusRunView[];
  repositoryUrl: string;
  publicUrl?: string | undefined;
}): string {
  const lines = [`### Spec Kit status · ${params.scope}`, ''];
  if (params.runs.length === 0) {
    lines.push('No runs yet. Comment `/speckit run <feature>` to start one.');
    return lines.join('\n');
  }
  lines.push('| run | feature | phase | state | started by | links |', '|---|---|---|---|---|---|');
  for (const run of params.runs) {
    const links = [
      run.checkRunId !== null ? `[check run](${params.repositoryUrl}/runs/${run.checkRunId})` : null,
      params.publicUrl ? `[dashboard](${params.publicUrl}/runs/${run.id})` : null,
      run.prUrl ? `[pull request](${run.prUrl})` : null,
    ].filter(Boolean);
    lines.push(
      `| \`${run.id.slice(0, 8)}\` | \`${run.featureKey}\` | ${phaseLabel(run)} | ${state(run)} | ${run.triggerActor} | ${links.join(' · ') || '—'} |`,
    );
  }
  return lines.join('\n');
}
