// `codex exec --json` prints one JSON event per line. This module parses a line into a
// typed `CodexEvent` (anything it does not know is kept as `unknown`, never thrown away)
// and folds events into a `CodexRunSummary`. Pure.
//
// Note: an `error` event is not fatal by itself: Codex also reports retries with it
// ("Reconnecting... 2/5 (...)"). A run failed when it printed `turn.failed` or exited
// non-zero; the error text then comes from `turn.failed`, else the last `error` event.

import { z } from 'zod';

export interface CodexUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

export interface FileChange {
  path: string;
  /** `add`, `delete` or `update` (kept as Codex wrote it). */
  kind: string;
}

export type CodexItem =
  | { type: 'agent_message'; id: string; text: string }
  | { type: 'reasoning'; id: string; text: string }
  | {
      type: 'command_execution';
      id: string;
      command: string;
      aggregatedOutput: string;
      exitCode: number | null;
      status: string;
    }
  | { type: 'file_change'; id: string; changes: FileChange[]; status: string }
  | { type: 'todo_list'; id: string; items: { text: string; completed: boolean }[] }
  | { type: 'error'; id: string; message: string }
  /** Any other item type (mcp_tool_call, web_search, …), kept raw. */
  | { type: 'other'; id: string; itemType: string; raw: Record<string, unknown> };

export type CodexItemEventType = 'item.started' | 'item.updated' | 'item.completed';

export type CodexEvent =
  | { type: 'thread.started'; threadId: string }
  | { type: 'turn.started' }
  | { type: 'turn.completed'; usage: CodexUsage | null }
  | { type: 'turn.failed'; message: string }
  | { type: 'error'; message: string }
  | { type: CodexItemEventType; item: CodexItem }
  /** A line that is not JSON or not an event this module knows. */
  | { type: 'unknown'; line: string; raw: unknown };

const count = z.number().int().nonnegative().catch(0).default(0);

const usageSchema = z.looseObject({
  input_tokens: count,
  cached_input_tokens: count,
  output_tokens: count,
  reasoning_output_tokens: count,
  total_tokens: z.number().int().nonnegative().optional().catch(undefined),
});

const itemBase = z.looseObject({ id: z.string().catch(''), type: z.string() });

const agentMessageSchema = z.looseObject({ text: z.string().catch('') });
const commandSchema = z.looseObject({
  command: z.string().catch(''),
  aggregated_output: z.string().catch(''),
  exit_code: z.number().int().nullable().catch(null).default(null),
  status: z.string().catch(''),
});
const fileChangeSchema = z.looseObject({
  changes: z.array(z.looseObject({ path: z.string(), kind: z.string().catch('update') })).catch([]),
  status: z.string().catch(''),
});
const todoListSchema = z.looseObject({
  items: z
    .array(z.looseObject({ text: z.string().catch(''), completed: z.boolean().catch(false) }))
    .catch([]),
});
const errorItemSchema = z.looseObject({ message: z.string().catch('') });

const eventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('thread.started'), thread_id: z.string() }),
  z.looseObject({ type: z.literal('turn.started') }),
  z.looseObject({
    type: z.literal('turn.completed'),
    usage: usageSchema.nullable().catch(null).default(null),
  }),
  z.looseObject({
    type: z.literal('turn.failed'),
    error: z.looseObject({ message: z.string().catch('') }).catch({ message: '' }),
  }),
  z.looseObject({ type: z.literal('error'), message: z.string().catch('') }),
  z.looseObject({ type: z.enum(['item.started', 'item.updated', 'item.completed']), item: itemBase }),
]);

function parseItem(raw: z.infer<typeof itemBase>): CodexItem {
  const { id, type } = raw;
  switch (type) {
    case 'agent_message':
    case 'reasoning':
      return { type, id, text: agentMessageSchema.parse(raw).text };
    case 'command_execution': {
      const item = commandSchema.parse(raw);
      return {
        type,
        id,
        command: item.command,
        aggregatedOutput: item.aggregated_output,
        exitCode: item.exit_code,
        status: item.status,
      };
    }
    case 'file_change': {
      const item = fileChangeSchema.parse(raw);
      return {
        type,
        id,
        status: item.status,
        changes: item.changes.map((c) => ({ path: c.path, kind: c.kind })),
      };
    }
    case 'todo_list':
      return {
        type,
        id,
        items: todoListSchema.parse(raw).items.map((i) => ({ text: i.text, completed: i.completed })),
      };
    case 'error':
      return { type, id, message: errorItemSchema.parse(raw).message };
    default:
      return { type: 'other', id, itemType: type, raw };
  }
}

function toUsage(raw: z.infer<typeof usageSchema>): CodexUsage {
  return {
    inputTokens: raw.input_tokens,
    cachedInputTokens: raw.cached_input_tokens,
    outputTokens: raw.output_tokens,
    reasoningTokens: raw.reasoning_output_tokens,
    // Codex 0.169 prints no total; reasoning tokens are part of the output tokens.
    totalTokens: raw.total_tokens ?? raw.input_tokens + raw.output_tokens,
  };
}

