// Locks on the repository mirrors of this process (other processes on the
// machine: git's own lock files). What changes a mirror (create, fetch, gc,
// remove) runs alone; copies out of it run side by side, so many runs of one
// repository do not clone one at a time. A change that waits goes before the
// copies that come after it, so a busy repository cannot starve its fetches.
// async-mutex's weighted Semaphore is such a lock: a change takes every
// permit, a copy one, and waiters are served in order.
import { Semaphore } from 'async-mutex';

const PERMITS = 10_000;

export interface MirrorLocks {
  /** Runs `fn` with the mirror to itself. */
  exclusive<T>(mirror: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` beside other readers of the mirror, never beside a change to it. */
  shared<T>(mirror: string, fn: () => Promise<T>): Promise<T>;
}

export function createMirrorLocks(): MirrorLocks {
  const locks = new Map<string, Semaphore>();
  const lockOf = (mirror: string) => {
    let lock = locks.get(mirror);
    if (!lock) {
      lock = new Semaphore(PERMITS);
      locks.set(mirror, lock);
    }
    return lock;
  };
  return {
    exclusive: (mirror, fn) => lockOf(mirror).runExclusive(fn, PERMITS),
    shared: (mirror, fn) => lockOf(mirror).runExclusive(fn, 1),
  };
}
