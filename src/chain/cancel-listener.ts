// Cancel reaches the worker holding a run through PostgreSQL NOTIFY: every
// worker process LISTENs on one channel and aborts the steps it is running
// for that run (which kills Codex), wherever the cancel was asked.
//
// The LISTEN connection can drop (a database restart, a failover): it is
// re-established with backoff for as long as the process runs, and after each
// reconnection the runs being watched are looked up once, because a cancel
// committed while nobody listened was announced to no one.
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

export interface CancelListenerOptions {
  /** Backoff bounds of reconnection attempts. */
  minReconnectMs?: number;
  maxReconnectMs?: number;
  /** How often the idle LISTEN connection is checked with a query (a failover may leave it half open). */
  pingIntervalMs?: number;
  /** How long that query may take before the connection counts as lost. */
  pingTimeoutMs?: number;
}

export async function startCancelListener(
  databaseUrl: string,
  log: Logger,
  options: CancelListenerOptions = {},
): Promise<CancelListener> {
  const minDelay = options.minReconnectMs ?? 250;
  const maxDelay = options.maxReconnectMs ?? 10_000;
  const pingInterval = options.pingIntervalMs ?? 30_000;
  const pingTimeout = options.pingTimeoutMs ?? 5_000;
  let ping: NodeJS.Timeout | null = null;
  const stopPing = () => {
    if (ping) clearInterval(ping);
    ping = null;
  };
  const watchers = new Map<string, Set<AbortController>>();
  let client: pg.Client | null = null;
  let closed = false;
  let delay = minDelay;
  let timer: NodeJS.Timeout | null = null;

  const cancel = (runId: string) => {
    for (const controller of watchers.get(runId) ?? []) controller.abort(new Error('cancelled'));
  };

  function scheduleReconnect(reason: string): void {
    if (closed || timer) return;
    log.warn({ reason, retryInMs: delay }, 'cancel listener connection lost; reconnecting');
    timer = setTimeout(() => {
      timer = null;
      void connect(true);
    }, delay);
    delay = Math.min(delay * 2, maxDelay);
  }

  /** Connects and LISTENs; the first connection's failure is the caller's, later ones retry. */
  async function connect(reconnecting: boolean): Promise<void> {
    const next = new pg.Client({
      connectionString: databaseUrl,
      application_name: 'speckit-bot cancel listener',
      // TCP keepalive, and the ping below: a connection whose server vanished
      // without a reset (a failover) would otherwise never report an error.
      keepAlive: true,
    });
    let lost = false;
    const onLost = (reason: string) => {
      if (lost) return;
      lost = true;
      if (client === next) {
        client = null;
        stopPing();
      }
      next.removeAllListeners('notification');
      void next.end().catch(() => {});
      scheduleReconnect(reason);
    };
    next.on('notification', (message) => cancel(message.payload ?? ''));
    next.on('error', (error: Error) => onLost(error.message));
    next.on('end', () => onLost('connection ended'));
    try {
      await next.connect();
      await next.query(`LISTEN ${CANCEL_CHANNEL}`);
      if (closed) {
        next.removeAllListeners('end');
        await next.end().catch(() => {});
        return;
      }
      client = next;
      if (reconnecting) await cancelMissed(next);
      // Backoff starts over only once the connection proved itself.
      delay = minDelay;
      ping = setInterval(() => void checkAlive(next, onLost), pingInterval);
      ping.unref();
    } catch (error) {
      if (!reconnecting) {
        next.removeAllListeners();
        await next.end().catch(() => {});
        throw error;
      }
      onLost((error as Error).message);
    }
  }

  /** A query on the idle connection; no answer within the timeout counts as a lost connection. */
  async function checkAlive(connection: pg.Client, onLost: (reason: string) => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer to a ping within ${pingTimeout} ms`), pingTimeout);
    });
    const answered = connection.query('SELECT 1').then(
      () => null,
      (error: Error) => error.message,
    );
    const problem = await Promise.race([answered, timedOut]);
    clearTimeout(timer);
    if (problem !== null) onLost(problem);
  }

  /** Aborts the watched runs that were cancelled while the listener was away. */
  async function cancelMissed(connection: pg.Client): Promise<void> {
    const ids = [...watchers.keys()];
    if (ids.length > 0) {
      const { rows } = await connection.query<{ id: string }>(
        `SELECT id::text FROM spec_workflow_run WHERE id = ANY($1::uuid[]) AND status IN ('cancelling', 'cancelled')`,
        [ids],
      );
      for (const row of rows) cancel(row.id);
      if (rows.length > 0) log.info({ runs: rows.length }, 'cancels missed while reconnecting applied');
    }
    log.info({ watched: ids.length }, 'cancel listener reconnected');
  }

  await connect(false);

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
      stopPing();
      if (timer) clearTimeout(timer);
      timer = null;
      const current = client;
      client = null;
      if (current) {
        current.removeAllListeners('end');
        current.removeAllListeners('error');
        current.on('error', () => {});
        await current.end().catch(() => {});
      }
    },
  };
}
