// What started a run, as stored in webhook_delivery.trigger and read back by
// the intake job. Only the fields the chain needs: never the whole payload.
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

export const commentTrigger = z.object({
  kind: z.literal('comment'),
  installationId: z.number().int(),
  repository: repositoryRef,
  actor: z.string(),
  issueNumber: z.number().int(),
  isPullRequest: z.boolean(),
  commentId: z.number().int(),
  body: z.string(),
});
export type CommentTrigger = z.infer<typeof commentTrigger>;

export const trigger = z.discriminatedUnion('kind', [commentTrigger]);
export type Trigger = z.infer<typeof trigger>;
