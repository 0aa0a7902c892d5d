// A fresh PostgreSQL database per test file, on the server named by
// TEST_DATABASE_URL (default: the local server .ci/run starts), dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { createPrismaClient, type PrismaClient } from '../../src/db/prisma.ts';

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
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

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `speckit_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const database = {
    url: url.toString(),
    drop: () =>
      admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
  if (options.migrate ?? true) await migrate(database.url);
  return database;
}

export async function createTestPrisma(): Promise<{ prisma: PrismaClient; database: TestDatabase }> {
  const database = await createTestDatabase();
  return { prisma: createPrismaClient(database.url, { max: 5 }), database };
}
