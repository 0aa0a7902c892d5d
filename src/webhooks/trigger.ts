// What started a run, as stored in webhook_delivery.trigger and read back by
// the intake job. Only the fields the chain needs: never the whole payload.
//
// Run options the steps read (through `runTriggerOptions` in
// src/chain/trigger-options.ts), present on every kind where they apply:
// - `codexMode`  'local' | 'cloud' — the Codex mode asked for (`--cloud`/`--local`)
// - `draft`      boolean — open the pull request as a draft (`--draft`)
// - `all`        boolean — after a successful phase, start the next one (`--all`, "Run all")
// - `headBranch` string — the branch to work on and push to (a labelled PR's head branch)
import { z } from 'zod';

export const repositoryRef = z.object({
  owner: z.string(),
  name: z.string(),
  fullName: z.string(),
  cloneUrl: z.string(),
  defaultBranch: z.string(),
  htmlUrl: z.string(),
});
export type RepositoryRef = z.infer<typeof repositoryRef>;

const runOptions = {
  codexMode: z.enum(['local', 'cloud']).nullable().optional(),
  draft: z.boolean().optional(),
  all: z.boolean().optional(),
  headBranch: z.string().optional(),
};

const base = {
  installationId: z.number().int(),
  repository: repositoryRef,
  actor: z.string(),
  /** The actor's GitHub account id (sender.id): the commit's Co-authored-by uses `<id>+<login>@users.noreply.github.com`. */
  actorId: z.number().int().optional(),
};

/** A `/speckit …` comment on an issue or a pull request. */
export const commentTrigger = z.object({
  kind: z.literal('comment'),
  ...base,
  issueNumber: z.number().int(),
  isPullRequest: z.boolean(),
  commentId: z.number().int(),
  body: z.string(),
  ...runOptions,
});
export type CommentTrigger = z.infer<typeof commentTrigger>;

/** The `speckit:run` label added to a pull request. */
export const labelTrigger = z.object({
  kind: z.literal('label'),
  ...base,
  issueNumber: z.number().int(),
  label: z.string(),
  headSha: z.string(),
  /** True when the head branch lives in another repository: such PRs are refused. */
  fork: z.boolean(),
  ...runOptions,
});
export type LabelTrigger = z.infer<typeof labelTrigger>;

/** GitHub's Re-run button or one of the app's action buttons on a check run. */
export const checkRunTrigger = z.object({
  kind: z.literal('check_run'),
  ...base,
  action: z.enum(['rerequested', 'requested_action']),
  /** The action button's identifier (requested_action only). */
  identifier: z.string().nullable(),
  checkRunId: z.number().int(),
  /** The check run's external_id: the run it reports. */
  externalId: z.string().nullable(),
  headSha: z.string(),
});
export type CheckRunTrigger = z.infer<typeof checkRunTrigger>;

/** The next phase of a feature, started by the app after a successful run (`--all`, "Next phase", "Run all"). */
export const continuationTrigger = z.object({
  kind: z.literal('continuation'),
  ...base,
  previousRunId: z.string(),
  featureKey: z.string(),
  issueNumber: z.number().int().nullable(),
  ...runOptions,
});
export type ContinuationTrigger = z.infer<typeof continuationTrigger>;

export const trigger = z.discriminatedUnion('kind', [
  commentTrigger,
  labelTrigger,
  checkRunTrigger,
  continuationTrigger,
]);
export type Trigger = z.infer<typeof trigger>;

/** The label that starts a run on a pull request. */
export const RUN_LABEL = 'speckit:run';
