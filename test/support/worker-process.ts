// Worker processes for crash and shutdown tests: the real entry point
// (`node src/main.ts --worker`) in a child process, talking to a fake GitHub
// Enterprise Server on 127.0.0.1 (nock cannot reach into another process).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [MAIN, '--worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  if (!child.pid) throw new Error('worker process did not start');
  return { child, pid: child.pid, output: () => output, exited };
}

/** Live (not zombie) processes whose command line contains every one of `needles`. */
export function findProcesses(...needles: string[]): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && needles.every((needle) => cmdline.includes(needle))) {
        found.push({ pid: Number(entry), cmdline });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
