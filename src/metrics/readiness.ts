// /readyz: the process is ready for traffic when every migration on disk is
// applied and its queues (and workers, when it runs them) are started.
// /healthz stays the cheaper liveness check (process up, database reachable).

import { readMigrations } from '../db/migrate.ts';
import type { PrismaClient } from '../db/prisma.ts';

export interface Readiness {
  /** Called by the composition root once queues (and workers) are started. */
  markStarted(part: 'queues' | 'workers'): void;
  /** Resolves with the problems (empty when ready). */
  check(): Promise<string[]>;
}

export function createReadiness(options: {
  prisma: Pick<PrismaClient, '$queryRaw'>;
  /** What must be started before the process is ready. */
  expects: readonly ('queues' | 'workers')[];
  migrationsDir?: string;
}): Readiness {
  const started = new Set<string>();
  let migrationNames: Promise<string[]> | null = null;
  return {
    markStarted(part) {
      started.add(part);
    },
    async check() {
      const problems: string[] = [];
      for (const part of options.expects) if (!started.has(part)) problems.push(`${part} not started`);
      migrationNames ??= readMigrations(options.migrationsDir).then((all) => all.map((m) => m.name));
      try {
        const rows = await options.prisma.$queryRaw<{ migration_name: string }[]>`
          SELECT migration_name FROM "_prisma_migrations"
           WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
        const applied = new Set(rows.map((row) => row.migration_name));
        const pending = (await migrationNames).filter((name) => !applied.has(name));
        if (pending.length > 0)
          problems.push(`migrations not applied: ${pending.join(', ')} (run npm run db:migrate)`);
      } catch (error) {
        problems.push(`database: ${(error as Error).message.split('\n')[0]}`);
      }
      return problems;
    },
  };
}
