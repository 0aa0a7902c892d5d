// The `/speckit …` comment grammar. Pure. Only the first non-empty line of a
// comment is a command, as in Atlantis and most ChatOps bots: the rest is free
// text. A quoted line (`> /speckit run`) or a code block (fenced or indented)
// is someone showing a command, not asking for one. Verbs and options are
// case-insensitive; feature names keep their case (they name directories).
export type CodexModeFlag = 'local' | 'cloud';

export type Command =
  | {
      name: 'run';
      featureKey: string | null;
      codexMode: CodexModeFlag | null;
      /** `--all`: after each successful phase, start the next until the feature is done or a phase fails. */
      all: boolean;
      /** `--once`: one phase only, even where `.github/speckit.yml` sets `auto_continue: true`. */
      once: boolean;
      /** `--phase N`: run phase N even when earlier phases are unfinished (one phase, never continued). */
      phase: string | null;
      /** `--draft`: open the pull request as a draft. */
      draft: boolean;
    }
  | { name: 'plan'; featureKey: string | null }
  | { name: 'status'; featureKey: string | null }
  | { name: 'retry'; target: RunTarget | null }
  | { name: 'cancel'; target: RunTarget | null }
  | { name: 'help' };

export type CommandName = Command['name'];

/** Which run a retry or cancel is about: a run id, or the latest run of a feature. */
export type RunTarget = { kind: 'run'; runId: string } | { kind: 'feature'; featureKey: string };

export type ParseResult =
  | { kind: 'none' }
  | { kind: 'command'; command: Command }
  | { kind: 'invalid'; message: string };

const PREFIX = /^\/speckit(?:\s+|$)/i;
export const FEATURE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A phase number as tasks.md writes it (`2`, `3.1`); the API's forcePhase accepts the same. */
const PHASE_NUMBER = /^[0-9]{1,6}(?:\.[0-9]{1,6}){0,3}$/;

/** Who may use a command: `write` needs write, maintain or admin access; `anyone` is anyone who can comment. */
export const COMMAND_ACCESS: Record<CommandName, 'write' | 'anyone'> = {
  run: 'write',
  retry: 'write',
  cancel: 'write',
  plan: 'anyone',
  status: 'anyone',
  help: 'anyone',
};

export const USAGE = [
  'Usage (one command on the first line of a comment):',
  '- `/speckit run <feature> [--all|--once] [--phase N] [--draft] [--cloud|--local]` — implement the next unfinished phase of `specs/<feature>/tasks.md`; `--all` goes on phase after phase, `--once` stops after one phase (where `.github/speckit.yml` sets `auto_continue: true`), `--phase N` runs phase N only, `--draft` opens the pull request as a draft',
  '- `/speckit plan <feature>` — show the next phase and its tasks without starting a run',
  '- `/speckit status [feature]` — show the latest runs and where they are',
  '- `/speckit retry [run-id|feature]` — resume a failed run from the step that failed',
  '- `/speckit cancel [run-id|feature]` — stop an active run',
  '- `/speckit help` — show this message',
  '',
  '`run`, `retry` and `cancel` need write, maintain or admin access to the repository.',
].join('\n');

