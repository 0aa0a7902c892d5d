// issue_comment.created: a `/speckit …` comment on an issue or a PR.
import type { Context } from 'probot';
import { parseCommand } from '../commands/parse-command.ts';
import { recordTrigger } from './record-trigger.ts';
import type { WebhookDeps } from './webhook-deps.ts';

export async function onIssueComment(
  deps: WebhookDeps,
  context: Context<'issue_comment.created'>,
): Promise<void> {
  const { payload } = context;
  // The app's own comments come back as webhooks; bots never start runs.
  if (payload.sender.type === 'Bot') return;
  if (parseCommand(payload.comment.body).kind === 'none') return;
  if (!payload.installation) return;
  const result = await recordTrigger(
    deps,
    { id: context.id, event: context.name, action: payload.action },
    {
      kind: 'comment',
      installationId: payload.installation.id,
      repository: {
        owner: payload.repository.owner.login,
        name: payload.repository.name,
        fullName: payload.repository.full_name,
        cloneUrl: payload.repository.clone_url,
        defaultBranch: payload.repository.default_branch,
        htmlUrl: payload.repository.html_url,
      },
      actor: payload.sender.login,
      issueNumber: payload.issue.number,
      isPullRequest: payload.issue.pull_request !== undefined,
      commentId: payload.comment.id,
      body: payload.comment.body,
    },
  );
  context.log.info({ deliveryId: context.id, result }, 'trigger recorded');
}
