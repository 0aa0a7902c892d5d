import type { PgBoss } from 'pg-boss';
import type { PrismaClient } from '../db/prisma.ts';

/** What webhook handlers may touch: the database and the queue, never GitHub. */
export interface WebhookDeps {
  prisma: PrismaClient;
  boss: PgBoss;
}
