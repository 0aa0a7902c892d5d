// issue_comment.created: a `/speckit …` comment on an issue or a PR.
import type { Context } from 'probot';
import { parseCommand } from '../commands/parse-command.ts';
import { recordTrigger } from './record-trigger.ts';
import { repositoryRefOf } from './repository-ref.ts';
import type { WebhookDeps } from './webhook-deps.ts';

export async function onIssueComment(
  deps: WebhookDeps,
  context: Context<'issue_comment.created'>,
): Promise<void> {
  const { payload } = context;
  // The app's own comments come back as webhooks; bots never start runs.
  if (payload.sender.type === 'Bot' || payload.comment.user?.type === 'Bot') return;
  const parsed = parseCommand(payload.comment.body);
  if (parsed.kind === 'none' || !payload.installation) return;
  const run = parsed.kind === 'command' && parsed.command.name === 'run' ? parsed.command : null;
  const result = await recordTrigger(
    deps,
    { id: context.id, event: context.name, action: payload.action },
    {
      kind: 'comment',
      installationId: payload.installation.id,
      repository: repositoryRefOf(payload.repository),
      actor: payload.sender.login,
      actorId: payload.sender.id,
      issueNumber: payload.issue.number,
      isPullRequest: payload.issue.pull_request !== undefined,
      commentId: payload.comment.id,
      body: payload.comment.body,
      // The run's options, stored for the steps (publish reads `draft`, codex `codexMode`).
      ...(run ? { codexMode: run.codexMode, draft: run.draft, all: run.all } : {}),
    },
  );
  context.log.info({ deliveryId: context.id, result }, 'trigger recorded');
}
