// Runs `prisma generate` offline. Generation never starts Prisma's schema
// engine, but the CLI insists that its binary exists, and on machines without
// internet access it cannot be downloaded; pointing the variable at any
// existing file satisfies that check (see ../shared/PLATFORM.md).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
execFileSync('prisma', ['generate'], { cwd: root, env, stdio: 'inherit' });