/** Parses one line of `codex exec --json` output; null for a blank line. Never throws. */
export function parseCodexEventLine(line: string): CodexEvent | null {
  const text = line.trim();
  if (text === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { type: 'unknown', line: text, raw: null };
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) return { type: 'unknown', line: text, raw: json };
  const event = parsed.data;
  switch (event.type) {
    case 'thread.started':
      return { type: event.type, threadId: event.thread_id };
    case 'turn.started':
      return { type: event.type };
    case 'turn.completed':
      return { type: event.type, usage: event.usage ? toUsage(event.usage) : null };
    case 'turn.failed':
      return { type: event.type, message: event.error.message };
    case 'error':
      return { type: event.type, message: event.message };
    default:
      return { type: event.type, item: parseItem(event.item) };
  }
}

export interface CodexRunSummary {
  threadId: string | null;
  lastAgentMessage: string | null;
  /** Summed over the turns; null until a turn completed with usage. */
  usage: CodexUsage | null;
  /** Commands Codex ran, in the order they started. */
  commands: string[];
  /** Paths of completed file changes, first appearance order, as Codex wrote them (absolute). */
  filesChanged: string[];
  /** The `turn.failed` message when there was one, else the last `error` event's. */
  errorMessage: string | null;
  turnFailed: boolean;
  turnCompleted: boolean;
  /** A short description of the last event, for idle-timeout messages. */
  lastActivity: string | null;
  eventCount: number;
  /** Item ids already counted in `commands`. */
  commandIds: string[];
}

export function emptyCodexRunSummary(): CodexRunSummary {
  return {
    threadId: null,
    lastAgentMessage: null,
    usage: null,
    commands: [],
    filesChanged: [],
    errorMessage: null,
    turnFailed: false,
    turnCompleted: false,
    lastActivity: null,
    eventCount: 0,
    commandIds: [],
  };
}

function clip(text: string, max = 120): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** A one-line human description of an event ("item.started command_execution: npm test"). */
export function describeCodexEvent(event: CodexEvent): string {
  switch (event.type) {
    case 'thread.started':
      return `thread.started ${event.threadId}`;
    case 'turn.started':
    case 'turn.completed':
      return event.type;
    case 'turn.failed':
    case 'error':
      return `${event.type}: ${clip(event.message)}`;
    case 'unknown':
      return `unknown: ${clip(event.line)}`;
    default: {
      const item = event.item;
      switch (item.type) {
        case 'command_execution':
          return `${event.type} command_execution: ${clip(item.command)}`;
        case 'file_change':
          return `${event.type} file_change: ${clip(item.changes.map((c) => `${c.kind} ${c.path}`).join(', '))}`;
        case 'agent_message':
        case 'reasoning':
          return `${event.type} ${item.type}: ${clip(item.text)}`;
        case 'error':
          return `${event.type} error: ${clip(item.message)}`;
        case 'todo_list':
          return `${event.type} todo_list`;
        case 'other':
          return `${event.type} ${item.itemType}`;
      }
    }
  }
}

function addUsage(a: CodexUsage | null, b: CodexUsage): CodexUsage {
  if (!a) return b;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

/** Folds one event into the summary; returns a new summary. */
export function reduceCodexEvent(summary: CodexRunSummary, event: CodexEvent): CodexRunSummary {
  const next: CodexRunSummary = {
    ...summary,
    eventCount: summary.eventCount + 1,
    lastActivity: describeCodexEvent(event),
  };
  switch (event.type) {
    case 'thread.started':
      next.threadId = event.threadId;
      return next;
    case 'turn.completed':
      next.turnCompleted = true;
      if (event.usage) next.usage = addUsage(summary.usage, event.usage);
      return next;
    case 'turn.failed':
      next.turnFailed = true;
      next.errorMessage = event.message || summary.errorMessage;
      return next;
    case 'error':
      if (!summary.turnFailed) next.errorMessage = event.message;
      return next;
    case 'item.started':
    case 'item.updated':
    case 'item.completed': {
      const item = event.item;
      if (item.type === 'command_execution' && !summary.commandIds.includes(item.id)) {
        next.commandIds = [...summary.commandIds, item.id];
        next.commands = [...summary.commands, item.command];
      }
      if (event.type === 'item.completed' && item.type === 'agent_message') {
        next.lastAgentMessage = item.text;
      }
      if (event.type === 'item.completed' && item.type === 'file_change' && item.status !== 'failed') {
        const files = [...summary.filesChanged];
        for (const change of item.changes) {
          if (!files.includes(change.path)) files.push(change.path);
        }
        if (files.length > summary.filesChanged.length) next.filesChanged = files;
      }
      return next;
    }
    default:
      return next;
  }
}
