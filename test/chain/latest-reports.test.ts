import { describe, expect, it } from 'vitest';
import { createLatestReports } from '../../src/chain/latest-reports.ts';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('createLatestReports', () => {
  it('collapses the reports asked for while one is in flight into one follow-up, the latest', async () => {
    const reports = createLatestReports();
    const sent: string[] = [];
    const first = gate();
    const done = [
      reports.request('run-1', async () => {
        await first.opened;
        sent.push('state 1');
      }),
      reports.request('run-1', async () => {
        sent.push('state 2');
      }),
      reports.request('run-1', async () => {
        sent.push('state 3');
      }),
      reports.request('run-2', async () => {
        sent.push('other run');
      }),
    ];
    expect(reports.busy('run-1')).toBe(true);
    first.open();
    await Promise.all(done);
    expect(sent).toEqual(['other run', 'state 1', 'state 3']);
    expect(reports.busy('run-1')).toBe(false);
  });

  it('still makes the follow-up when the report in flight fails, and passes on the failure', async () => {
    const reports = createLatestReports();
    const sent: string[] = [];
    const first = gate();
    const failing = reports.request('run-1', async () => {
      await first.opened;
      throw new Error('502 from GitHub');
    });
    const follow = reports.request('run-1', async () => {
      sent.push('state 2');
    });
    first.open();
    await expect(failing).resolves.toBeUndefined();
    await follow;
    expect(sent).toEqual(['state 2']);
    await expect(reports.request('run-1', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  });
});
