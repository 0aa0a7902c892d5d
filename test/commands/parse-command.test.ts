import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/parse-command.ts';

describe('parseCommand', () => {
  it('reads `/speckit run <feature>` from the first line', () => {
    expect(parseCommand('/speckit run 001-demo\nplease and thanks')).toEqual({
      kind: 'command',
      command: { name: 'run', featureKey: '001-demo', codexMode: null },
    });
  });

  it('accepts CRLF, surrounding spaces and a BOM', () => {
    expect(parseCommand('\uFEFF  /speckit   run   001-demo  \r\nmore')).toEqual({
      kind: 'command',
      command: { name: 'run', featureKey: '001-demo', codexMode: null },
    });
  });

  it('leaves a run without a feature for intake to resolve', () => {
    expect(parseCommand('/speckit run')).toEqual({
      kind: 'command',
      command: { name: 'run', featureKey: null, codexMode: null },
    });
  });

  it('ignores comments that are not commands, or mention one later', () => {
    expect(parseCommand('Looks good to me')).toEqual({ kind: 'none' });
    expect(parseCommand('I will try\n/speckit run 001-demo')).toEqual({ kind: 'none' });
    expect(parseCommand('/speckitrun 001')).toEqual({ kind: 'none' });
    expect(parseCommand('')).toEqual({ kind: 'none' });
  });

  it('answers help for a bare `/speckit`', () => {
    expect(parseCommand('/speckit')).toEqual({ kind: 'command', command: { name: 'help' } });
    expect(parseCommand('/speckit help')).toEqual({ kind: 'command', command: { name: 'help' } });
  });

  it('refuses unsafe feature names with a hint', () => {
    for (const name of ['../etc', '/abs', 'a..b', '-rf']) {
      const result = parseCommand(`/speckit run ${name}`);
      expect(result.kind).toBe('invalid');
      if (result.kind === 'invalid') expect(result.message).toContain('specs/');
    }
  });

  it('names an unknown verb and lists the usage', () => {
    const result = parseCommand('/speckit deploy prod');
    expect(result).toMatchObject({ kind: 'invalid' });
    if (result.kind === 'invalid') {
      expect(result.message).toContain('Unknown command `deploy`');
      expect(result.message).toContain('/speckit run <feature>');
    }
  });

  it('reads `/speckit plan [feature]`', () => {
    expect(parseCommand('/speckit plan 001-demo')).toEqual({
      kind: 'command',
      command: { name: 'plan', featureKey: '001-demo' },
    });
    expect(parseCommand('/speckit plan')).toEqual({
      kind: 'command',
      command: { name: 'plan', featureKey: null },
    });
    expect(parseCommand('/speckit plan a b').kind).toBe('invalid');
  });

  it('reads the Codex mode flag of a run', () => {
    expect(parseCommand('/speckit run 001-demo --cloud')).toEqual({
      kind: 'command',
      command: { name: 'run', featureKey: '001-demo', codexMode: 'cloud' },
    });
    expect(parseCommand('/speckit run --local 001-demo')).toMatchObject({ command: { codexMode: 'local' } });
    expect(parseCommand('/speckit run 001-demo --cloud --local').kind).toBe('invalid');
    expect(parseCommand('/speckit run 001-demo --fast')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('/speckit plan 001-demo --cloud').kind).toBe('invalid');
  });

  it('refuses more than one feature', () => {
    expect(parseCommand('/speckit run a b').kind).toBe('invalid');
  });
});
