import { describe, expect, it } from 'vitest';
import {
  intakeJobId,
  isTerminal,
  nextStep,
  runIdForTrigger,
  type STEPS,
  statusForConclusion,
  stepJobId,
} from '../../src/chain/chain.ts';

describe('nextStep', () => {
  it('walks intake → discover → codex → apply → publish → finalize', () => {
    const order = [];
    let step: (typeof STEPS)[number] | null = 'intake';
    while (step) {
      order.push(step);
      step = nextStep(step, { kind: 'continue' });
    }
    expect(order).toEqual(['intake', 'discover', 'codex', 'apply', 'publish', 'finalize']);
  });

  it('skips to finalize when a step finishes the run early', () => {
    expect(
      nextStep('discover', { kind: 'finish', conclusion: 'neutral', summary: 'no remaining phases' }),
    ).toBe('finalize');
    expect(nextStep('codex', { kind: 'finish', conclusion: 'neutral', summary: 'no changes' })).toBe(
      'finalize',
    );
  });

  it('ends after finalize whatever the result', () => {
    expect(nextStep('finalize', { kind: 'continue' })).toBeNull();
    expect(nextStep('finalize', { kind: 'finish', conclusion: 'success', summary: '' })).toBeNull();
  });
});

describe('run status', () => {
  it('maps each check-run conclusion to the status the run ends in', () => {
    expect(statusForConclusion('success')).toBe('succeeded');
    expect(statusForConclusion('neutral')).toBe('succeeded');
    expect(statusForConclusion('failure')).toBe('failed');
    expect(statusForConclusion('timed_out')).toBe('failed');
    expect(statusForConclusion('cancelled')).toBe('cancelled');
  });

  it('treats pending, running and cancelling as active', () => {
    expect(['pending', 'running', 'cancelling'].map((s) => isTerminal(s as never))).toEqual([
      false,
      false,
      false,
    ]);
    expect(['succeeded', 'failed', 'cancelled'].map((s) => isTerminal(s as never))).toEqual([
      true,
      true,
      true,
    ]);
  });
});

describe('derived ids', () => {
  const runId = '3f1c2a9e-5b7d-4c1e-9f2a-8b6d4e2c1a00';

  it('gives the same job id for the same run, step and pass', () => {
    expect(stepJobId(runId, 'codex', 1)).toBe(stepJobId(runId, 'codex', 1));
    expect(stepJobId(runId, 'codex', 1)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('gives different ids for another step, pass or run', () => {
    const ids = new Set([
      stepJobId(runId, 'codex', 1),
      stepJobId(runId, 'codex', 2),
      stepJobId(runId, 'apply', 1),
      stepJobId('00000000-0000-4000-8000-000000000000', 'codex', 1),
    ]);
    expect(ids.size).toBe(4);
  });

  it('maps a redelivered webhook to the same intake job and run', () => {
    expect(intakeJobId('delivery-1')).toBe(intakeJobId('delivery-1'));
    expect(intakeJobId('delivery-1')).not.toBe(intakeJobId('delivery-2'));
    expect(runIdForTrigger('delivery-1')).not.toBe(intakeJobId('delivery-1'));
  });
});
