import { describe, expect, it } from 'vitest';
import {
  type CodexEvent,
  describeCodexEvent,
  emptyCodexRunSummary,
  parseCodexEventLine,
  reduceCodexEvent,
} from '../../src/codex/codex-events.ts';

/** The runner folds events one by one as they stream; this folds a finished list. */
const summarizeCodexEvents = (events: CodexEvent[]) =>
  events.reduce(reduceCodexEvent, emptyCodexRunSummary());

// Lines printed by `codex exec --json` 0.169.0 against the fake model server.
const LINES = {
  threadStarted: '{"type":"thread.started","thread_id":"01a21091-2c12-77b0-b3b4-3e23fcc25fbe"}',
  turnStarted: '{"type":"turn.started"}',
  fileChangeStarted:
    '{"type":"item.started","item":{"id":"item_0","type":"file_change","changes":[{"path":"/w/repo/README.md","kind":"update"},{"path":"/w/repo/a.txt","kind":"add"}],"status":"in_progress"}}',
  fileChangeCompleted:
    '{"type":"item.completed","item":{"id":"item_0","type":"file_change","changes":[{"path":"/w/repo/README.md","kind":"update"},{"path":"/w/repo/a.txt","kind":"add"}],"status":"completed"}}',
  commandStarted:
    '{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc env","aggregated_output":"","exit_code":null,"status":"in_progress"}}',
  commandCompleted:
    '{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc env","aggregated_output":"HOME=/w/home\\n","exit_code":0,"status":"completed"}}',
  agentMessage: '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Done."}}',
  reasoning:
    '{"type":"item.completed","item":{"id":"item_3","type":"reasoning","text":"**Planning** the change"}}',
  turnCompleted:
    '{"type":"turn.completed","usage":{"input_tokens":200,"cached_input_tokens":50,"cache_write_input_tokens":0,"output_tokens":40,"reasoning_output_tokens":7}}',
  reconnecting: '{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion)"}',
  error: '{"type":"error","message":"unexpected status 503 Service Unavailable: upstream overloaded"}',
  turnFailed:
    '{"type":"turn.failed","error":{"message":"unexpected status 503 Service Unavailable: upstream overloaded"}}',
  errorItem:
    '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Falling back from WebSockets to HTTPS transport."}}',
  todoList:
    '{"type":"item.updated","item":{"id":"item_4","type":"todo_list","items":[{"text":"T001","completed":true},{"text":"T002","completed":false}]}}',
  webSearch: '{"type":"item.started","item":{"id":"item_5","type":"web_search","query":"zod v4"}}',
};

function parse(line: string): CodexEvent {
  const event = parseCodexEventLine(line);
  if (!event) throw new Error('expected an event');
  return event;
}

describe('parseCodexEventLine', () => {
  it('parses thread and turn events', () => {
    expect(parse(LINES.threadStarted)).toEqual({
      type: 'thread.started',
      threadId: '01a21091-2c12-77b0-b3b4-3e23fcc25fbe',
    });
    expect(parse(LINES.turnStarted)).toEqual({ type: 'turn.started' });
    expect(parse(LINES.turnFailed)).toEqual({
      type: 'turn.failed',
      message: 'unexpected status 503 Service Unavailable: upstream overloaded',
    });
    expect(parse(LINES.error)).toEqual({
      type: 'error',
      message: 'unexpected status 503 Service Unavailable: upstream overloaded',
    });
  });

  it('parses turn.completed usage and derives the total Codex does not print', () => {
    expect(parse(LINES.turnCompleted)).toEqual({
      type: 'turn.completed',
      usage: {
        inputTokens: 200,
        cachedInputTokens: 50,
        outputTokens: 40,
        reasoningTokens: 7,
        totalTokens: 240,
      },
    });
    expect(parse('{"type":"turn.completed"}')).toEqual({ type: 'turn.completed', usage: null });
  });

  it('parses file_change, command_execution, agent_message and reasoning items', () => {
    expect(parse(LINES.fileChangeCompleted)).toEqual({
      type: 'item.completed',
      item: {
        type: 'file_change',
        id: 'item_0',
        status: 'completed',
        changes: [
          { path: '/w/repo/README.md', kind: 'update' },
          { path: '/w/repo/a.txt', kind: 'add' },
        ],
      },
    });
    expect(parse(LINES.commandStarted)).toEqual({
      type: 'item.started',
      item: {
        type: 'command_execution',
        id: 'item_1',
        command: '/bin/bash -lc env',
        aggregatedOutput: '',
        exitCode: null,
        status: 'in_progress',
      },
    });
    expect(parse(LINES.commandCompleted)).toMatchObject({
      item: { exitCode: 0, aggregatedOutput: 'HOME=/w/home\n' },
    });
    expect(parse(LINES.agentMessage)).toEqual({
      type: 'item.completed',
      item: { type: 'agent_message', id: 'item_2', text: 'Done.' },
    });
    expect(parse(LINES.reasoning)).toMatchObject({
      item: { type: 'reasoning', text: '**Planning** the change' },
    });
  });

  it('parses error and todo_list items and keeps other item types raw', () => {
    expect(parse(LINES.errorItem)).toMatchObject({
      item: { type: 'error', message: expect.stringContaining('Falling') },
    });
    expect(parse(LINES.todoList)).toEqual({
      type: 'item.updated',
      item: {
        type: 'todo_list',
        id: 'item_4',
        items: [
          { text: 'T001', completed: true },
          { text: 'T002', completed: false },
        ],
      },
    });
    expect(parse(LINES.webSearch)).toEqual({
      type: 'item.started',
      item: {
        type: 'other',
        id: 'item_5',
        itemType: 'web_search',
        raw: { id: 'item_5', type: 'web_search', query: 'zod v4' },
      },
    });
  });

  it('keeps unknown events, non-JSON lines and malformed events as unknown, and skips blank lines', () => {
    expect(parse('{"type":"session.configured","model":"x"}')).toEqual({
      type: 'unknown',
      line: '{"type":"session.configured","model":"x"}',
      raw: { type: 'session.configured', model: 'x' },
    });
    expect(parse('Reading additional input from stdin...')).toEqual({
      type: 'unknown',
      line: 'Reading additional input from stdin...',
      raw: null,
    });
    expect(parse('{"type":"thread.started"}')).toMatchObject({ type: 'unknown' });
    expect(parse('[1,2]')).toMatchObject({ type: 'unknown', raw: [1, 2] });
    expect(parseCodexEventLine('')).toBeNull();
    expect(parseCodexEventLine('  \r')).toBeNull();
  });

  it('tolerates missing or mistyped fields inside known items', () => {
    expect(
      parse('{"type":"item.completed","item":{"id":"i","type":"command_execution","exit_code":"x"}}'),
    ).toEqual({
      type: 'item.completed',
      item: {
        type: 'command_execution',
        id: 'i',
        command: '',
        aggregatedOutput: '',
        exitCode: null,
        status: '',
      },
    });
  });
});

