// Cancel reaches the worker holding a run through PostgreSQL NOTIFY: every
// worker process LISTENs on one channel and aborts the steps it is running
// for that run (which kills Codex), wherever the cancel was asked.
import pg from 'pg';
import type { Logger } from 'pino';
import type { Tx } from '../db/prisma.ts';

export const CANCEL_CHANNEL = 'speckit_cancel';

/** Sends the cancel notice on the caller's transaction: it is delivered at commit. */
export async function notifyCancel(tx: Tx, runId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${CANCEL_CHANNEL}, ${runId})`;
}

export interface CancelListener {
  /** An AbortSignal that fires when `runId` is cancelled; call release() when the step ends. */
  watch(runId: string): { signal: AbortSignal; release(): void };
  close(): Promise<void>;
}

export async function startCancelListener(databaseUrl: string, log: Logger): Promise<CancelListener> {
  const watchers = new Map<string, Set<AbortController>>();
  let client: pg.Client | null = null;
  let closed = false;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: databaseUrl,
      application_name: 'speckit-bot cancel listener',
    });
    next.on('notification', (message) => {
      for (const controller of watchers.get(message.payload ?? '') ?? [])
        controller.abort(new Error('cancelled'));
    });
    next.on('error', (error) => {
      log.warn({ err: error }, 'cancel listener connection lost; reconnecting');
      void next.end().catch(() => {});
      if (!closed) setTimeout(() => void connect().catch(() => {}), 1000);
    });
    await next.connect();
    await next.query(`LISTEN ${CANCEL_CHANNEL}`);
    client = next;
  };
  await connect();

  return {
    watch(runId) {
      const controller = new AbortController();
      const set = watchers.get(runId) ?? new Set();
      set.add(controller);
      watchers.set(runId, set);
      return {
        signal: controller.signal,
        release() {
          set.delete(controller);
          if (set.size === 0) watchers.delete(runId);
        },
      };
    },
    async close() {
      closed = true;
      await client?.end();
    },
  };
}
