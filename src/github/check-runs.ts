// Check runs are the control surface: one per run, found by external_id = run
// id, so re-running a step never creates a second one.
import { createOnce } from './create-once.ts';
import { NOT_RETRIED_IN_REQUEST, type Octokit, type Repo, repoParams } from './octokit.ts';

export const CHECK_RUN_NAME_PREFIX = 'Spec Kit';
/** GitHub's limit for output.summary and output.text. */
export const CHECK_RUN_TEXT_LIMIT = 65_535;

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

/** A button on a completed check run (GitHub allows 3; label ≤ 20, identifier ≤ 20, description ≤ 40). */
export interface CheckRunAction {
  label: string;
  identifier: string;
  description: string;
}

/** A note on a line of a file in the check run's commit. */
export interface CheckRunAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export const MAX_ACTIONS = 3;
/** GitHub takes at most 50 annotations per request; more are sent in further updates. */
export const ANNOTATIONS_PER_REQUEST = 50;

/** Keeps actions within GitHub's limits (count and field lengths). */
export function limitActions(actions: readonly CheckRunAction[]): CheckRunAction[] {
  return actions.slice(0, MAX_ACTIONS).map((action) => ({
    label: action.label.slice(0, 20),
    identifier: action.identifier.slice(0, 20),
    description: action.description.slice(0, 40),
  }));
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
  return postCheckRun(octokit, repo, params, { status: 'queued' });
}

/**
 * POST a check run for `runId` (its external_id). Not retried inside the
 * request: GitHub would make a second one for a 502 whose write took effect;
 * callers wrap it in createOnce, which looks first.
 */
async function postCheckRun(
  octokit: Octokit,
  repo: Repo,
  params: { name: string; headSha: string; runId: string; detailsUrl?: string; output: CheckRunOutput },
  state:
    | { status: 'queued' }
    | { status: 'completed'; conclusion: CheckRunConclusion; actions?: CheckRunAction[] },
): Promise<number> {
  const response = await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
    ...repoParams(repo),
    name: params.name,
    head_sha: params.headSha,
    external_id: params.runId,
    ...(state.status === 'completed'
      ? {
          status: 'completed' as const,
          conclusion: state.conclusion,
          completed_at: new Date().toISOString(),
          ...(state.actions ? { actions: limitActions(state.actions) } : {}),
        }
      : { status: 'queued' as const }),
    ...(params.detailsUrl ? { details_url: params.detailsUrl } : {}),
    output: limitOutput(params.output),
    request: NOT_RETRIED_IN_REQUEST,
  });
  return Number(response.data.id);
}

export type CheckRunConclusion = 'success' | 'failure' | 'neutral' | 'cancelled' | 'timed_out';

export type CheckRunUpdate =
  | { status: 'in_progress'; name?: string; output: CheckRunOutput }
  | {
      status: 'completed';
      name?: string;
      conclusion: CheckRunConclusion;
      output: CheckRunOutput;
      actions?: CheckRunAction[];
      annotations?: CheckRunAnnotation[];
    };

/**
 * Updates a check run. Annotations beyond GitHub's 50 per request go in
 * further updates (GitHub adds them up); actions are kept within the limits.
 */
export async function updateCheckRun(
  octokit: Octokit,
  repo: Repo,
  checkRunId: number,
  update: CheckRunUpdate,
): Promise<void> {
  const {
    annotations = [],
    actions,
    ...rest
  } = update.status === 'completed' ? update : { ...update, annotations: undefined, actions: undefined };
  const output = limitOutput(update.output);
  const batches: CheckRunAnnotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST)
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
    ...repoParams(repo),
    check_run_id: checkRunId,
    ...rest,
    ...(update.status === 'completed' ? { completed_at: new Date().toISOString() } : {}),
    ...(actions ? { actions: limitActions(actions) } : {}),
    output: { ...output, ...(batches[0] ? { annotations: batches[0] } : {}) },
  });
  for (const batch of batches.slice(1)) {
    await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      ...repoParams(repo),
      check_run_id: checkRunId,
      output: { title: output.title, summary: output.summary, annotations: batch },
    });
  }
}

/** A completed check run on another commit (the pushed head of the PR), found by run id first. */
export async function createCompletedCheckRun(
  octokit: Octokit,
  repo: Repo,
  params: {
    name: string;
    headSha: string;
    runId: string;
    detailsUrl?: string;
    conclusion: CheckRunConclusion;
    output: CheckRunOutput;
    actions?: CheckRunAction[];
  },
): Promise<number> {
  const find = () => findCheckRun(octokit, repo, params.headSha, params.runId);
  const existing = await find();
  if (existing !== null) return existing;
  const { conclusion, actions, ...post } = params;
  return createOnce(
    () =>
      postCheckRun(octokit, repo, post, { status: 'completed', conclusion, ...(actions ? { actions } : {}) }),
    find,
  );
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
