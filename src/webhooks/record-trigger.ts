// The webhook side of intake: database work only, no GitHub calls. The
// delivery row and the intake job commit together, so a trigger is either
// fully accepted or not at all, and a redelivery (same delivery id) finds
// its row and does nothing.
import { fromPrisma, type PgBoss } from 'pg-boss';
import { intakeJobId, queueName } from '../chain/chain.ts';
import type { Prisma, PrismaClient } from '../db/prisma.ts';
import type { Trigger } from './trigger.ts';

export async function recordTrigger(
  deps: { prisma: PrismaClient; boss: PgBoss },
  delivery: { id: string; event: string; action: string | null },
  trigger: Trigger,
): Promise<'accepted' | 'duplicate'> {
  return deps.prisma.$transaction(async (tx) => {
    const inserted = await tx.webhookDelivery.createMany({
      data: {
        id: delivery.id,
        event: delivery.event,
        action: delivery.action,
        installationId: BigInt(trigger.installationId),
        repository: trigger.repository.fullName,
        trigger: trigger as unknown as Prisma.InputJsonValue,
      },
      skipDuplicates: true,
    });
    if (inserted.count === 0) return 'duplicate';
    await deps.boss.send(
      queueName('intake'),
      { deliveryId: delivery.id },
      { id: intakeJobId(delivery.id), db: fromPrisma(tx) },
    );
    return 'accepted';
  });
}
