import { describe, expect, it } from 'vitest';
import {
  buildCodexPrompt,
  MAX_PROMPT_BYTES,
  type PromptInput,
} from '../../src/spec-kit/build-codex-prompt.ts';
import { findNextPhase, pendingTasks } from '../../src/spec-kit/find-next-phase.ts';
import { parseTasks } from '../../src/spec-kit/parse-tasks.ts';
import type { Phase, Task } from '../../src/spec-kit/types.ts';
import { readFixture } from './helpers.ts';

function inputFor(fixture: string, featureKey: string, overrides: Partial<PromptInput> = {}): PromptInput {
  const phase = findNextPhase(parseTasks(readFixture(fixture)));
  if (!phase) throw new Error(`${fixture} has no pending phase`);
  return {
    featureKey,
    tasksPath: `specs/${featureKey}/tasks.md`,
    phase,
    tasks: pendingTasks(phase),
    designDocs: ['spec.md', 'plan.md', 'contracts/'],
    agentsMd: true,
    ...overrides,
  };
}

function bigPhase(taskCount: number, bodyLength: number): { phase: Phase; tasks: Task[] } {
  const tasks: Task[] = Array.from({ length: taskCount }, (_, index) => ({
    id: `T${String(index + 1).padStart(3, '0')}`,
    state: 'pending',
    parallel: index % 2 === 0,
    story: 'US1',
    description: `Implement part ${index + 1} in \`src/part-${index + 1}.ts\``,
    paths: [`src/part-${index + 1}.ts`],
    line: 10 + index,
    body: 'Detail line about this part of the work.\n'.repeat(Math.ceil(bodyLength / 41)).trimEnd(),
  }));
  const phase: Phase = {
    number: '2',
    title: 'Everything at once',
    startLine: 8,
    endLine: 10 + taskCount,
    purpose: 'A phase far too large for one prompt',
    checkpoint: null,
    tasks,
  };
  return { phase, tasks };
}

describe('buildCodexPrompt', () => {
  it('names the feature, phase, purpose, tasks with flags and paths, design docs and rules (001-demo phase 1)', async () => {
    const prompt = buildCodexPrompt(inputFor('001-demo.md', '001-demo'));
    await expect(prompt).toMatchFileSnapshot('./__snapshots__/prompt-001-demo-phase-1.txt');
  });

  it('renders a user-story phase with done tasks, bodies and every design document (canonical template)', async () => {
    const input = inputFor('canonical-template.md', '002-photo-albums', {
      designDocs: [
        'quickstart.md',
        'research.md',
        'specs/002-photo-albums/spec.md',
        'data-model.md',
        'plan.md',
        'contracts/',
        'checklists/',
      ],
    });
    await expect(buildCodexPrompt(input)).toMatchFileSnapshot(
      './__snapshots__/prompt-002-photo-albums-phase-1.txt',
    );
  });

  it('renders task bodies and an unnumbered phase without AGENTS.md or design docs', async () => {
    const doc = parseTasks(readFixture('task-bodies.md'));
    const phase = doc.phases[0];
    if (!phase) throw new Error('no phase');
    const input = {
      featureKey: '005-webhook-retries',
      tasksPath: 'specs/005-webhook-retries/tasks.md',
      phase: { ...phase, number: null, title: 'Maintenance / Post-Completion Tasks' },
      tasks: pendingTasks(phase),
      designDocs: [],
      agentsMd: false,
    };
    await expect(buildCodexPrompt(input)).toMatchFileSnapshot(
      './__snapshots__/prompt-webhook-retries-bodies.txt',
    );
  });

  it('asks to implement only this phase and not to edit tasks.md', () => {
    const prompt = buildCodexPrompt(inputFor('001-demo.md', '001-demo'));
    expect(prompt).toContain('Implement only the tasks listed above. Do not start tasks of other phases.');
    expect(prompt).toContain('Do not edit specs/001-demo/tasks.md');
    expect(prompt).toContain('Follow the repository conventions in AGENTS.md');
    expect(prompt).not.toContain('T004');
  });

  it('is deterministic', () => {
    const input = inputFor('canonical-template.md', '002-photo-albums');
    expect(buildCodexPrompt(input)).toBe(
      buildCodexPrompt({ ...input, designDocs: [...input.designDocs].reverse() }),
    );
  });

  it('drops task details first when the phase is too large, and says so', () => {
    const { phase, tasks } = bigPhase(40, 1_500);
    const prompt = buildCodexPrompt({ ...inputFor('001-demo.md', '001-demo'), phase, tasks });
    expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
    expect(prompt).toContain('- T040 [US1] Implement part 40 in `src/part-40.ts`');
    expect(prompt).not.toContain('more task(s) of this phase');
    expect(prompt).toMatch(
      /Note: the details of \d+ task\(s\) were left out to keep this prompt under 32 KB/,
    );
  });

  it('lists the tasks that do not fit and where to read them', () => {
    const { phase, tasks } = bigPhase(400, 10);
    const prompt = buildCodexPrompt({ ...inputFor('001-demo.md', '001-demo'), phase, tasks });
    expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
    const note =
      /Note: this prompt is capped at 32 KB, so (\d+) more task\(s\) of this phase \((T\d+)–T400\) are not listed\. Read them in specs\/001-demo\/tasks\.md, lines (\d+)–410, and implement them too\./.exec(
        prompt,
      );
    expect(note).not.toBeNull();
    const [, count, first, line] = note ?? [];
    expect(Number(count)).toBe(400 - Number(first?.slice(1)) + 1);
    expect(Number(line)).toBe(10 + Number(first?.slice(1)) - 1);
    expect(prompt).toContain('## Rules');
  });

  it('stays under the cap for absurd inputs', () => {
    const { phase, tasks } = bigPhase(3, 10);
    const huge = 'x'.repeat(100_000);
    const prompt = buildCodexPrompt({
      featureKey: huge,
      tasksPath: `${huge}/tasks.md`,
      phase: { ...phase, title: huge, purpose: huge, checkpoint: huge, independentTest: huge },
      tasks,
      designDocs: Array.from({ length: 500 }, (_, index) => `${huge}${index}.md`),
      agentsMd: true,
    });
    expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
  });
});
