// Runs `prisma generate` offline. Generation never starts Prisma's schema
// engine, but the CLI insists that its binary exists, and on machines without
// internet access it cannot be downloaded; pointing the variable at any
// existing file satisfies that check (see ../shared/PLATFORM.md).
//
// The CLI is resolved from this project's node_modules and run with this very
// Node: `node scripts/prisma-generate.ts` in the image's build stage has no
// node_modules/.bin on PATH (only npm scripts add it), and the CLI's
// `#!/usr/bin/env node` could pick another Node from PATH.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = createRequire(path.join(root, 'package.json')).resolve('prisma/package.json');
const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { prisma: string } };
const cli = path.join(path.dirname(manifest), bin.prisma);
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
execFileSync(process.execPath, [cli, 'generate'], { cwd: root, env, stdio: 'inherit' });
