// The options a run was started with, read back from its stored trigger
// (webhook_delivery.trigger): what the steps need beyond the run row.
//
//   codexMode  'local' | 'cloud' | null  — the Codex mode asked for (null: CODEX_MODE decides)
//   draft      boolean                   — publish opens the pull request as a draft
//   all        boolean                   — after a success, the next phase starts by itself
//   headBranch string | null             — the branch the run works on and pushes to (a
//                                          labelled PR's head); the run's branchName is set to it
//   actorId    number | null             — the GitHub account id of who asked (Co-authored-by)

import { parseCommand } from '../commands/parse-command.ts';
import type { PrismaClient } from '../db/prisma.ts';
import type { Run } from './runs.ts';

export interface RunTriggerOptions {
  codexMode: 'local' | 'cloud' | null;
  draft: boolean;
  all: boolean;
  headBranch: string | null;
  actorId: number | null;
}

export const DEFAULT_OPTIONS: RunTriggerOptions = {
  codexMode: null,
  draft: false,
  all: false,
  headBranch: null,
  actorId: null,
};

/** The options in a stored trigger; comments stored before options were recorded are parsed again. */
export function triggerOptions(stored: unknown): RunTriggerOptions {
  if (!stored || typeof stored !== 'object') return { ...DEFAULT_OPTIONS };
  const fields = stored as Record<string, unknown>;
  const options: RunTriggerOptions = {
    codexMode: fields.codexMode === 'local' || fields.codexMode === 'cloud' ? fields.codexMode : null,
    draft: fields.draft === true,
    all: fields.all === true,
    headBranch: typeof fields.headBranch === 'string' && fields.headBranch ? fields.headBranch : null,
    actorId: typeof fields.actorId === 'number' && Number.isInteger(fields.actorId) ? fields.actorId : null,
  };
  if (fields.kind === 'comment' && typeof fields.body === 'string' && !('draft' in fields)) {
    const parsed = parseCommand(fields.body);
    if (parsed.kind === 'command' && parsed.command.name === 'run') {
      const { codexMode, draft, all } = parsed.command;
      return { ...options, codexMode, draft, all };
    }
  }
  return options;
}

/** The options `run` was started with (the defaults for runs created through the API). */
export async function runTriggerOptions(
  prisma: Pick<PrismaClient, 'webhookDelivery'>,
  run: Pick<Run, 'triggerDeliveryId'>,
): Promise<RunTriggerOptions> {
  if (!run.triggerDeliveryId) return { ...DEFAULT_OPTIONS };
  const delivery = await prisma.webhookDelivery.findUnique({
    where: { id: run.triggerDeliveryId },
    select: { trigger: true },
  });
  return triggerOptions(delivery?.trigger);
}
