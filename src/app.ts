// The Probot application function: registers webhook handlers, nothing else.
import type { ApplicationFunction } from 'probot';
import { onIssueComment } from './webhooks/issue-comment.ts';
import type { WebhookDeps } from './webhooks/webhook-deps.ts';

export function createAppFunction(deps: WebhookDeps): ApplicationFunction {
  return (app) => {
    app.on('issue_comment.created', (context) => onIssueComment(deps, context));
  };
}
