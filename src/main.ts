// The process entry point: `npm start` (web + workers) or `npm run worker`
// (workers only, to scale out against the same database).
import { readConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger } from './logger.ts';
import { startSpeckit } from './speckit-app.ts';

const workerOnly = process.argv.includes('--worker');

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}
const log = createLogger(config);
const app = await startSpeckit(config, { web: !workerOnly, workers: true, log });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  await app.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
