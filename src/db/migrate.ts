// Applies prisma/migrations/*/migration.sql the way `prisma migrate deploy`
// does, because the Prisma CLI's schema engine cannot be installed here
// (../shared/PLATFORM.md). Each migration is recorded in `_prisma_migrations`
// with Prisma's columns and checksum (sha256 of the file), so `prisma migrate
// status` agrees wherever the engine exists. Prisma's own advisory lock key is
// taken, so replicas starting together (or a concurrent `prisma migrate
// deploy`) migrate once.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { NonRetryableError } from '../errors.ts';

/** The advisory lock key the Prisma schema engine uses for migrations. */
export const PRISMA_MIGRATION_LOCK_KEY = 72707369;

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export async function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Applies pending migrations; safe to call from many processes at once. */
export async function migrate(
  databaseUrl: string,
  options: { dir?: string; log?: (message: string) => void } = {},
): Promise<MigrateResult> {
  const migrations = await readMigrations(options.dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATION_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
      }>(
        'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
      );
      const result: MigrateResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        const record = rows.find((row) => row.migration_name === migration.name);
        if (record && record.finished_at === null) {
          throw new NonRetryableError(
            `Migration ${migration.name} is recorded as started but not finished in _prisma_migrations. ` +
              'Inspect the database, then mark it rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() ' +
              `WHERE migration_name = '${migration.name}') and start again.`,
          );
        }
        if (record) {
          if (record.checksum !== migration.checksum) {
            options.log?.(`migration ${migration.name} was edited after it was applied (checksum differs)`);
          }
          result.alreadyApplied.push(migration.name);
          continue;
        }
        await applyMigration(client, migration);
        options.log?.(`applied migration ${migration.name}`);
        result.applied.push(migration.name);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

// PostgreSQL DDL is transactional: the migration and its record commit
// together, so a failed migration leaves nothing half-applied to clean up.
async function applyMigration(client: pg.Client, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new NonRetryableError(`Migration ${migration.name} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
