// The `/speckit …` comment grammar. Pure. Only the first line of a comment is
// a command, as in Atlantis and most ChatOps bots: the rest is free text.
export type Command =
  | { name: 'run'; featureKey: string | null; codexMode: 'local' | 'cloud' | null }
  | { name: 'plan'; featureKey: string | null }
  | { name: 'help' };

export type ParseResult =
  | { kind: 'none' }
  | { kind: 'command'; command: Command }
  | { kind: 'invalid'; message: string };

const PREFIX = /^\/speckit(?:\s+|$)/;
export const FEATURE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const USAGE = [
  'Usage:',
  '- `/speckit run <feature> [--cloud|--local]` — implement the next unfinished phase of `specs/<feature>/tasks.md`',
  '- `/speckit plan <feature>` — show the next phase and its tasks without starting a run',
  '- `/speckit help` — show this message',
].join('\n');

export function parseCommand(body: string): ParseResult {
  const firstLine = (body.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '').trim();
  if (!PREFIX.test(firstLine)) return { kind: 'none' };
  const words = firstLine.split(/\s+/).slice(1);
  const [verb, ...args] = words;
  if (verb === undefined || verb === 'help') return { kind: 'command', command: { name: 'help' } };
  if (verb === 'run' || verb === 'plan') {
    // `--cloud` / `--local` choose the Codex mode of this run (run only).
    const flags: string[] =
      verb === 'run' ? args.filter((arg) => arg === '--cloud' || arg === '--local') : [];
    const unknownFlag = args.find((arg) => arg.startsWith('--') && !flags.includes(arg));
    if (unknownFlag || flags.length > 1) {
      return {
        kind: 'invalid',
        message: `\`${unknownFlag ?? flags.join(' ')}\`: \`/speckit ${verb}\` accepts ${verb === 'run' ? 'one of `--cloud` or `--local`' : 'no options'}.\n\n${USAGE}`,
      };
    }
    args.splice(0, args.length, ...args.filter((arg) => !flags.includes(arg)));
    if (args.length > 1) {
      return {
        kind: 'invalid',
        message: `\`/speckit ${verb}\` takes one feature, got ${args.length}.\n\n${USAGE}`,
      };
    }
    const featureKey = args[0] ?? null;
    if (featureKey !== null && (!FEATURE_KEY.test(featureKey) || featureKey.includes('..'))) {
      return {
        kind: 'invalid',
        message: `\`${featureKey}\` is not a feature name: use the name of a directory under \`specs/\`, e.g. \`001-user-auth\`.`,
      };
    }
    if (verb === 'plan') return { kind: 'command', command: { name: 'plan', featureKey } };
    const codexMode = flags[0] === '--cloud' ? 'cloud' : flags[0] === '--local' ? 'local' : null;
    return { kind: 'command', command: { name: 'run', featureKey, codexMode } };
  }
  return { kind: 'invalid', message: `Unknown command \`${verb}\`.\n\n${USAGE}` };
}
