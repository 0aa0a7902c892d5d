// Runs one parser on one input in a worker thread and reports how long it
// took, so that a catastrophic regex can be stopped (the thread terminated)
// instead of hanging the test process.
import { parentPort } from 'node:worker_threads';
import { parseCommand } from '../../../src/commands/parse-command.ts';
import { parseRepoConfig, RepoConfigError } from '../../../src/repo-config/repo-config.ts';
import { extractPaths } from '../../../src/spec-kit/extract-paths.ts';
import { findNextPhase, pendingTasks } from '../../../src/spec-kit/find-next-phase.ts';
import { analyzeTasks, parseTasks } from '../../../src/spec-kit/parse-tasks.ts';
import { tickTasks, untickTasks, verifyTasks } from '../../../src/spec-kit/tick-tasks.ts';

export type ParserName =
  | 'parseCommand'
  | 'parseTasks'
  | 'analyzeTasks'
  | 'tickTasks'
  | 'extractPaths'
  | 'parseRepoConfig';

const countTasks = (doc: ReturnType<typeof parseTasks>) =>
  `${doc.phases.length} phases, ${doc.phases.reduce((n, p) => n + p.tasks.length, 0)} tasks`;

/** What each parser made of the input, in a few words (the test prints it). */
const PARSERS: Record<ParserName, (input: string) => string> = {
  parseCommand: (input) => parseCommand(input).kind,
  // What discover does with a tasks.md: parse it, pick the next phase; apply verifies its tasks.
  parseTasks: (input) => {
    const doc = parseTasks(input);
    const phase = findNextPhase(doc);
    if (phase) verifyTasks(phase.tasks, ['src/a.ts', 'README.md']);
    return countTasks(doc);
  },
  analyzeTasks: (input) => `${Object.keys(analyzeTasks(input)).length} fields`,
  // What apply does: tick the phase's tasks (and a retry may untick them).
  tickTasks: (input) => {
    const phase = findNextPhase(parseTasks(input));
    const ids = phase ? pendingTasks(phase).map((task) => task.id) : ['T001'];
    const ticked = tickTasks(input, ids);
    untickTasks(ticked, ids);
    return `${ids.length} ticked and unticked`;
  },
  extractPaths: (input) => `${extractPaths(input).length} paths`,
  parseRepoConfig: (input) => {
    try {
      parseRepoConfig(input);
      return 'accepted';
    } catch (error) {
      if (error instanceof RepoConfigError) return 'refused with a message';
      throw error;
    }
  },
};

parentPort?.on('message', ({ parser, input }: { parser: ParserName; input: string }) => {
  const started = performance.now();
  try {
    const result = PARSERS[parser](input);
    parentPort?.postMessage({ ms: performance.now() - started, result });
  } catch (error) {
    parentPort?.postMessage({
      ms: performance.now() - started,
      error: String((error as Error)?.stack ?? error),
    });
  }
});
