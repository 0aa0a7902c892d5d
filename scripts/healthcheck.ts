// The image's HEALTHCHECK. One image runs both roles, and they answer /healthz
// on different ports: web processes on PORT, worker-only processes
// (`--worker`) on METRICS_PORT (the image sets 9464). The container's
// environment alone cannot tell which role runs — the command line does — so
// this finds the speckit processes of the container (its own PID namespace)
// and asks each on the port of its role.
//
//   node scripts/healthcheck.ts    exit 0: every speckit process answered 200
import { readdirSync, readFileSync } from 'node:fs';

/** A wildcard bind address is reached over loopback. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The /healthz URL of every speckit process among `commandLines` (argv
 * arrays), or what is wrong when one of them cannot be probed. Pure.
 */
export function healthcheckTargets(
  commandLines: readonly (readonly string[])[],
  env: Readonly<Record<string, string | undefined>>,
): { urls: string[] } | { problem: string } {
  const apps = commandLines.filter((argv) =>
    argv.some((arg) => arg === 'src/main.ts' || arg.endsWith('/src/main.ts')),
  );
  if (apps.length === 0) return { problem: 'no speckit process (node src/main.ts) runs in this container' };
  const host = !env.HOST || WILDCARD_HOSTS.has(env.HOST) ? '127.0.0.1' : env.HOST;
  const authority = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const urls: string[] = [];
  for (const argv of apps) {
    const worker = argv.includes('--worker');
    const port = worker ? env.METRICS_PORT : env.PORT || '3000';
    if (!port) {
      return {
        problem:
          'a worker-only process (--worker) serves /healthz only when METRICS_PORT is set; set METRICS_PORT (the image sets 9464)',
      };
    }
    urls.push(`http://${authority}:${port}/healthz`);
  }
  return { urls };
}

/** The command lines of this PID namespace's processes (ones that vanish while read are skipped). */
function readCommandLines(): string[][] {
  const lines: string[][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const raw = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (raw) lines.push(raw.replace(/\0$/, '').split('\0'));
    } catch {
      // The process ended between readdir and read.
    }
  }
  return lines;
}

async function probe(url: string): Promise<string | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
    return response.ok ? null : `${url} answered ${response.status}`;
  } catch (error) {
    return `${url} did not answer (${(error as Error).message})`;
  }
}

if (import.meta.main) {
  const targets = healthcheckTargets(readCommandLines(), process.env);
  const problems = 'problem' in targets ? [targets.problem] : await Promise.all(targets.urls.map(probe));
  const failed = problems.filter((problem) => problem !== null);
  if (failed.length > 0) {
    console.error(`unhealthy: ${failed.join('; ')}`);
    process.exit(1);
  }
}
