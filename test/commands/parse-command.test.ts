import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_LENGTH, parseCommand } from '../../src/commands/parse-command.ts';

describe('parseCommand', () => {
  it('reads `/speckit run <feature>` from the first line', () => {
    expect(parseCommand('/speckit run 001-demo\nplease and thanks')).toEqual({
      kind: 'command',
      command: {
        name: 'run',
        featureKey: '001-demo',
        codexMode: null,
        all: false,
        once: false,
        phase: null,
        draft: false,
      },
    });
  });

  it('accepts CRLF, surrounding spaces and a BOM', () => {
    expect(parseCommand('\uFEFF  /speckit   run   001-demo  \r\nmore')).toEqual({
      kind: 'command',
      command: {
        name: 'run',
        featureKey: '001-demo',
        codexMode: null,
        all: false,
        once: false,
        phase: null,
        draft: false,
      },
    });
  });

  it('leaves a run without a feature for intake to resolve', () => {
    expect(parseCommand('/speckit run')).toEqual({
      kind: 'command',
      command: {
        name: 'run',
        featureKey: null,
        codexMode: null,
        all: false,
        once: false,
        phase: null,
        draft: false,
      },
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
      command: {
        name: 'run',
        featureKey: '001-demo',
        codexMode: 'cloud',
        all: false,
        once: false,
        phase: null,
        draft: false,
      },
    });
    expect(parseCommand('/speckit run --local 001-demo')).toMatchObject({ command: { codexMode: 'local' } });
    expect(parseCommand('/speckit run 001-demo --cloud --local').kind).toBe('invalid');
    expect(parseCommand('/speckit run 001-demo --fast')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('/speckit plan 001-demo --cloud').kind).toBe('invalid');
  });

  it('refuses more than one feature', () => {
    expect(parseCommand('/speckit run a b').kind).toBe('invalid');
  });

  it('reads only the first non-empty line, never a quote or a code block', () => {
    expect(parseCommand('\n\n  /speckit help\n')).toEqual({ kind: 'command', command: { name: 'help' } });
    expect(parseCommand('> /speckit run 001-demo')).toEqual({ kind: 'none' });
    expect(parseCommand('```\n/speckit run 001-demo\n```')).toEqual({ kind: 'none' });
    expect(parseCommand('~~~\n/speckit run 001-demo\n~~~')).toEqual({ kind: 'none' });
    expect(parseCommand('    /speckit run 001-demo')).toEqual({ kind: 'none' });
    expect(parseCommand('\t/speckit run 001-demo')).toEqual({ kind: 'none' });
  });

  it('is case-insensitive in the verb and options, not in the feature', () => {
    expect(parseCommand('/SPECKIT Run 001-Demo --ALL --Draft')).toEqual({
      kind: 'command',
      command: {
        name: 'run',
        featureKey: '001-Demo',
        codexMode: null,
        all: true,
        once: false,
        phase: null,
        draft: true,
      },
    });
  });

  it('reads --all and --draft, once each', () => {
    expect(parseCommand('/speckit run --all 001-demo --draft --local')).toMatchObject({
      command: { all: true, draft: true, codexMode: 'local' },
    });
    expect(parseCommand('/speckit run 001-demo --all --all').kind).toBe('invalid');
  });

  it('reads --once, which runs one phase whatever auto_continue says, never with --all', () => {
    expect(parseCommand('/speckit run 001-demo --ONCE')).toMatchObject({
      command: { name: 'run', all: false, once: true, phase: null },
    });
    const both = parseCommand('/speckit run 001-demo --all --once');
    expect(both.kind).toBe('invalid');
    if (both.kind === 'invalid') expect(both.message).toContain('one of `--all` or `--once`');
  });

  it('reads --phase N (or --phase=N) as a forced phase, which runs alone', () => {
    expect(parseCommand('/speckit run 001-demo --phase 2')).toMatchObject({
      command: { name: 'run', featureKey: '001-demo', phase: '2', all: false },
    });
    expect(parseCommand('/speckit run --phase=3.1 001-demo --draft')).toMatchObject({
      command: { featureKey: '001-demo', phase: '3.1', draft: true },
    });
    expect(parseCommand('/speckit run --phase 2')).toMatchObject({
      command: { featureKey: null, phase: '2' },
    });
    for (const body of [
      '/speckit run 001-demo --phase',
      '/speckit run 001-demo --phase two',
      '/speckit run 001-demo --phase --draft',
      '/speckit run 001-demo --phase 1 --phase 2',
    ]) {
      const result = parseCommand(body);
      expect(result.kind, body).toBe('invalid');
    }
    const withAll = parseCommand('/speckit run 001-demo --phase 2 --all');
    expect(withAll.kind).toBe('invalid');
    if (withAll.kind === 'invalid') expect(withAll.message).toContain('cannot be combined with `--all`');
    expect(parseCommand('/speckit plan 001-demo --phase 2').kind).toBe('invalid');
  });

  it('reads status with an optional feature', () => {
    expect(parseCommand('/speckit status')).toEqual({
      kind: 'command',
      command: { name: 'status', featureKey: null },
    });
    expect(parseCommand('/speckit status 001-demo')).toEqual({
      kind: 'command',
      command: { name: 'status', featureKey: '001-demo' },
    });
    expect(parseCommand('/speckit status 001-demo --all').kind).toBe('invalid');
  });

  it('reads retry and cancel with a run id, a feature or nothing', () => {
    const id = '0F8FAD5B-D9CB-469F-A165-70867728950E';
    expect(parseCommand(`/speckit retry ${id}`)).toEqual({
      kind: 'command',
      command: { name: 'retry', target: { kind: 'run', runId: id.toLowerCase() } },
    });
    expect(parseCommand('/speckit cancel 001-demo')).toEqual({
      kind: 'command',
      command: { name: 'cancel', target: { kind: 'feature', featureKey: '001-demo' } },
    });
    expect(parseCommand('/speckit cancel')).toEqual({
      kind: 'command',
      command: { name: 'cancel', target: null },
    });
    expect(parseCommand('/speckit retry a b').kind).toBe('invalid');
    expect(parseCommand('/speckit retry ../x').kind).toBe('invalid');
  });

  it('refuses arguments to help', () => {
    expect(parseCommand('/speckit help me').kind).toBe('invalid');
  });
});

describe('parseCommand limits', () => {
  it('refuses a command line over MAX_COMMAND_LENGTH, naming both lengths', () => {
    const line = `/speckit run 001-demo ${'x'.repeat(MAX_COMMAND_LENGTH)}`;
    const result = parseCommand(line);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.message).toContain(
      `is ${line.length} characters long; a \`/speckit\` command is at most ${MAX_COMMAND_LENGTH}`,
    );
  });

  it('accepts a command line of exactly MAX_COMMAND_LENGTH', () => {
    const line = `/speckit plan ${'a'.repeat(MAX_COMMAND_LENGTH - '/speckit plan '.length)}`;
    expect(line).toHaveLength(MAX_COMMAND_LENGTH);
    // The feature name is too long to be one, but the line itself is read.
    expect(parseCommand(line).kind).toBe('invalid');
    expect(JSON.stringify(parseCommand(line))).not.toContain('characters long');
  });

  it('ignores a long comment whose first line is not a command', () => {
    expect(parseCommand(`thanks!\n/speckit run 001-demo\n${'y'.repeat(70_000)}`)).toEqual({ kind: 'none' });
  });
});
