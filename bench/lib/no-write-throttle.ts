// What-if preload for worker processes (NODE_OPTIONS=--import=<this file>):
// the Octokit throttling plugin keeps its limiters in module-level Bottleneck
// groups, and its `write` group spaces every POST/PATCH/PUT/DELETE of one
// installation (Probot keys the group by installation id) at least 1000 ms
// apart (minTime). This preload creates those groups with minTime 0 (writes
// of an installation stay one at a time), so a benchmark can show how much of
// a run is spent waiting on that spacing. It is never used by the app itself.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Bottleneck = require('bottleneck/light.js') as {
  Group: new (options?: Record<string, unknown>) => unknown;
};
const Group = Bottleneck.Group;
Bottleneck.Group = function GroupWithoutMinTime(options: Record<string, unknown> = {}) {
  return new Group({ ...options, minTime: 0 });
} as unknown as typeof Group;