/** The first non-empty line, or null when it is quoted or starts a code block. */
function commandLine(body: string): string | null {
  const lines = body.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.find((line) => line.trim() !== '');
  if (first === undefined) return null;
  // Quotes (`>`), fenced code (``` or ~~~) and indented code (4+ spaces or a tab).
  if (/^\s*>/.test(first) || /^\s*(```|~~~)/.test(first) || /^( {4,}|\t)/.test(first)) return null;
  return first.trim();
}

function invalid(message: string): ParseResult {
  return { kind: 'invalid', message: `${message}\n\n${USAGE}` };
}

function validFeature(name: string): boolean {
  return FEATURE_KEY.test(name) && !name.includes('..');
}

const notAFeature = (name: string) =>
  `\`${name}\` is not a feature name: use the name of a directory under \`specs/\`, e.g. \`001-user-auth\`.`;

/**
 * The longest command line read. Real commands are a few dozen characters; a
 * longer `/speckit` line is refused with the limit rather than echoed back or
 * split into thousands of words.
 */
export const MAX_COMMAND_LENGTH = 500;

export function parseCommand(body: string): ParseResult {
  const line = commandLine(body);
  if (line === null || !PREFIX.test(line)) return { kind: 'none' };
  if (line.length > MAX_COMMAND_LENGTH) {
    return invalid(
      `The command line is ${line.length} characters long; a \`/speckit\` command is at most ${MAX_COMMAND_LENGTH}. Put the command alone on the first line and any notes below it.`,
    );
  }
  const [verbWord, ...words] = line.split(/\s+/).slice(1);
  const verb = verbWord?.toLowerCase();
  if (verb === undefined || verb === 'help') {
    return words.length === 0
      ? { kind: 'command', command: { name: 'help' } }
      : invalid('`/speckit help` takes no arguments.');
  }
  // `--phase N` is the one option with a value (run only; other verbs refuse every option).
  const phaseOption = verb === 'run' ? takePhaseOption(words) : undefined;
  if (typeof phaseOption === 'object') return phaseOption;
  const rest = phaseOption === undefined ? words : withoutPhaseOption(words);
  const flags = rest.filter((word) => word.startsWith('--')).map((word) => word.toLowerCase());
  const args = rest.filter((word) => !word.startsWith('--'));
  switch (verb) {
    case 'run': {
      const known = new Set(['--all', '--once', '--draft', '--cloud', '--local']);
      const unknown = flags.find((flag) => !known.has(flag));
      if (unknown)
        return invalid(
          `\`${unknown}\`: \`/speckit run\` accepts \`--all\`, \`--once\`, \`--phase N\`, \`--draft\`, \`--cloud\` or \`--local\`.`,
        );
      if (flags.includes('--cloud') && flags.includes('--local'))
        return invalid('`/speckit run` accepts one of `--cloud` or `--local`, not both.');
      if (flags.includes('--all') && flags.includes('--once'))
        return invalid('`/speckit run` accepts one of `--all` or `--once`, not both.');
      if (flags.includes('--all') && phaseOption !== undefined)
        return invalid('`--phase N` runs that one phase; it cannot be combined with `--all`.');
      if (new Set(flags).size !== flags.length)
        return invalid('Each option of `/speckit run` may appear once.');
      const feature = singleFeature('run', args);
      if (typeof feature === 'object') return feature;
      const codexMode = flags.includes('--cloud') ? 'cloud' : flags.includes('--local') ? 'local' : null;
      return {
        kind: 'command',
        command: {
          name: 'run',
          featureKey: feature ?? null,
          codexMode,
          all: flags.includes('--all'),
          once: flags.includes('--once'),
          phase: phaseOption ?? null,
          draft: flags.includes('--draft'),
        },
      };
    }
    case 'plan':
    case 'status': {
      if (flags.length > 0) return invalid(`\`${flags[0]}\`: \`/speckit ${verb}\` accepts no options.`);
      const feature = singleFeature(verb, args);
      if (typeof feature === 'object') return feature;
      return { kind: 'command', command: { name: verb, featureKey: feature ?? null } };
    }
    case 'retry':
    case 'cancel': {
      if (flags.length > 0) return invalid(`\`${flags[0]}\`: \`/speckit ${verb}\` accepts no options.`);
      if (args.length > 1)
        return invalid(`\`/speckit ${verb}\` takes one run id or feature, got ${args.length}.`);
      const arg = args[0];
      if (arg === undefined) return { kind: 'command', command: { name: verb, target: null } };
      if (UUID.test(arg))
        return {
          kind: 'command',
          command: { name: verb, target: { kind: 'run', runId: arg.toLowerCase() } },
        };
      if (!validFeature(arg)) return { kind: 'invalid', message: `${notAFeature(arg)} Or give a run id.` };
      return { kind: 'command', command: { name: verb, target: { kind: 'feature', featureKey: arg } } };
    }
    default:
      return invalid(`Unknown command \`${verbWord}\`.`);
  }
}

/** The value of `--phase N` (or `--phase=N`): undefined when absent, a parse error when malformed. */
function takePhaseOption(words: readonly string[]): string | undefined | ParseResult {
  const at = words.findIndex((word) => /^--phase(?:=|$)/i.test(word));
  if (at === -1) return undefined;
  if (words.findIndex((word, index) => index > at && /^--phase(?:=|$)/i.test(word)) !== -1)
    return invalid('Each option of `/speckit run` may appear once.');
  const word = words[at] ?? '';
  const value = word.includes('=') ? word.slice(word.indexOf('=') + 1) : words[at + 1];
  if (value === undefined || !PHASE_NUMBER.test(value))
    return invalid(`\`--phase\` needs a phase number from tasks.md, e.g. \`--phase 2\`.`);
  return value;
}

/** `words` without `--phase N` / `--phase=N` (takePhaseOption accepted them). */
function withoutPhaseOption(words: readonly string[]): string[] {
  const at = words.findIndex((word) => /^--phase(?:=|$)/i.test(word));
  const word = words[at] ?? '';
  return words.filter((_, index) => index !== at && (word.includes('=') || index !== at + 1));
}

/** The one optional feature argument of `verb`, or a parse error. */
function singleFeature(verb: string, args: readonly string[]): string | undefined | ParseResult {
  if (args.length > 1) return invalid(`\`/speckit ${verb}\` takes one feature, got ${args.length}.`);
  const feature = args[0];
  if (feature !== undefined && !validFeature(feature))
    return { kind: 'invalid', message: notAFeature(feature) };
  return feature;
}
