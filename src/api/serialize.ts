// Database rows → API objects. Dates become ISO strings and BIGINT columns
// JSON integers (see `bigintNumber` in schemas.ts).
import type { SpecWorkflowRun, SpecWorkflowTaskState, WorkflowArtifact } from '../generated/prisma/client.ts';
import type { ApiArtifact, ApiRun, ApiTaskState } from './schemas.ts';

export const API_BASE = '/api/workflows/speckit';

/** A BIGINT as a JSON number; refuses a value that a number cannot hold exactly. */
export function bigintToNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < 0n) {
    throw new RangeError(`BIGINT ${value} does not fit a JSON integer`);
  }
  return Number(value);
}

function iso(date: Date): string;
function iso(date: Date | null): string | null;
function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

export function serializeRun(run: SpecWorkflowRun): ApiRun {
  return {
    id: run.id,
    repository: run.repository,
    installationId: bigintToNumber(run.installationId),
    featureKey: run.featureKey,
    phaseNumber: run.phaseNumber,
    phaseTitle: run.phaseTitle,
    status: run.status as ApiRun['status'],
    conclusion: run.conclusion as ApiRun['conclusion'],
    currentStep: run.currentStep,
    triggerKind: run.triggerKind,
    triggerActor: run.triggerActor,
    issueNumber: run.issueNumber,
    branchName: run.branchName,
    defaultBranch: run.defaultBranch,
    baseSha: run.baseSha,
    headSha: run.headSha,
    prNumber: run.prNumber,
    prUrl: run.prUrl,
    checkRunId: run.checkRunId === null ? null : bigintToNumber(run.checkRunId),
    codexThreadId: run.codexThreadId,
    createdBy: run.createdBy,
    summary: run.summary,
    error:
      run.errorCode !== null || run.errorMessage !== null
        ? { code: run.errorCode ?? 'error', message: run.errorMessage ?? '', step: run.errorStep }
        : null,
    createdAt: iso(run.createdAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    updatedAt: iso(run.updatedAt),
  };
}

export function serializeTask(task: SpecWorkflowTaskState): ApiTaskState {
  return {
    id: bigintToNumber(task.id),
    taskName: task.taskName as ApiTaskState['taskName'],
    status: task.status as ApiTaskState['status'],
    attempt: task.attempt,
    payload: task.payload ?? null,
    startedAt: iso(task.startedAt),
    finishedAt: iso(task.finishedAt),
  };
}

export function serializeArtifact(artifact: WorkflowArtifact): ApiArtifact {
  return {
    id: artifact.id,
    step: artifact.step,
    attempt: artifact.attempt,
    artifactType: artifact.artifactType,
    path: artifact.path,
    sizeBytes: bigintToNumber(artifact.sizeBytes),
    createdAt: iso(artifact.createdAt),
    downloadUrl: `${API_BASE}/runs/${artifact.runId}/artifacts/${artifact.id}`,
  };
}
