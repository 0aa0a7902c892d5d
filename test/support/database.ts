// A fresh PostgreSQL database per test file, on the server named by
// TEST_DATABASE_URL (default: the local server .ci/run starts), dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { createPrismaClient, type PrismaClient } from '../../src/db/prisma.ts';

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  /** The password in `url`, when the database was made with a role of its own. */
  password?: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database. With `password`, it belongs to a login role of its own
 * whose (random) password is in the URL — a secret the tests can look for.
 * (The test server may trust local connections and never ask for it: the
 * app still holds it in DATABASE_URL, which is what a leak would expose.)
 */
export async function createTestDatabase(
  options: { migrate?: boolean; password?: boolean } = {},
): Promise<TestDatabase> {
  const name = `speckit_test_${randomBytes(6).toString('hex')}`;
  const password = options.password ? `pw-${randomBytes(12).toString('hex')}` : undefined;
  await admin(async (client) => {
    if (password) {
      await client.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
      await client.query(`CREATE DATABASE ${name} OWNER ${name}`);
    } else {
      await client.query(`CREATE DATABASE ${name}`);
    }
  });
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  if (password) {
    url.username = name;
    url.password = password;
  }
  const database: TestDatabase = {
    url: url.toString(),
    ...(password ? { password } : {}),
    drop: () =>
      admin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        if (password) await client.query(`DROP ROLE IF EXISTS ${name}`);
      }),
  };
  if (options.migrate ?? true) await migrate(database.url);
  return database;
}

export async function createTestPrisma(): Promise<{ prisma: PrismaClient; database: TestDatabase }> {
  const database = await createTestDatabase();
  return { prisma: createPrismaClient(database.url, { max: 5 }), database };
}
