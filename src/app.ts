// The Probot application function: registers webhook handlers, nothing else.
import type { ApplicationFunction } from 'probot';
import { onCheckRun } from './webhooks/check-run.ts';
import { onInstallationDeleted, onRepositoriesRemoved } from './webhooks/installation.ts';
import { onIssueComment } from './webhooks/issue-comment.ts';
import { onPullRequestLabeled } from './webhooks/pull-request-labeled.ts';
import type { WebhookDeps } from './webhooks/webhook-deps.ts';

export function createAppFunction(deps: WebhookDeps): ApplicationFunction {
  return (app) => {
    app.on('issue_comment.created', (context) => onIssueComment(deps, context));
    app.on('pull_request.labeled', (context) => onPullRequestLabeled(deps, context));
    app.on(['check_run.rerequested', 'check_run.requested_action'], (context) => onCheckRun(deps, context));
    // Always delivered to GitHub Apps (not subscribable in app.yml).
    app.on('installation.deleted', (context) => onInstallationDeleted(deps, context));
    app.on('installation_repositories.removed', (context) => onRepositoriesRemoved(deps, context));
  };
}
