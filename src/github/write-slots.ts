// Where the write pace of an installation is kept. A bucket is a GCRA
// ("generic cell rate algorithm"): one timestamp per bucket, the theoretical
// arrival time (TAT) of the next write. A write conforms when it is at most
// (burst − 1) intervals early; taking it moves the TAT one interval on. This
// is a token bucket of `burst` tokens refilled one per interval, kept in a
// single value, so it fits one atomic SQL statement.
import type { PrismaClient } from '../db/prisma.ts';

/**
 * Takes one slot of `key`'s bucket if one is free now (returns 0); otherwise
 * takes nothing and returns how many ms until one is.
 */
export type TakeSlot = (key: string, intervalMs: number, burst: number) => Promise<number>;

/** The bucket in this process's memory (one process, or tests). */
export function createLocalSlots(now: () => number = Date.now): TakeSlot {
  const tats = new Map<string, number>();
  return async (key, intervalMs, burst) => {
    const t = now();
    const tat = Math.max(tats.get(key) ?? t, t);
    const early = tat - t - (burst - 1) * intervalMs;
    if (early > 0) return Math.ceil(early);
    tats.set(key, tat + intervalMs);
    return 0;
  };
}

/**
 * The bucket in PostgreSQL, shared by every process of the app: GitHub counts
 * an installation's writes wherever they come from, so N worker processes
 * must together keep the pace of one. One round trip per write. When the
 * database cannot answer, this process's own bucket paces instead (a write
 * is never blocked by a database outage).
 */
export function createDatabaseSlots(
  prisma: Pick<PrismaClient, '$queryRaw'>,
  onError: (error: unknown) => void = () => {},
): TakeSlot {
  const fallback = createLocalSlots();
  return async (key, intervalMs, burst) => {
    const toleranceMs = (burst - 1) * intervalMs;
    try {
      // The INSERT takes the slot when the bucket conforms (or is new); when it
      // does not, nothing changes and the outer SELECT reads how early it is.
      const rows = await prisma.$queryRaw<{ wait_ms: number }[]>`
        WITH taken AS (
          INSERT INTO "github_write_slot" AS s ("key", "tat")
          VALUES (${key}, now() + ${intervalMs}::int * interval '1 millisecond')
          ON CONFLICT ("key") DO UPDATE
            SET "tat" = greatest(s."tat", now()) + ${intervalMs}::int * interval '1 millisecond'
            WHERE greatest(s."tat", now()) - now() <= ${toleranceMs}::int * interval '1 millisecond'
          RETURNING 1
        )
        SELECT CASE WHEN EXISTS (SELECT 1 FROM taken) THEN 0
          -- Not taken is never 0 ms, even when the row moved meanwhile.
          ELSE greatest(1, coalesce((
            SELECT ceil(extract(epoch FROM (s."tat" - now())) * 1000 - ${toleranceMs}::int)::int
            FROM "github_write_slot" s WHERE s."key" = ${key}
          ), 1))
        END AS wait_ms`;
      return Math.max(0, Number(rows[0]?.wait_ms ?? 1));
    } catch (error) {
      onError(error);
      return fallback(key, intervalMs, burst);
    }
  };
}
