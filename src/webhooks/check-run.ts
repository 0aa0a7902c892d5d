// check_run.rerequested (GitHub's Re-run) and check_run.requested_action (the
// app's buttons) on a Spec Kit check run: recorded as a trigger; intake finds
// the run by the check run's external_id and retries it or starts the next phase.
import type { Context } from 'probot';
import { CHECK_RUN_NAME_PREFIX } from '../github/check-runs.ts';
import { recordTrigger } from './record-trigger.ts';
import { repositoryRefOf } from './repository-ref.ts';
import type { WebhookDeps } from './webhook-deps.ts';

export async function onCheckRun(
  deps: WebhookDeps,
  context: Context<'check_run.rerequested' | 'check_run.requested_action'>,
): Promise<void> {
  const { payload } = context;
  const checkRun = payload.check_run;
  if (!checkRun.name.startsWith(CHECK_RUN_NAME_PREFIX) || payload.sender.type === 'Bot') return;
  if (!payload.installation) return;
  const result = await recordTrigger(
    deps,
    { id: context.id, event: context.name, action: payload.action },
    {
      kind: 'check_run',
      installationId: payload.installation.id,
      repository: repositoryRefOf(payload.repository),
      actor: payload.sender.login,
      actorId: payload.sender.id,
      action: payload.action,
      identifier: 'requested_action' in payload ? (payload.requested_action?.identifier ?? null) : null,
      checkRunId: checkRun.id,
      externalId: checkRun.external_id || null,
      headSha: checkRun.head_sha,
    },
  );
  context.log.info({ deliveryId: context.id, result }, 'check run trigger recorded');
}
