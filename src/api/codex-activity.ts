// What Codex did, for people: the completed items of a `codex exec --json`
// log (messages, commands, file changes, …) in order. Pure.
import { parseCodexEventLine } from '../codex/codex-events.ts';
import type { CodexActivity } from './schemas.ts';

const MAX_OUTPUT = 4000;

function clip(text: string): string {
  return text.length > MAX_OUTPUT
    ? `${text.slice(0, MAX_OUTPUT)}\n… (${text.length - MAX_OUTPUT} more characters)`
    : text;
}

export function codexActivityFromLines(
  lines: Iterable<string>,
  source: { attempt: number; artifactId: string },
): CodexActivity[] {
  const items: CodexActivity[] = [];
  const base = { attempt: source.attempt, artifactId: source.artifactId };
  for (const line of lines) {
    const event = parseCodexEventLine(line);
    if (!event) continue;
    switch (event.type) {
      case 'turn.failed':
        items.push({ ...base, kind: 'error', text: `Turn failed: ${event.message}` });
        break;
      case 'error':
        items.push({ ...base, kind: 'error', text: event.message });
        break;
      case 'turn.completed':
        items.push({
          ...base,
          kind: 'turn',
          text: event.usage
            ? `Turn completed (${event.usage.inputTokens} input, ${event.usage.outputTokens} output tokens)`
            : 'Turn completed',
        });
        break;
      case 'item.completed': {
        const item = event.item;
        switch (item.type) {
          case 'agent_message':
          case 'reasoning':
            items.push({ ...base, kind: item.type, text: item.text });
            break;
          case 'command_execution':
            items.push({
              ...base,
              kind: 'command',
              text: item.command,
              command: item.command,
              exitCode: item.exitCode,
              output: clip(item.aggregatedOutput),
            });
            break;
          case 'file_change':
            items.push({
              ...base,
              kind: 'file_change',
              text: item.changes.map((c) => `${c.kind} ${c.path}`).join('\n'),
              changes: item.changes,
            });
            break;
          case 'todo_list':
            items.push({
              ...base,
              kind: 'todo_list',
              text: item.items.map((i) => `${i.completed ? '[x]' : '[ ]'} ${i.text}`).join('\n'),
            });
            break;
          case 'error':
            items.push({ ...base, kind: 'error', text: item.message });
            break;
          case 'other':
            items.push({ ...base, kind: 'other', text: item.itemType });
            break;
        }
        break;
      }
      default:
        break;
    }
  }
  return items;
}
