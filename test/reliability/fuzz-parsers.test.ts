// Hostile input to the two parsers that read what users write: thousands of
// generated cases, no crash, bounded time, and only safe feature names out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEATURE_KEY, parseCommand } from '../../src/commands/parse-command.ts';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';

const commandish = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc
    .tuple(
      fc.constantFrom('/speckit', '/SPECKIT', ' /speckit', '> /speckit', '```\n/speckit', '/speckit\t'),
      fc.array(
        fc.oneof(
          fc.constantFrom(
            'run',
            'plan',
            'help',
            'status',
            'retry',
            'cancel',
            '--all',
            '--cloud',
            '--local',
            '--draft',
          ),
          fc.constantFrom(
            '../../etc',
            '/abs',
            'a\u0000b',
            'x'.repeat(500),
            '001-demo',
            '..',
            '$(rm -rf)',
            '`x`',
          ),
          fc.string({ maxLength: 40 }),
        ),
        { maxLength: 6 },
      ),
      fc.string({ maxLength: 100 }),
    )
    .map(([prefix, words, rest]) => `${prefix} ${words.join(' ')}\n${rest}`),
);

describe('parseCommand under fuzzing', () => {
  it('never throws, and every feature it accepts is a safe name', () => {
    const started = performance.now();
    fc.assert(
      fc.property(commandish, (body) => {
        const result = parseCommand(body);
        if (result.kind === 'command' && 'featureKey' in result.command) {
          const key = result.command.featureKey;
          if (key !== null && key !== undefined) {
            expect(key).toMatch(FEATURE_KEY);
            expect(key).not.toContain('..');
          }
        }
      }),
      { numRuns: 5_000 },
    );
    console.log(`parseCommand: 5000 cases in ${(performance.now() - started).toFixed(0)} ms`);
  });
});

describe('parseTasks under fuzzing', () => {
  const line = fc.oneof(
    fc.constantFrom(
      '## Phase 1: Setup',
      '### Phase 2',
      '# Tasks: x',
      '---',
      '```',
      '<!--',
      '-->',
      '- [ ] T001 do',
      '- [x] T002 [P] [US1] `a/b.ts`',
    ),
    fc.string({ maxLength: 120 }),
  );
  it('never throws on arbitrary markdown-like text', () => {
    const started = performance.now();
    fc.assert(
      fc.property(fc.array(line, { maxLength: 80 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
        const doc = parseTasks(lines.join(eol));
        for (const phase of doc.phases) expect(phase.startLine).toBeLessThanOrEqual(phase.endLine);
      }),
      { numRuns: 3_000 },
    );
    console.log(`parseTasks: 3000 cases in ${(performance.now() - started).toFixed(0)} ms`);
  });
});
