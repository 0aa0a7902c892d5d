// issue #9: the per-installation cap on Codex steps (SPECKIT_INSTALLATION_CONCURRENCY),
// made strict.
//
// pg-boss's groupConcurrency checks the group's active jobs in the fetch
// statement's own snapshot. Two fetches running at the same moment — several
// workers woken by one NOTIFY, or several processes — each see the group with
// no active job, each lock a different queued job (SKIP LOCKED), and both
// start: the cap was exceeded in tests whenever runs reached Codex together.
// pg-boss's maintainer points at advisory locks for a strict cross-process
// limit (timgit/pg-boss#330). This guard is one, at the moment a job is
// claimed: a BEFORE UPDATE trigger on pg-boss's job table serializes the
// claims of one group with a transaction-scoped advisory lock, counts the
// group's active jobs again (a fresh snapshot, after the claim before it
// committed) and, when the group is full, skips the row — the job stays
// queued, untouched, for a later fetch (no retry used, no worker slot held).
//
// It depends on pg-boss's job table (name, state, group_id, id), which has
// been stable since pg-boss 10; it is (re)installed at every start, after
// pg-boss has created or migrated its schema, so a pg-boss migration that
// recreates the table gets it back. The limit is written into the function:
// all processes sharing a database must use one SPECKIT_INSTALLATION_CONCURRENCY
// (the last process to start sets it).
import type { PrismaClient } from '../db/prisma.ts';
import { queueName } from './chain.ts';

const FUNCTION = 'speckit_codex_slot_guard';

/** The trigger function's body for a cap of `limit` active Codex jobs per group. */
export function codexSlotGuardBody(limit: number): string {
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`codex slot limit must be a positive integer, got ${limit}`);
  return `
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('speckit codex slot ' || NEW.group_id, 0));
  IF (SELECT count(*) FROM pgboss.job
       WHERE name = NEW.name AND group_id = NEW.group_id AND state = 'active' AND id <> NEW.id) >= ${limit} THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END;
`;
}

/**
 * Installs (or updates) the guard on pg-boss's job table for the Codex queue.
 * Idempotent and safe to run from several processes at once: it does nothing
 * when the installed function already has this body.
 */
export async function installCodexSlotGuard(prisma: PrismaClient, limit: number): Promise<void> {
  const body = codexSlotGuardBody(limit);
  await installGuard(prisma, body).catch((error: unknown) => {
    throw new Error(
      `Could not install the Codex slot guard on pgboss.job (${error instanceof Error ? error.message : String(error)}): ` +
        'the database role in DATABASE_URL must own the pgboss schema, as it does when pg-boss created it.',
      { cause: error },
    );
  });
}

async function installGuard(prisma: PrismaClient, body: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    // Concurrent CREATE OR REPLACE of one function fails ("tuple concurrently updated").
    await tx.$executeRawUnsafe(
      `SELECT pg_advisory_xact_lock(hashtextextended('speckit codex slot guard', 0))`,
    );
    const installed = await tx.$queryRawUnsafe<{ body: string }[]>(
      `SELECT p.prosrc AS body FROM pg_proc p
         JOIN pg_trigger t ON t.tgfoid = p.oid AND t.tgname = $1 AND t.tgrelid = 'pgboss.job'::regclass
        WHERE p.proname = $1`,
      FUNCTION,
    );
    if (installed[0]?.body === body) return;
    await tx.$executeRawUnsafe(
      `CREATE OR REPLACE FUNCTION ${FUNCTION}() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $guard$${body}$guard$`,
    );
    await tx.$executeRawUnsafe(
      `CREATE OR REPLACE TRIGGER ${FUNCTION} BEFORE UPDATE OF state ON pgboss.job FOR EACH ROW
         WHEN (NEW.state = 'active' AND OLD.state <> 'active' AND NEW.name = '${queueName('codex')}' AND NEW.group_id IS NOT NULL)
         EXECUTE FUNCTION ${FUNCTION}()`,
    );
  });
}
