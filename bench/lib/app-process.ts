// A web-only app process for the benchmarks: the same composition as
// src/main.ts (readConfig → startSpeckit), but with `workers: false`, so the
// webhook, API and SSE server can be measured apart from the worker processes
// (which run the real entry point, `src/main.ts --worker`).
import { readConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startSpeckit } from '../../src/speckit-app.ts';

const config = readConfig();
const log = createLogger(config);
const app = await startSpeckit(config, { web: true, workers: false, log });
// Printed whatever LOG_LEVEL says: the benchmark waits for this line.
process.stdout.write(`${JSON.stringify({ msg: 'bench web ready', url: app.url })}\n`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
