// Hostile input to the parsers that read what users write: thousands of
// generated cases, no crash, bounded time, and only safe feature names out;
// then large adversarial inputs (1 MB tasks.md, 64 KB comments and configs).
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEATURE_KEY, parseCommand } from '../../src/commands/parse-command.ts';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';
import { MAX_TASKS_BYTES } from '../../src/spec-kit/validate-tasks.ts';
import type { ParserName } from './support/parser-worker.ts';

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

// Large adversarial inputs, each parsed in a worker thread that is terminated
// if it overruns: a catastrophic regex (backtracking on long runs of one
// character) shows up as a case far over its bound instead of a hung test.
// The bounds are generous — linear parsing of 1 MB takes 0.01–4 s here, a
// quadratic one hours — for a loaded 2-core machine.
describe('the parsers on large adversarial input', () => {
  const MB = MAX_TASKS_BYTES - 64; // the largest tasks.md the app reads
  const COMMENT = 64 * 1024;
  const fill = (unit: string, bytes: number, prefix = '', suffix = '') =>
    prefix + unit.repeat(Math.floor((bytes - prefix.length - suffix.length) / unit.length)) + suffix;
  const realisticTask = (i: number) =>
    `- [ ] T${String(i).padStart(4, '0')} [P] [US${i % 9}] Implement \`src/module-${i}/file-${i}.ts\` and \`tests/t${i}.py\`\n`;

  const tasksCases: Array<[string, string]> = [
    ['1 MB of -', fill('-', MB)],
    ['1 MB of [', fill('[', MB)],
    ['1 MB of backticks', fill('`', MB)],
    ['1 MB of #', fill('#', MB)],
    ['1 MB of spaces then x', fill(' ', MB, '', 'x')],
    ['a phase heading then 1 MB of spaces', fill(' ', MB, '## Phase 1: Setup', '\n- [ ] T001 x\n')],
    ['a task whose description is 1 MB of backticks', fill('`', MB, '## Phase 1: A\n- [ ] T001 ')],
    ['a task whose description is 1 MB of [', fill('[', MB, '## Phase 1: A\n- [ ] T001 ')],
    ['1 MB of "- [ ] "', fill('- [ ] ', MB)],
    ['1 MB of "- [ ] T1 [P] "', fill('- [ ] T1 [P] ', MB, '## Phase 1: A\n')],
    ['1 MB of "`a` "', fill('`a` ', MB, '## Phase 1: A\n- [ ] T001 ')],
    ['1 MB of "[P]" without spaces', fill('[P]', MB, '## Phase 1: A\n- [ ] T001 ')],
    ['1 MB of lines "-"', fill('-\n', MB)],
    ['1 MB of lines "#"', fill('#\n', MB)],
    ['1 MB of lines "```"', fill('```\n', MB)],
    ['1 MB of unclosed comments', fill('<!--\n', MB)],
    ['1 MB of CRLF headings', fill('## Phase 1: x\r\n', MB)],
    ['a task ID of 1 MB of digits', fill('0', MB, '## Phase 1: A\n- [ ] T')],
    ['1 MB of real-looking tasks in 100 phases', realisticTasks(MB)],
  ];
  function realisticTasks(bytes: number): string {
    let text = '# Tasks: big\n';
    for (let i = 1; text.length < bytes - 200; i += 1) {
      if (i % 100 === 1) text += `\n## Phase ${Math.ceil(i / 100)}: Part ${i}\n\n`;
      text += realisticTask(i);
    }
    return text;
  }

  const commentCases: Array<[string, string]> = [
    ['64 KB of -', fill('-', COMMENT, '/speckit run ')],
    ['64 KB of -- options', fill('--', COMMENT, '/speckit run 001-demo ')],
    ['64 KB of [', fill('[', COMMENT, '/speckit ')],
    ['64 KB of backticks', fill('`', COMMENT, '/speckit run ')],
    ['64 KB of #', fill('#', COMMENT)],
    ['64 KB of spaces then x', fill(' ', COMMENT, '/speckit', 'x')],
    ['64 KB of "/speckit " on one line', fill('/speckit ', COMMENT)],
    ['64 KB of "/speckit run" lines', fill('/speckit run 001-demo\n', COMMENT)],
    ['64 KB of quoted lines', fill('> ', COMMENT, '', '/speckit run 001-demo')],
    ['64 KB of code fences', fill('```\n', COMMENT, '', '/speckit run 001-demo')],
    ['a feature name of 64 KB', fill('a', COMMENT, '/speckit run 001-')],
    ['64 KB of --phase=', fill('--phase=', COMMENT, '/speckit run 001-demo ')],
  ];

  const configCases: Array<[string, string]> = [
    [
      'an alias bomb',
      ['a: &a ["x","x","x","x","x","x","x","x","x"]']
        .concat(
          Array.from(
            { length: 9 },
            (_, i) =>
              `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
                .fill(`*${String.fromCharCode(97 + i)}`)
                .join(',')}]`,
          ),
        )
        .join('\n'),
    ],
    ['64 KB of nested [', fill('[', COMMENT, 'limits: ')],
    ['64 KB of nested {', fill('{', COMMENT, 'limits: ')],
    ['64 KB of -', fill('-', COMMENT)],
    ['64 KB of "- " (a deep list)', fill('- ', COMMENT)],
    ['64 KB of #', fill('#', COMMENT)],
    ['64 KB of backticks', fill('`', COMMENT, 'branch_prefix: ')],
  ];

  const all: Array<{ parser: ParserName; name: string; input: string; boundMs: number }> = [
    ...(['parseTasks', 'analyzeTasks', 'tickTasks', 'extractPaths'] as const).flatMap((parser) =>
      tasksCases.map(([name, input]) => ({ parser, name, input, boundMs: 15_000 })),
    ),
    ...commentCases.map(([name, input]) => ({
      parser: 'parseCommand' as const,
      name,
      input,
      boundMs: 2_000,
    })),
    ...configCases.map(([name, input]) => ({
      parser: 'parseRepoConfig' as const,
      name,
      input,
      boundMs: 5_000,
    })),
  ];

  it('parses each within its bound, without a crash', async () => {
    const worker = new Worker(new URL('./support/parser-worker.ts', import.meta.url));
    const results: { parser: string; name: string; bytes: number; ms: number; result: string }[] = [];
    try {
      for (const { parser, name, input, boundMs } of all) {
        // The thread is given 10 × the bound before it is stopped.
        const answer = await new Promise<{ ms: number; result?: string; error?: string }>(
          (resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`${parser}: ${name} still running after ${10 * boundMs} ms`)),
              10 * boundMs,
            );
            worker.once('message', (message) => {
              clearTimeout(timer);
              resolve(message);
            });
            worker.postMessage({ parser, input });
          },
        );
        const line = {
          parser,
          name,
          bytes: Buffer.byteLength(input),
          ms: Math.round(answer.ms),
          result: answer.result ?? `threw: ${answer.error?.split('\n')[0]}`,
        };
        results.push(line);
        console.log(
          `injected: ${parser}(${name}, ${line.bytes} bytes); observed: ${line.result} in ${line.ms} ms (bound ${boundMs} ms)`,
        );
        expect(answer.error, `${parser}: ${name}`).toBeUndefined();
        expect(answer.ms, `${parser}: ${name}`).toBeLessThan(boundMs);
      }
    } finally {
      await worker.terminate();
    }
    const slowest = [...results].sort((a, b) => b.ms - a.ms)[0];
    console.log(`${results.length} cases; slowest ${slowest?.parser}(${slowest?.name}) ${slowest?.ms} ms`);
  }, 600_000);
});
