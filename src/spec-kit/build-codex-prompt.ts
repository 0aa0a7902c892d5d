// The instructions Codex gets for one phase: which feature and phase, each task
// with its flags, paths and details, the design documents to read, and the
// rules (this phase only, leave tasks.md alone). Deterministic — the same input
// gives the same bytes — and capped, so a huge phase cannot blow the model's
// context: when tasks do not fit, the prompt says which ones to read in tasks.md.

import type { Phase, Task } from './types.ts';

export interface PromptInput {
  /** The feature directory name, e.g. `001-user-auth`. */
  featureKey: string;
  /** Repository path of the tasks file, e.g. `specs/001-user-auth/tasks.md`. */
  tasksPath: string;
  phase: Phase;
  /** The tasks to implement now (usually the phase's pending tasks). */
  tasks: readonly Task[];
  /**
   * Design documents that exist, relative to the feature directory (`spec.md`,
   * `contracts/`) or as repository paths under it (`specs/001-user-auth/plan.md`).
   */
  designDocs: readonly string[];
  /** Whether the repository has an AGENTS.md at its root. */
  agentsMd: boolean;
}

/** The prompt never exceeds this many UTF-8 bytes. */
export const MAX_PROMPT_BYTES = 32_768;

/** Room kept for the truncation note. */
const NOTE_RESERVE = 600;
const MAX_FIELD = 2_000;
const MAX_BODY = 4_000;
const MAX_SHORT_DESCRIPTION = 300;
const MAX_DESIGN_DOCS = 40;

const DESIGN_DOCS: ReadonlyArray<readonly [string, string]> = [
  ['spec.md', 'the feature specification: user stories, requirements, acceptance criteria'],
  ['plan.md', 'the implementation plan: tech stack, project structure, decisions'],
  ['data-model.md', 'entities, fields and relationships'],
  ['research.md', 'technical decisions and their reasons'],
  ['contracts/', 'API and interface contracts'],
  ['quickstart.md', 'how to run and check the feature'],
];

export function buildCodexPrompt(input: PromptInput): string {
  const featureDir = featureDirectory(input.tasksPath);
  const head = renderHead(input, featureDir);
  const tail = renderTail(input, featureDir);
  const budget = MAX_PROMPT_BYTES - byteLength(head) - byteLength(tail) - NOTE_RESERVE;
  const tasks = renderTasks(input, budget);
  const prompt = `${head}${tasks}${tail}`;
  return byteLength(prompt) <= MAX_PROMPT_BYTES ? prompt : hardTruncate(prompt);
}

function renderHead(input: PromptInput, featureDir: string): string {
  const { phase } = input;
  const lines = [
    'You are implementing one phase of a Spec Kit feature in this repository.',
    '',
    `Feature: ${clip(input.featureKey, 200)} (${clip(featureDir, 300)}/)`,
    clip(phaseLabel(phase), 300),
  ];
  if (phase.purpose) lines.push(`Purpose: ${clip(phase.purpose, MAX_FIELD)}`);
  if (phase.independentTest) lines.push(`Independent test: ${clip(phase.independentTest, MAX_FIELD)}`);
  if (phase.checkpoint) lines.push(`Checkpoint: ${clip(phase.checkpoint, MAX_FIELD)}`);
  lines.push('', '## Tasks', '');
  return `${lines.join('\n')}\n`;
}

/**
 * Every task's line comes first (a task Codex never hears of is not done), then
 * the details, in order, while they fit; what does not fit is named in a note.
 */
function renderTasks(input: PromptInput, budget: number): string {
  const { phase, tasks } = input;
  const tasksPath = clip(input.tasksPath, 500);
  const intro = `Implement ${tasks.length === 1 ? 'this task' : `these ${tasks.length} tasks`} from ${tasksPath} (lines ${phase.startLine}–${phase.endLine}):\n\n`;
  const short = tasks.map((task) => renderTask(task, false));
  const full = tasks.map((task) => renderTask(task, true));
  let left = budget - byteLength(intro);
  let listed = 0;
  for (const text of short) {
    if (byteLength(text) > left) break;
    left -= byteLength(text);
    listed++;
  }
  let shortened = 0;
  const rendered = short.slice(0, listed).map((text, index) => {
    const extra = byteLength(full[index] ?? text) - byteLength(text);
    if (extra === 0) return text;
    if (extra > left) {
      shortened++;
      return text;
    }
    left -= extra;
    return full[index] ?? text;
  });
  const notes: string[] = [];
  const omitted = tasks.slice(listed);
  const first = omitted[0];
  const last = omitted[omitted.length - 1];
  if (first && last) {
    const range = first === last ? first.id : `${first.id}–${last.id}`;
    notes.push(
      `Note: this prompt is capped at ${MAX_PROMPT_BYTES / 1024} KB, so ${omitted.length} more task(s) of this ` +
        `phase (${clip(range, 100)}) are not listed. Read them in ${tasksPath}, lines ` +
        `${first.line}–${phase.endLine}, and implement them too.`,
    );
  }
  if (shortened > 0) {
    notes.push(
      `Note: the details of ${shortened} task(s) were left out to keep this prompt under ` +
        `${MAX_PROMPT_BYTES / 1024} KB; read them in ${tasksPath}.`,
    );
  }
  const done = phase.tasks.filter((task) => task.state === 'done').length;
  const legend = [
    '',
    '[P] marks tasks that touch different files and do not depend on each other. [US1], [US2], … name ' +
      'the user story (in spec.md) a task belongs to.',
  ];
  if (done > 0) legend.push(`${done} task(s) of this phase are already done and are not listed.`);
  return `${intro}${rendered.join('')}${[...legend, ...notes].join('\n')}\n`;
}

