// codex: let the Codex CLI implement the phase in a fresh clone, keep its
// JSONL log as an artifact, and store the resulting diff in the database for
// the apply step (which may run on another machine).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { buildCodexEnv } from '../../codex/codex-env.ts';
import { resolveCodexBin } from '../../codex/resolve-codex-bin.ts';
import { runCodex } from '../../codex/run-codex.ts';
import { NonRetryableError } from '../../errors.ts';
import { cloneRepository, diffWorkingTree, headSha } from '../../git/workspace.ts';
import { buildCodexPrompt } from '../../spec-kit/build-codex-prompt.ts';
import { findNextPhase, pendingTasks } from '../../spec-kit/find-next-phase.ts';
import { parseTasks } from '../../spec-kit/parse-tasks.ts';
import { loadStepOutput } from '../runs.ts';
import type { StepContext, StepHandler } from '../step-context.ts';
import { tasksPath } from './discover.ts';
import { gitAuth } from './workspace-source.ts';

export const discoverOutput = z.object({
  sourceBranch: z.string(),
  continuing: z.boolean(),
  baseSha: z.string(),
  phase: z.object({ number: z.string().nullable(), title: z.string() }),
  taskIds: z.array(z.string()),
});
export type DiscoverOutput = z.infer<typeof discoverOutput>;

const DESIGN_DOCS = ['spec.md', 'plan.md', 'data-model.md', 'research.md', 'contracts', 'quickstart.md'];

export async function loadDiscoverOutput(ctx: StepContext, runId: string): Promise<DiscoverOutput> {
  const stored = await loadStepOutput(ctx.prisma, runId, 'discover');
  const parsed = discoverOutput.safeParse(stored?.data);
  if (!parsed.success)
    throw new NonRetryableError(`run ${runId} has no stored discover output; start a new run`);
  return parsed.data;
}

export const codexStep: StepHandler = async (run, ctx) => {
  const discovered = await loadDiscoverOutput(ctx, run.id);
  const auth = await gitAuth(run, ctx);
  await cloneRepository({
    cloneUrl: run.cloneUrl,
    dir: ctx.workspaceDir,
    branch: discovered.sourceBranch,
    auth,
  });
  const startSha = await headSha(ctx.workspaceDir);
  const relative = tasksPath(run.featureKey);
  const featureDir = path.join(ctx.workspaceDir, path.dirname(relative));
  const doc = parseTasks(await readFile(path.join(ctx.workspaceDir, relative), 'utf8'));
  const phase =
    doc.phases.find((p) => p.number === discovered.phase.number && p.title === discovered.phase.title) ??
    findNextPhase(doc);
  if (!phase)
    throw new NonRetryableError(`The phase chosen by discover is no longer in ${relative}; start a new run.`);
  const tasks = pendingTasks(phase).filter((task) => discovered.taskIds.includes(task.id));
  const prompt = buildCodexPrompt({
    featureKey: run.featureKey,
    tasksPath: relative,
    phase,
    tasks,
    designDocs: DESIGN_DOCS.filter((name) => existsSync(path.join(featureDir, name))).map(
      (name) => `${path.dirname(relative)}/${name}`,
    ),
    agentsMd: existsSync(path.join(ctx.workspaceDir, 'AGENTS.md')),
  });
  const logPath = path.join(ctx.artifacts.dir, 'codex.jsonl');
  const lastMessagePath = path.join(ctx.artifacts.dir, 'last-message.txt');
  const childHome = path.join(ctx.workspaceDir, '..', `${path.basename(ctx.workspaceDir)}-home`);
  await mkdir(childHome, { recursive: true });
  await writeFile(path.join(ctx.artifacts.dir, 'prompt.md'), prompt);
  let result: Awaited<ReturnType<typeof runCodex>>;
  try {
    result = await runCodex({
      codexBin: ctx.config.codex.bin ?? resolveCodexBin(),
      cwd: ctx.workspaceDir,
      prompt,
      env: buildCodexEnv(ctx.config.codex.childEnv, {
        codexHome: ctx.config.codex.home,
        home: childHome,
        passthrough: ctx.config.codex.passthrough,
      }),
      ...(ctx.config.codex.model ? { model: ctx.config.codex.model } : {}),
      logPath,
      lastMessagePath,
      timeoutMs: ctx.config.codex.timeoutMs,
      idleTimeoutMs: ctx.config.codex.idleTimeoutMs,
      signal: ctx.signal,
    });
  } finally {
    if (existsSync(logPath)) await ctx.artifacts.record('codex_logs', logPath);
  }
  const diff = await diffWorkingTree(ctx.workspaceDir);
  const output = {
    startSha,
    threadId: result.threadId,
    lastMessage: result.lastMessage,
    usage: result.usage,
    changedPaths: diff.changedPaths,
  };
  if (diff.changedPaths.length === 0) {
    return {
      result: {
        kind: 'finish',
        conclusion: 'neutral',
        summary: `Codex made no changes.${result.lastMessage ? `\n\n> ${result.lastMessage.split('\n').join('\n> ')}` : ''}`,
      },
      output,
      runUpdate: { codexThreadId: result.threadId },
    };
  }
  const patchPath = path.join(ctx.artifacts.dir, 'codex.patch');
  await writeFile(patchPath, diff.patch);
  await ctx.artifacts.record('codex_patch', patchPath);
  return {
    result: { kind: 'continue' },
    output,
    patch: diff.patch,
    runUpdate: { codexThreadId: result.threadId },
  };
};
