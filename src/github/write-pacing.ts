// How fast the app writes to GitHub. GitHub asks integrations that make many
// POST/PATCH/PUT/DELETE requests to wait at least a second between them
// (secondary rate limits); Octokit's throttling plugin does that with a
// Bottleneck group keyed by installation (minTime 1000 ms, one at a time).
//
// A fixed gap makes every burst slow, though: a trigger's 👀 reaction and its
// check run, or a finished run's check-run and comment updates, would each
// wait a second behind the write before. A token bucket keeps the same
// sustained pace (one write per interval) but lets a few writes go at once
// after a quiet spell, which is what users see as "answered at once".
//
// The group replaces the plugin's own `write` group through its `throttle`
// options, so the plugin's retry and rate-limit handling stay as they are.
import Bottleneck from 'bottleneck';
import type { ProbotOctokit } from 'probot';

export interface WritePacing {
  /** Sustained pace: one write per this many ms for each installation; 0 turns pacing off. */
  intervalMs: number;
  /** Writes that may go at once after a quiet spell (the bucket's size). */
  burst: number;
}

/** The Bottleneck group the throttling plugin schedules writes on (keyed by installation id). */
export function createWriteGroup(pacing: WritePacing): Bottleneck.Group {
  if (pacing.intervalMs <= 0) return new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 });
  return new Bottleneck.Group({
    // GitHub also asks for one request at a time per client.
    maxConcurrent: 1,
    minTime: 0,
    reservoir: pacing.burst,
    reservoirIncreaseAmount: 1,
    reservoirIncreaseInterval: pacing.intervalMs,
    reservoirIncreaseMaximum: pacing.burst,
  });
}

/** An Octokit class whose writes follow `pacing` (the throttling plugin must be enabled to pace). */
export function withWritePacing(Octokit: typeof ProbotOctokit, pacing: WritePacing): typeof ProbotOctokit {
  const write = createWriteGroup(pacing);
  return Octokit.defaults((options: { throttle?: Record<string, unknown> }) => ({
    ...options,
    throttle: { ...options.throttle, write },
  })) as typeof ProbotOctokit;
}