function renderTask(task: Task, withBody: boolean): string {
  const flags = [
    task.parallel ? '[P]' : '',
    task.story ? `[${task.story}]` : '',
    task.priority ? `[${task.priority}]` : '',
  ]
    .filter((flag) => flag !== '')
    .join(' ');
  const description = withBody
    ? clip(task.description, MAX_FIELD)
    : clip(task.description, MAX_SHORT_DESCRIPTION);
  const lines = [`- ${[task.id, flags, description].filter((part) => part !== '').join(' ')}`];
  if (task.paths.length > 0) {
    lines.push(`  Paths: ${clip(task.paths.map((path) => `\`${path}\``).join(', '), MAX_FIELD)}`);
  }
  if (withBody && task.body) {
    lines.push(
      ...clip(task.body, MAX_BODY)
        .split('\n')
        .map((line) => (line === '' ? '' : `  ${line}`)),
    );
  }
  return `${lines.join('\n')}\n`;
}

function renderTail(input: PromptInput, featureDir: string): string {
  const tasksPath = clip(input.tasksPath, 500);
  const docs = orderDesignDocs(input.designDocs, featureDir).slice(0, MAX_DESIGN_DOCS);
  const lines = ['', '## Context', ''];
  if (docs.length > 0) {
    lines.push('Read these design documents of the feature before you start:');
    for (const doc of docs) lines.push(`- ${clip(doc.path, 300)}${doc.about ? ` — ${doc.about}` : ''}`);
  } else {
    lines.push('The feature has no design documents besides tasks.md; infer the rest from the code.');
  }
  if (input.agentsMd)
    lines.push('', 'Follow the repository conventions in AGENTS.md at the repository root.');
  lines.push(
    '',
    '## Rules',
    '',
    '- Implement only the tasks listed above. Do not start tasks of other phases.',
    `- Do not edit ${tasksPath}: speckit-bot ticks the tasks itself after checking your changes ` +
      'against the files each task names.',
    '- Create or change the files each task names; where a task names none, follow the project ' +
      'structure in plan.md and the existing code.',
    "- Keep to the project's existing style. Run its tests and linters when they exist, and fix what you broke.",
    '- Do not commit, push or switch branches: speckit-bot commits your working tree.',
    '- Finish with a short summary per task ID of what you changed, and name any task you could not ' +
      'complete and why.',
  );
  return `${lines.join('\n')}\n`;
}

function phaseLabel(phase: Phase): string {
  return phase.number === null ? `Phase: ${phase.title}` : `Phase ${phase.number}: ${phase.title}`;
}

/** `specs/001-x/tasks.md` → `specs/001-x`. */
function featureDirectory(tasksPath: string): string {
  const slash = tasksPath.lastIndexOf('/');
  return slash === -1 ? '.' : tasksPath.slice(0, slash);
}

/** Design documents as repository paths, the known ones in Spec Kit's order, the others sorted. */
function orderDesignDocs(
  designDocs: readonly string[],
  featureDir: string,
): Array<{ path: string; about: string | null }> {
  const prefix = featureDir === '.' ? '' : `${featureDir}/`;
  const names = [
    ...new Set(designDocs.map((doc) => (doc.startsWith(prefix) ? doc.slice(prefix.length) : doc))),
  ];
  const rank = (name: string) => {
    const known = DESIGN_DOCS.findIndex(([doc]) => doc.replace(/\/$/, '') === name.replace(/\/$/, ''));
    return known === -1 ? DESIGN_DOCS.length : known;
  };
  return names
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => ({
      path: `${prefix}${name}`,
      about: DESIGN_DOCS.find(([doc]) => doc.replace(/\/$/, '') === name.replace(/\/$/, ''))?.[1] ?? null,
    }));
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never end on the first half of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Last resort for absurd inputs: cut at a character boundary and say so. */
function hardTruncate(prompt: string): string {
  const note = `\n\n[Prompt truncated at ${MAX_PROMPT_BYTES / 1024} KB.]\n`;
  const limit = MAX_PROMPT_BYTES - byteLength(note);
  let size = 0;
  let end = 0;
  for (const char of prompt) {
    const charBytes = byteLength(char);
    if (size + charBytes > limit) break;
    size += charBytes;
    end += char.length;
  }
  return `${prompt.slice(0, end)}${note}`;
}
