// Run and step changes, as PostgreSQL announces them (the triggers of the
// run_events migration NOTIFY `speckit_run_events` at commit). One dedicated
// connection per process LISTENs and fans the events out to every subscriber
// (the SSE clients); when the connection drops it reconnects with backoff and
// tells subscribers to resynchronise, since notifications sent meanwhile are lost.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../logger.ts';

export const RUN_EVENTS_CHANNEL = 'speckit_run_events';

export const runEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run'),
    op: z.enum(['insert', 'update', 'delete']),
    runId: z.string(),
    repository: z.string(),
    featureKey: z.string(),
    status: z.string(),
    currentStep: z.string(),
    conclusion: z.string().nullable(),
    updatedAt: z.string(),
  }),
  z.object({
    type: z.literal('task'),
    op: z.enum(['insert', 'update']),
    runId: z.string(),
    taskName: z.string(),
    attempt: z.number(),
    status: z.string(),
  }),
  z.object({
    type: z.literal('artifact'),
    op: z.enum(['insert', 'update']),
    runId: z.string(),
    artifactId: z.string(),
    artifactType: z.string(),
  }),
]);

export type RunEvent = z.infer<typeof runEventSchema>;

/** What subscribers receive: a change, or "you may have missed changes: reload". */
export type HubMessage = { kind: 'event'; event: RunEvent } | { kind: 'resync'; reason: string };

export interface RunEventHub {
  subscribe(listener: (message: HubMessage) => void): () => void;
  /** Resolves once the first LISTEN is in place (never rejects: it keeps reconnecting). */
  ready(): Promise<void>;
  readonly subscriberCount: number;
  close(): Promise<void>;
}

export interface RunEventHubOptions {
  connectionString: string;
  log: Logger;
  /** Backoff bounds of reconnection attempts. */
  minReconnectMs?: number;
  maxReconnectMs?: number;
}

export function createRunEventHub(options: RunEventHubOptions): RunEventHub {
  const { log } = options;
  const minDelay = options.minReconnectMs ?? 250;
  const maxDelay = options.maxReconnectMs ?? 10_000;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let client: pg.Client | null = null;
  let closed = false;
  let delay = minDelay;
  let timer: NodeJS.Timeout | null = null;
  let attempts = 0;
  let resolveReady: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  const broadcast = (message: HubMessage) => emitter.emit('message', message);

  function scheduleReconnect(reason: string): void {
    if (closed || timer) return;
    log.warn({ reason, retryInMs: delay }, 'run events: listener connection lost, reconnecting');
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, maxDelay);
  }

  async function connect(): Promise<void> {
    const next = new pg.Client({
      connectionString: options.connectionString,
      application_name: 'speckit-bot events',
    });
    let lost = false;
    const onLost = (reason: string) => {
      if (lost) return;
      lost = true;
      if (client === next) client = null;
      next.removeAllListeners('notification');
      void next.end().catch(() => {});
      scheduleReconnect(reason);
    };
    next.on('error', (error: Error) => onLost(error.message));
    next.on('end', () => onLost('connection ended'));
    next.on('notification', (message) => {
      if (message.channel !== RUN_EVENTS_CHANNEL || !message.payload) return;
      let json: unknown;
      try {
        json = JSON.parse(message.payload);
      } catch {
        return;
      }
      const parsed = runEventSchema.safeParse(json);
      if (parsed.success) broadcast({ kind: 'event', event: parsed.data });
      else log.warn({ payload: message.payload }, 'run events: unknown notification');
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${RUN_EVENTS_CHANNEL}`);
    } catch (error) {
      attempts += 1;
      onLost((error as Error).message);
      return;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    delay = minDelay;
    // Any connection but the very first may have missed notifications.
    if (attempts > 0) broadcast({ kind: 'resync', reason: 'the event listener reconnected' });
    attempts += 1;
    resolveReady();
    log.debug('run events: listening');
  }

  void connect();

  return {
    subscribe(listener) {
      emitter.on('message', listener);
      return () => emitter.off('message', listener);
    },
    ready: () => readyPromise,
    get subscriberCount() {
      return emitter.listenerCount('message');
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const current = client;
      client = null;
      emitter.removeAllListeners();
      if (current) {
        current.removeAllListeners('end');
        await current.end().catch(() => {});
      }
    },
  };
}
