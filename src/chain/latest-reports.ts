// Progress reports of runs: one in flight per run, the latest state wins.
/**
 * One report in flight per run, latest wins. GitHub writes are paced, so a
 * report can take longer than the next step: requests made meanwhile collapse
 * into one follow-up report, which reads the state as it is by then. The
 * intermediate states are skipped, never shown late.
 */
export function createLatestReports() {
  const runs = new Map<string, { follow: (() => Promise<void>) | null; done: Promise<void> }>();
  return {
    busy: (runId: string) => runs.has(runId),
    request(runId: string, report: () => Promise<void>): Promise<void> {
      const current = runs.get(runId);
      if (current) {
        current.follow = report;
        return current.done;
      }
      const entry = { follow: null as (() => Promise<void>) | null, done: Promise.resolve() };
      entry.done = (async () => {
        let failure: unknown = null;
        try {
          let next: (() => Promise<void>) | null = report;
          while (next) {
            entry.follow = null;
            // A failed report does not stop the follow-up: it shows newer state anyway.
            failure = await next().then(
              () => null,
              (error: unknown) => error ?? new Error('report failed'),
            );
            next = entry.follow;
          }
        } finally {
          runs.delete(runId);
        }
        if (failure) throw failure;
      })();
      runs.set(runId, entry);
      return entry.done;
    },
  };
}
