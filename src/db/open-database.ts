// Resolves the database the process uses: DATABASE_URL, or the embedded
// PostgreSQL under var/ when it is unset; applies migrations when asked.
import path from 'node:path';
import type { Config } from '../config.ts';
import { migrate } from './migrate.ts';

export interface OpenDatabase {
  url: string;
  close(): Promise<void>;
}

/** The default of EMBEDDED_POSTGRES_PORT. */
export const EMBEDDED_POSTGRES_PORT = 54329;

export async function openDatabase(
  config: Config,
  options: { migrate: boolean; log: (message: string) => void; varDir?: string },
): Promise<OpenDatabase> {
  let url = config.databaseUrl;
  let close = async () => {};
  if (!url) {
    const dataDir = path.resolve(options.varDir ?? 'var', 'postgres');
    options.log(`DATABASE_URL is unset: starting embedded PostgreSQL in ${dataDir}`);
    // Loaded only when used: the package installs process-wide exit hooks.
    const { startEmbeddedPostgres } = await import('./embedded-postgres.ts');
    const embedded = await startEmbeddedPostgres({ dataDir, port: config.embeddedPostgresPort });
    url = embedded.url;
    close = embedded.stop;
  }
  if (options.migrate) {
    const result = await migrate(url, { log: options.log });
    options.log(
      `migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`,
    );
  }
  return { url, close };
}
