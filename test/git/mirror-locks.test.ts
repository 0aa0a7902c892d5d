// Mirror locks: copies share a mirror, changes have it alone, and a waiting
// change goes before the copies that come after it.
import { describe, expect, it } from 'vitest';
import { createMirrorLocks } from '../../src/git/mirror-locks.ts';

/** A task that records when it starts and ends, and ends when told to. */
function task(name: string, log: string[]) {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    run: async () => {
      log.push(`${name} start`);
      await done;
      log.push(`${name} end`);
    },
    finish,
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('mirror locks', () => {
  it('run copies of one mirror side by side', async () => {
    const { shared } = createMirrorLocks();
    const log: string[] = [];
    const a = task('copy a', log);
    const b = task('copy b', log);
    const running = [shared('m', a.run), shared('m', b.run)];
    await tick();
    expect(log).toEqual(['copy a start', 'copy b start']);
    a.finish();
    b.finish();
    await Promise.all(running);
  });

  it('give a change the mirror alone, and serve a later copy after it', async () => {
    const { exclusive, shared } = createMirrorLocks();
    const log: string[] = [];
    const copy = task('copy 1', log);
    const change = task('fetch', log);
    const late = task('copy 2', log);
    const running = [shared('m', copy.run)];
    await tick();
    running.push(exclusive('m', change.run));
    await tick();
    running.push(shared('m', late.run));
    await tick();
    // The fetch waits for the copy in progress; the later copy waits for the fetch.
    expect(log).toEqual(['copy 1 start']);
    copy.finish();
    await tick();
    expect(log).toEqual(['copy 1 start', 'copy 1 end', 'fetch start']);
    change.finish();
    await tick();
    expect(log.slice(-2)).toEqual(['fetch end', 'copy 2 start']);
    late.finish();
    await Promise.all(running);
  });

  it('keep mirrors apart', async () => {
    const { exclusive } = createMirrorLocks();
    const log: string[] = [];
    const one = task('fetch one', log);
    const two = task('fetch two', log);
    const running = [exclusive('one', one.run), exclusive('two', two.run)];
    await tick();
    expect(log).toEqual(['fetch one start', 'fetch two start']);
    one.finish();
    two.finish();
    await Promise.all(running);
  });
});
