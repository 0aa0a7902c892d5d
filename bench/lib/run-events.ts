// A raw LISTEN on the app's `speckit_run_events` channel in the benchmark
// process: it sees every committed run and step change (the triggers NOTIFY at
// commit) with its arrival time, which times dispatch and run ends from the
// outside, without polling.
import pg from 'pg';
import { now } from './stats.ts';

export interface SeenEvent {
  at: number;
  event: {
    type: 'run' | 'task' | 'artifact';
    op: string;
    runId: string;
    featureKey?: string;
    status?: string;
    currentStep?: string;
    taskName?: string;
    attempt?: number;
  };
}

export interface RunEventLog {
  events: SeenEvent[];
  /** Resolves with the first event (already seen or future) matching `match`. */
  waitFor(match: (e: SeenEvent) => boolean, timeoutMs: number): Promise<SeenEvent>;
  close(): Promise<void>;
}

export async function listenRunEvents(databaseUrl: string): Promise<RunEventLog> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench listener' });
  await client.connect();
  const events: SeenEvent[] = [];
  const waiters = new Set<{ match: (e: SeenEvent) => boolean; resolve: (e: SeenEvent) => void }>();
  client.on('notification', (message) => {
    const at = now();
    if (!message.payload) return;
    const seen = { at, event: JSON.parse(message.payload) as SeenEvent['event'] };
    events.push(seen);
    for (const waiter of waiters) {
      if (waiter.match(seen)) {
        waiters.delete(waiter);
        waiter.resolve(seen);
      }
    }
  });
  await client.query('LISTEN speckit_run_events');
  return {
    events,
    waitFor(match, timeoutMs) {
      const found = events.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (e: SeenEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching run event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

export function isSettled(e: SeenEvent): boolean {
  return e.event.type === 'run' && ['succeeded', 'failed', 'cancelled'].includes(e.event.status ?? '');
}
