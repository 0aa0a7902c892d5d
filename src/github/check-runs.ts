// Check runs are the control surface: one per run, found by external_id = run
// id, so re-running a step never creates a second one.
import { type Octokit, type Repo, repoParams } from './octokit.ts';

export const CHECK_RUN_NAME_PREFIX = 'Spec Kit';
/** GitHub's limit for output.summary and output.text. */
export const CHECK_RUN_TEXT_LIMIT = 65_535;

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

export function checkRunName(featureKey: string, phaseNumber?: string | null): string {
  return phaseNumber
    ? `${CHECK_RUN_NAME_PREFIX} · ${featureKey} · Phase ${phaseNumber}`
    : `${CHECK_RUN_NAME_PREFIX} · ${featureKey}`;
}

/** The check run this app created for `runId` on `headSha`, if any. */
export async function findCheckRun(
  octokit: Octokit,
  repo: Repo,
  headSha: string,
  runId: string,
): Promise<number | null> {
  const response = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
    ...repoParams(repo),
    ref: headSha,
    filter: 'all',
    per_page: 100,
  });
  const match = response.data.check_runs.find((checkRun) => checkRun.external_id === runId);
  return match ? Number(match.id) : null;
}

export async function createCheckRun(
  octokit: Octokit,
  repo: Repo,
  params: { name: string; headSha: string; runId: string; detailsUrl?: string; output: CheckRunOutput },
): Promise<number> {
  const response = await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
    ...repoParams(repo),
    name: params.name,
    head_sha: params.headSha,
    external_id: params.runId,
    status: 'queued',
    ...(params.detailsUrl ? { details_url: params.detailsUrl } : {}),
    output: limitOutput(params.output),
  });
  return Number(response.data.id);
}

export type CheckRunUpdate =
  | { status: 'in_progress'; name?: string; output: CheckRunOutput }
  | {
      status: 'completed';
      name?: string;
      conclusion: 'success' | 'failure' | 'neutral' | 'cancelled' | 'timed_out';
      output: CheckRunOutput;
    };

export async function updateCheckRun(
  octokit: Octokit,
  repo: Repo,
  checkRunId: number,
  update: CheckRunUpdate,
): Promise<void> {
  await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
    ...repoParams(repo),
    check_run_id: checkRunId,
    ...update,
    ...(update.status === 'completed' ? { completed_at: new Date().toISOString() } : {}),
    output: limitOutput(update.output),
  });
}

function limitOutput(output: CheckRunOutput): CheckRunOutput {
  return {
    title: output.title.slice(0, 255),
    summary: truncate(output.summary),
    ...(output.text !== undefined ? { text: truncate(output.text) } : {}),
  };
}

const TRUNCATION_NOTE =
  '\n\n… (truncated: GitHub allows 65,535 characters here; the full log is in the run artifacts)';

export function truncate(text: string, limit = CHECK_RUN_TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  return text.slice(0, limit - TRUNCATION_NOTE.length) + TRUNCATION_NOTE;
}
