// How fast the app writes to GitHub. GitHub asks integrations that make many
// POST/PATCH/PUT/DELETE requests to wait about a second between them, and to
// go slower still with requests that notify people (comments, pull
// requests), or its secondary rate limits answer 403. Octokit's throttling
// plugin does that per process with fixed gaps (1 s per write, 3 s per
// notifying write); this replaces those two limits:
//
// - a token bucket per installation (GCRA, src/github/write-slots.ts): the
//   same sustained pace, but a few writes may go at once after a quiet spell,
//   so a trigger's 👀, check run and comment appear together;
// - shared by every process through PostgreSQL: GitHub counts an
//   installation's writes wherever they come from, so adding worker
//   processes must not multiply the pace;
// - foreground first: the writes a run waits for (check run created, pull
//   request, the final report) go before queued progress reports, which only
//   use the pace that is left (`inBackground`).
//
// The throttling plugin keeps its other duties (concurrency, search and auth
// limits, rate-limit handling); only its write and notification limits are
// handed pass-through gates.
import { AsyncLocalStorage } from 'node:async_hooks';
import { throttling } from '@octokit/plugin-throttling';
import type { ProbotOctokit } from 'probot';
import { createLocalSlots, type TakeSlot } from './write-slots.ts';

export interface WritePacing {
  /** Sustained pace of writes: one per this many ms for each installation; 0 turns pacing off. */
  intervalMs: number;
  /** Writes that may go at once after a quiet spell (the bucket's size), for both buckets. */
  burst: number;
  /** Sustained pace of writes that notify people (comments, pull requests), on top of `intervalMs`. */
  notifyIntervalMs: number;
}

const background = new AsyncLocalStorage<true>();

/** Runs `fn` with its GitHub writes behind every other write of this process (progress reports). */
export function inBackground<T>(fn: () => Promise<T>): Promise<T> {
  return background.run(true, fn);
}

type WriteKind = 'read' | 'write' | 'notify';

/** What the throttling plugin counts as a write and a notifying write; token requests are neither. */
export function writeKind(method: string, url: string): WriteKind {
  const verb = method.toUpperCase();
  if (verb === 'GET' || verb === 'HEAD') return 'read';
  // Route templates keep `{owner}`; absolute URLs (pagination) come encoded: the patterns match both.
  const pathname = new URL(url, 'http://github.test').pathname.replace(/^\/api\/v3(?=\/)/, '');
  if (/^\/app\/installations\/[^/]+\/access_tokens$/.test(pathname)) return 'read';
  if (/^\/app-manifests\/[^/]+\/conversions$/.test(pathname)) return 'read';
  return throttling.triggersNotification(pathname) ? 'notify' : 'write';
}

interface WriteGate {
  admit(isBackground: boolean): Promise<void>;
}

/**
 * Admits one write at a time for one bucket of this process: when the bucket
 * has a slot, the first queued foreground write (else the first background
 * one) goes; otherwise it waits until the bucket says a slot is free, or
 * until a new write arrives (a foreground write need not wait out a
 * background write's longer wait). A background write also leaves one slot
 * of a burst of 2 or more unused, so the next foreground write finds it.
 */
function createWriteGate(key: string, intervalMs: number, burst: number, take: TakeSlot): WriteGate {
  const queue: { background: boolean; go: () => void }[] = [];
  let pumping = false;
  let wake: (() => void) | null = null;
  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) {
        const head = queue[0];
        const reserve = head?.background && burst > 1 ? 1 : 0;
        const wait = await take(key, intervalMs, burst - reserve).catch(() => 0);
        if (wait <= 0) {
          queue.shift()?.go();
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    } finally {
      pumping = false;
    }
  }
  return {
    admit(isBackground) {
      return new Promise((go) => {
        const entry = { background: isBackground, go };
        const firstBackground = queue.findIndex((queued) => queued.background);
        if (isBackground || firstBackground < 0) queue.push(entry);
        else queue.splice(firstBackground, 0, entry);
        if (!isBackground) wake?.();
        void pump();
      });
    },
  };
}

/** A gate that admits at once: the throttling plugin's own write limits, switched off. */
const PASS_THROUGH = {
  key: () => ({
    schedule: (_options: unknown, task: (...args: unknown[]) => unknown, ...args: unknown[]) =>
      Promise.resolve().then(() => task(...args)),
  }),
};

/**
 * An Octokit class whose writes follow `pacing`, per installation, in the
 * buckets `takeSlot` keeps (PostgreSQL in the app: createDatabaseSlots).
 * A client built with `throttle: { enabled: false }` (tests) is not paced.
 */
export function withWritePacing(
  Octokit: typeof ProbotOctokit,
  pacing: WritePacing,
  takeSlot: TakeSlot = createLocalSlots(),
): typeof ProbotOctokit {
  const gates = new Map<string, WriteGate>();
  const gate = (key: string, intervalMs: number) => {
    let found = gates.get(key);
    if (!found) {
      found = createWriteGate(key, intervalMs, pacing.burst, takeSlot);
      gates.set(key, found);
    }
    return found;
  };
  const WithoutPluginPace = Octokit.defaults((options: { throttle?: Record<string, unknown> }) => ({
    ...options,
    throttle: { ...options.throttle, write: PASS_THROUGH, notifications: PASS_THROUGH },
  })) as typeof ProbotOctokit;
  return WithoutPluginPace.plugin((octokit, options) => {
    const throttle = (options as { throttle?: { enabled?: boolean; id?: string } }).throttle;
    if (pacing.intervalMs <= 0 || throttle?.enabled === false) return {};
    // Probot gives each installation's client the installation id as its throttle id.
    const installation = throttle?.id ?? 'app';
    octokit.hook.wrap('request', async (request, endpoint) => {
      const kind = writeKind(String(endpoint.method), String(endpoint.url));
      if (kind !== 'read') {
        const isBackground = background.getStore() === true;
        await gate(`write:${installation}`, pacing.intervalMs).admit(isBackground);
        if (kind === 'notify' && pacing.notifyIntervalMs > 0) {
          await gate(`notify:${installation}`, pacing.notifyIntervalMs).admit(isBackground);
        }
      }
      return request(endpoint);
    });
    return {};
  }) as typeof ProbotOctokit;
}