describe('reduceCodexEvent / summarizeCodexEvents', () => {
  it('summarises a successful run', () => {
    const summary = summarizeCodexEvents(
      [
        LINES.threadStarted,
        LINES.turnStarted,
        LINES.reasoning,
        LINES.fileChangeStarted,
        LINES.fileChangeCompleted,
        LINES.commandStarted,
        LINES.commandCompleted,
        LINES.agentMessage,
        LINES.turnCompleted,
      ].map(parse),
    );
    expect(summary).toMatchObject({
      threadId: '01a21091-2c12-77b0-b3b4-3e23fcc25fbe',
      lastAgentMessage: 'Done.',
      usage: {
        inputTokens: 200,
        cachedInputTokens: 50,
        outputTokens: 40,
        reasoningTokens: 7,
        totalTokens: 240,
      },
      commands: ['/bin/bash -lc env'],
      filesChanged: ['/w/repo/README.md', '/w/repo/a.txt'],
      errorMessage: null,
      turnFailed: false,
      turnCompleted: true,
      lastActivity: 'turn.completed',
      eventCount: 9,
    });
  });

  it('counts each file and command once and ignores failed file changes', () => {
    const failedChange = parse(
      '{"type":"item.completed","item":{"id":"x","type":"file_change","changes":[{"path":"/w/repo/b.txt","kind":"add"}],"status":"failed"}}',
    );
    const summary = summarizeCodexEvents(
      [LINES.fileChangeCompleted, LINES.fileChangeCompleted, LINES.commandStarted, LINES.commandCompleted]
        .map(parse)
        .concat(failedChange),
    );
    expect(summary.filesChanged).toEqual(['/w/repo/README.md', '/w/repo/a.txt']);
    expect(summary.commands).toEqual(['/bin/bash -lc env']);
  });

  it('sums usage over several turns', () => {
    const summary = summarizeCodexEvents([parse(LINES.turnCompleted), parse(LINES.turnCompleted)]);
    expect(summary.usage).toEqual({
      inputTokens: 400,
      cachedInputTokens: 100,
      outputTokens: 80,
      reasoningTokens: 14,
      totalTokens: 480,
    });
  });

  it('treats an error event as information and turn.failed as the failure', () => {
    const retried = summarizeCodexEvents(
      [LINES.turnStarted, LINES.reconnecting, LINES.agentMessage].map(parse),
    );
    expect(retried.turnFailed).toBe(false);
    expect(retried.errorMessage).toContain('Reconnecting');

    const failed = summarizeCodexEvents(
      [LINES.turnStarted, LINES.error, LINES.turnFailed, LINES.reconnecting].map(parse),
    );
    expect(failed.turnFailed).toBe(true);
    expect(failed.errorMessage).toBe('unexpected status 503 Service Unavailable: upstream overloaded');
  });

  it('returns a new summary without touching the old one', () => {
    const empty = emptyCodexRunSummary();
    const next = reduceCodexEvent(empty, parse(LINES.commandStarted));
    expect(empty.commands).toEqual([]);
    expect(next.commands).toEqual(['/bin/bash -lc env']);
  });

  it('describes events in one line for idle-timeout messages', () => {
    expect(describeCodexEvent(parse(LINES.commandStarted))).toBe(
      'item.started command_execution: /bin/bash -lc env',
    );
    expect(describeCodexEvent(parse(LINES.fileChangeStarted))).toBe(
      'item.started file_change: update /w/repo/README.md, add /w/repo/a.txt',
    );
    expect(describeCodexEvent(parse(LINES.turnStarted))).toBe('turn.started');
    expect(describeCodexEvent(parse(`{"type":"error","message":"${'x'.repeat(300)}"}`)).length).toBeLessThan(
      140,
    );
  });
});
