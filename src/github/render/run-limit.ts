// The answer when an installation limit of `.github/speckit.yml` keeps a run
// from starting: which limit, how many runs count against it, where it is set
// and what to do. Pure.

/** A limit that one more run would go over (src/chain/run-limits.ts). */
export interface RunLimitExceeded {
  /** Which limit: a repository's `.github/speckit.yml`, or the server's cap on active runs. */
  field: 'limits.max_active_runs' | 'limits.max_runs_per_day' | 'SPECKIT_MAX_ACTIVE_RUNS';
  limit: number;
  /** Runs counted against the limit right now (at least `limit`). */
  current: number;
  /** For the daily cap: when enough counted runs have left the 24-hour window for one more. */
  freesAt: Date | null;
}

/** `what` names what was not started, e.g. "the run for `001-demo`" (kept as given: capitalize it to start a sentence). */
export function renderRunLimit(exceeded: RunLimitExceeded, what: string): string {
  const runs = (n: number) => `${n} Spec Kit run${n === 1 ? '' : 's'}`;
  const wait = 'Wait for one to finish (or stop one with `/speckit cancel <run-id>`) and ask again';
  if (exceeded.field === 'limits.max_active_runs') {
    return (
      `${what} was not started: this installation already has ${runs(exceeded.current)} in progress, ` +
      `and \`limits.max_active_runs\` in \`.github/speckit.yml\` allows ${exceeded.limit} at a time. ` +
      `${wait}, or raise \`limits.max_active_runs\` on the default branch (up to the server's cap).`
    );
  }
  if (exceeded.field === 'SPECKIT_MAX_ACTIVE_RUNS') {
    return (
      `${what} was not started: this installation already has ${runs(exceeded.current)} in progress, ` +
      `and this speckit-bot server allows ${exceeded.limit} per installation at a time (\`SPECKIT_MAX_ACTIVE_RUNS\`, ` +
      `set by whoever runs the app; \`.github/speckit.yml\` can only lower it). ${wait}.`
    );
  }
  const when = exceeded.freesAt
    ? ` A place frees up at ${exceeded.freesAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`
    : '';
  return (
    `${what} was not started: this installation started ${runs(exceeded.current)} in the last 24 hours, ` +
    `and \`limits.max_runs_per_day\` in \`.github/speckit.yml\` allows ${exceeded.limit}.${when} ` +
    'Ask again then, or raise `limits.max_runs_per_day` on the default branch.'
  );
}
