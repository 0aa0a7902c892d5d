// Child processes of the benchmarks: the web-only app (bench/lib/app-process.ts),
// worker processes (the real entry point, `src/main.ts --worker`) and the
// webhook floor server. Each is started, waited for and stopped by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const APP_PROCESS = fileURLToPath(new URL('./app-process.ts', import.meta.url));
const FLOOR_SERVER = fileURLToPath(new URL('./floor-server.ts', import.meta.url));

export type ProcessKind = 'web' | 'worker' | 'floor';

export interface AppProcess {
  kind: ProcessKind;
  child: ChildProcess;
  pid: number;
  /** The HTTP base URL (web and floor). */
  url: string | null;
  /** The last ~200 lines it printed (for error messages). */
  output(): string;
  /** Resident set size in MB, from /proc (the process itself, not its children). */
  rssMB(): number;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 60_000;

/**
 * The Node flags the app runs with (`npm run worker`, and the image's
 * NODE_OPTIONS): read from package.json so that the app's processes here
 * run as they do in production.
 */
export function appNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = (manifest.scripts.worker ?? '').split(/\s+/);
  return words.filter(
    (word) => word.startsWith('--') && !word.startsWith('--env-file') && word !== '--worker',
  );
}

export async function startProcess(
  kind: ProcessKind,
  env: Record<string, string>,
  options: { nodeOptions?: string } = {},
): Promise<AppProcess> {
  const script = kind === 'worker' ? [MAIN, '--worker'] : [kind === 'web' ? APP_PROCESS : FLOOR_SERVER];
  const args = kind === 'floor' ? script : [...appNodeFlags(), ...script];
  const childEnv = options.nodeOptions ? { ...env, NODE_OPTIONS: options.nodeOptions } : env;
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  if (!child.pid) throw new Error(`${kind} process did not start`);
  const pid = child.pid;
  const lines: string[] = [];
  let url: string | null = null;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let partial = '';
  const onData = (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    let index = partial.indexOf('\n');
    while (index >= 0) {
      const line = partial.slice(0, index);
      partial = partial.slice(index + 1);
      lines.push(line);
      if (lines.length > 200) lines.shift();
      if (line.startsWith('{')) {
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
          if (parsed.msg === 'bench web ready' && parsed.url) {
            url = parsed.url;
            markReady();
          } else if (parsed.msg === 'workers started' && kind === 'worker') {
            markReady();
          }
        } catch {}
      }
      index = partial.indexOf('\n');
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STARTUP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    if (outcome === 'timeout') child.kill('SIGKILL');
    throw new Error(`${kind} process ${outcome} before it was ready:\n${lines.join('\n')}`);
  }
  return {
    kind,
    child,
    pid,
    url,
    output: () => lines.join('\n'),
    rssMB: () => readRssMB(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export function readRssMB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
