// The API's contract as zod schemas: requests are parsed with them and the
// OpenAPI document (openapi.ts) is generated from them, so the two cannot drift.
import { z } from 'zod';

/** Schemas registered here become `#/components/schemas/<id>` in the OpenAPI document. */
export const apiSchemas = z.registry<{ id: string; description?: string }>();

export const RUN_STATUSES = ['pending', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'] as const;
export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export const STEP_NAMES = ['intake', 'discover', 'codex', 'apply', 'publish', 'finalize'] as const;

const timestamp = z.iso.datetime();
const repositoryName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected owner/name, e.g. octo-org/hello-world')
  .max(200);
const featureKey = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a Spec Kit feature directory name, e.g. 001-user-auth')
  .max(100);
/**
 * GitHub ids and byte sizes are BIGINT columns. They are always serialised as
 * JSON integers (GitHub's own API does the same); every value they hold is far
 * below 2^53, and one that is not is refused rather than rounded.
 */
const bigintNumber = z.number().int().nonnegative();

export const errorSchema = z
  .object({
    code: z.string().describe('machine-readable error code, e.g. validation_failed'),
    message: z.string().describe('what went wrong and how to fix it'),
    details: z.unknown().describe('structured details (e.g. the invalid fields), or null'),
  })
  .register(apiSchemas, { id: 'Error' });

export const runErrorSchema = z
  .object({
    code: z.string(),
    message: z.string(),
    step: z.string().nullable(),
  })
  .register(apiSchemas, { id: 'RunError' });

export const runSchema = z
  .object({
    id: z.uuid(),
    repository: z.string(),
    installationId: bigintNumber,
    featureKey: z.string(),
    phaseNumber: z.string().nullable(),
    phaseTitle: z.string().nullable(),
    status: z.enum(RUN_STATUSES),
    conclusion: z.enum(['success', 'failure', 'neutral', 'cancelled', 'timed_out']).nullable(),
    currentStep: z.string(),
    triggerKind: z.string(),
    triggerActor: z.string(),
    issueNumber: z.number().int().nullable(),
    branchName: z.string(),
    defaultBranch: z.string(),
    baseSha: z.string().nullable(),
    headSha: z.string().nullable(),
    prNumber: z.number().int().nullable(),
    prUrl: z.string().nullable(),
    checkRunId: bigintNumber.nullable(),
    codexThreadId: z.string().nullable(),
    createdBy: z.string(),
    summary: z.string().nullable(),
    error: runErrorSchema.nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    updatedAt: timestamp,
  })
  .register(apiSchemas, { id: 'SpecWorkflowRun', description: 'One run of the chain for one phase.' });

export const taskStateSchema = z
  .object({
    id: bigintNumber.describe('the attempt row id'),
    taskName: z.enum(STEP_NAMES),
    status: z.enum(TASK_STATUSES),
    attempt: z.number().int().positive(),
    payload: z.unknown().describe("the step's output, or {error_code, message}"),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .register(apiSchemas, { id: 'WorkflowTaskState', description: 'One attempt of one step.' });

export const artifactSchema = z
  .object({
    id: z.uuid(),
    step: z.string(),
    attempt: z.number().int().positive(),
    artifactType: z.string(),
    path: z.string().describe('relative to the artifact root'),
    sizeBytes: bigintNumber,
    createdAt: timestamp,
    downloadUrl: z.string().describe('the download path of this artifact'),
  })
  .register(apiSchemas, { id: 'WorkflowArtifact' });

export const runDetailSchema = runSchema
  .extend({
    tasks: z.array(taskStateSchema),
    artifacts: z.array(artifactSchema),
  })
  .register(apiSchemas, { id: 'SpecWorkflowRunDetail' });

export const runListSchema = z
  .object({
    items: z.array(runSchema),
    nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
  })
  .register(apiSchemas, { id: 'SpecWorkflowRunList' });

export const codexActivitySchema = z
  .object({
    attempt: z.number().int().positive(),
    artifactId: z.uuid(),
    kind: z.enum([
      'agent_message',
      'reasoning',
      'command',
      'file_change',
      'todo_list',
      'error',
      'turn',
      'other',
    ]),
    text: z.string(),
    command: z.string().optional(),
    exitCode: z.number().int().nullable().optional(),
    output: z.string().optional(),
    changes: z.array(z.object({ path: z.string(), kind: z.string() })).optional(),
  })
  .register(apiSchemas, { id: 'CodexActivity', description: 'One completed item of a Codex log.' });

export const codexActivityListSchema = z
  .object({ items: z.array(codexActivitySchema), truncated: z.boolean() })
  .register(apiSchemas, { id: 'CodexActivityList' });

export const acceptedSchema = z
  .object({ run: runSchema })
  .register(apiSchemas, { id: 'RunAccepted', description: 'The run after the command was accepted.' });

export const conflictSchema = errorSchema
  .extend({ run: runSchema.nullable() })
  .register(apiSchemas, { id: 'RunConflict', description: 'An error with the run it concerns.' });

export const sessionSchema = z
  .object({ authenticated: z.boolean(), expiresAt: timestamp.nullable() })
  .register(apiSchemas, { id: 'Session' });

// ---- requests ----

export const listRunsQuery = z.strictObject({
  status: z
    .string()
    .transform((value) => value.split(',').map((s) => s.trim()))
    .pipe(z.array(z.enum(RUN_STATUSES)))
    .optional()
    .describe('one status or several separated by commas'),
  featureKey: featureKey.optional(),
  repository: repositoryName.optional(),
  createdBy: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional().describe('the nextCursor of the previous page'),
});

export const eventsQuery = z.strictObject({
  runId: z.uuid().optional().describe('only events of this run'),
});

export const createRunBody = z
  .strictObject({
    repository: repositoryName,
    featureKey: featureKey.optional().describe('the feature to run; default: chosen by the chain'),
    forcePhase: z
      .string()
      .regex(/^[0-9]+(\.[0-9]+)*$/, 'expected a phase number, e.g. 2')
      .max(20)
      .optional()
      .describe('run this phase even when earlier phases are unfinished'),
  })
  .register(apiSchemas, { id: 'CreateRunRequest' });

export const retryRunBody = z
  .strictObject({ notes: z.string().max(2000).optional() })
  .register(apiSchemas, { id: 'RetryRunRequest' });

export const cancelRunBody = z.strictObject({}).register(apiSchemas, { id: 'CancelRunRequest' });

export const sessionBody = z
  .strictObject({ token: z.string().min(1).max(1000) })
  .register(apiSchemas, { id: 'SessionRequest' });

export const runIdParam = z.uuid();

export type ApiRun = z.infer<typeof runSchema>;
export type ApiRunDetail = z.infer<typeof runDetailSchema>;
export type ApiTaskState = z.infer<typeof taskStateSchema>;
export type ApiArtifact = z.infer<typeof artifactSchema>;
export type CodexActivity = z.infer<typeof codexActivitySchema>;
