// pull_request.labeled with `speckit:run`: run the next phase of the PR's
// feature on the PR's head branch. Fork PRs are recorded too, so that intake
// can answer them (a handler makes no GitHub calls); nothing is cloned for them.
import type { Context } from 'probot';
import { recordTrigger } from './record-trigger.ts';
import { repositoryRefOf } from './repository-ref.ts';
import { RUN_LABEL } from './trigger.ts';
import type { WebhookDeps } from './webhook-deps.ts';

export async function onPullRequestLabeled(
  deps: WebhookDeps,
  context: Context<'pull_request.labeled'>,
): Promise<void> {
  const { payload } = context;
  if (payload.label?.name.toLowerCase() !== RUN_LABEL || payload.sender.type === 'Bot') return;
  if (!payload.installation || payload.pull_request.state !== 'open') return;
  const head = payload.pull_request.head;
  const result = await recordTrigger(
    deps,
    { id: context.id, event: context.name, action: payload.action },
    {
      kind: 'label',
      installationId: payload.installation.id,
      repository: repositoryRefOf(payload.repository),
      actor: payload.sender.login,
      actorId: payload.sender.id,
      issueNumber: payload.pull_request.number,
      label: payload.label.name,
      headSha: head.sha,
      headBranch: head.ref,
      fork: head.repo?.full_name !== payload.repository.full_name,
    },
  );
  context.log.info({ deliveryId: context.id, result }, 'label trigger recorded');
}
