// codex: let Codex implement the phase — locally (`codex exec` in a fresh clone) or on
// Codex Cloud (a task whose diff is fetched) — keep its log as an artifact, and store the
// resulting diff in the database for the apply step (which may run on another machine).
//
// Before anything else the step checks the credentials it needs (GitHub token, Codex login
// or cloud environment) and records them in workflow_credential_audit; a missing one fails
// the step at once with the fix, and a retry without the fix fails at once again.
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildCodexEnv } from '../../codex/codex-env.ts';
import { CodexError } from '../../codex/codex-error.ts';
import type { CodexUsage } from '../../codex/codex-events.ts';
import { checkCodexCredentials } from '../../codex/codex-preflight.ts';
import {
  type CodexMode,
  type CodexRunnerOutput,
  cloudCodexRunner,
  isCodexMode,
  localCodexRunner,
} from '../../codex/codex-runner.ts';
import { resolveCodexBin } from '../../codex/resolve-codex-bin.ts';
import { assertUserCanUse, chownTree, type RunAsUser, resolveRunAs } from '../../codex/run-as.ts';
import { ConfigError, errorMessage, NonRetryableError } from '../../errors.ts';
import { diffWorkingTree } from '../../git/workspace.ts';
import { buildCodexPrompt } from '../../spec-kit/build-codex-prompt.ts';
import { findNextPhase, pendingTasks } from '../../spec-kit/find-next-phase.ts';
import { parseTasks } from '../../spec-kit/parse-tasks.ts';
import type { Run, StepOutcome } from '../runs.ts';
import type { StepContext, StepHandler } from '../step-context.ts';
import { tasksPath } from './discover.ts';
import { type DiscoverOutput, loadDiscoverOutput } from './discover-output.ts';
import { describeFailure, runWorkspaceCommands } from './workspace-commands.ts';
import { gitAuth, handedOffOrCloned } from './workspace-source.ts';

const DESIGN_DOCS = ['spec.md', 'plan.md', 'data-model.md', 'research.md', 'contracts', 'quickstart.md'];

/** What the Codex step runs with, beyond the run itself. */
export interface CodexStepInput {
  /** `local` (codex exec in a clone) or `cloud` (a Codex Cloud task). */
  mode: CodexMode;
  /** The Codex Cloud environment id (cloud mode). */
  cloudEnv: string | undefined;
}

export type CodexStepInputResolver = (run: Run, ctx: StepContext) => Promise<CodexStepInput>;

/**
 * The mode a stored trigger asks for: its `codexMode` field when the intake stored one,
 * else a `--cloud`/`--local` word on the `/speckit run` line of a comment; null for none.
 */
export function codexModeFromTrigger(trigger: unknown): CodexMode | null {
  if (!trigger || typeof trigger !== 'object') return null;
  const fields = trigger as Record<string, unknown>;
  if (isCodexMode(fields.codexMode)) return fields.codexMode;
  if (typeof fields.body !== 'string') return null;
  const words = (fields.body.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '').trim().split(/\s+/);
  if (words[0] !== '/speckit' || words[1] !== 'run') return null;
  const cloud = words.includes('--cloud');
  const local = words.includes('--local');
  if (cloud === local) return null;
  return cloud ? 'cloud' : 'local';
}

/** The default input: the run's stored trigger decides the mode when it asks, else CODEX_MODE. */
export const codexStepInputFromRun: CodexStepInputResolver = async (run, ctx) => {
  const delivery = run.triggerDeliveryId
    ? await ctx.prisma.webhookDelivery.findUnique({
        where: { id: run.triggerDeliveryId },
        select: { trigger: true },
      })
    : null;
  // The command's flag wins, then the repository's .github/speckit.yml, then the server's CODEX_MODE.
  const repoConfig = (await loadDiscoverOutput(ctx, run.id)).repoConfig;
  return {
    mode: codexModeFromTrigger(delivery?.trigger) ?? repoConfig?.codexMode ?? ctx.config.codex.mode,
    cloudEnv: repoConfig?.cloudEnv ?? ctx.config.codex.cloudEnv,
  };
};

/** "Codex used 440 tokens (400 input, 100 of them cached; 40 output, 0 of them reasoning)." */
export function formatUsage(usage: CodexUsage | null): string | null {
  if (!usage) return null;
  return (
    `Codex used ${usage.totalTokens} tokens (${usage.inputTokens} input, ${usage.cachedInputTokens} of them cached; ` +
    `${usage.outputTokens} output, ${usage.reasoningTokens} of them reasoning).`
  );
}

function quoteMessage(message: string): string {
  return `> ${message.trim().split('\n').join('\n> ')}`;
}

function joinParagraphs(...parts: (string | null | undefined)[]): string {
  return parts.filter((part): part is string => Boolean(part)).join('\n\n');
}

/**
 * Codex keeps sessions and logs in CODEX_HOME: one it cannot write fails every
 * attempt alike ("Permission denied"), so say so at once instead of retrying.
 * Root may write anything; a home that does not exist yet Codex creates.
 */
async function assertWorkerCanWriteCodexHome(home: string): Promise<void> {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined || uid === 0 || !existsSync(home)) return;
  await assertUserCanUse(home, { uid, gid, spec: String(uid) }, 'CODEX_HOME', { writable: true, self: true });
}

/** CODEX_RUN_AS resolved for this worker, or undefined when Codex runs as the worker's user. */
function runAsUser(ctx: StepContext): RunAsUser | undefined {
  const spec = ctx.config.codex.runAs;
  if (!spec) return undefined;
  const user = resolveRunAs(spec);
  const self = process.getuid?.();
  if (self === user.uid) return undefined;
  if (self !== 0) {
    throw new ConfigError(
      `CODEX_RUN_AS=${spec} needs the worker to run as root (it runs as uid ${self ?? 'unknown'}); ` +
        'start the worker as root, or unset CODEX_RUN_AS.',
      { code: 'codex_run_as_invalid' },
    );
  }
  return user;
}

export function createCodexStep(resolveInput: CodexStepInputResolver = codexStepInputFromRun): StepHandler {
  return async (run, ctx) => {
    const input = await resolveInput(run, ctx);
    const discovered = await loadDiscoverOutput(ctx, run.id);
    const codexBin = ctx.config.codex.bin ?? resolveCodexBin();
    const runAs = input.mode === 'local' ? runAsUser(ctx) : undefined;
    if (runAs) await assertUserCanUse(ctx.config.codex.home, runAs, 'CODEX_HOME', { writable: true });
    else if (input.mode === 'local') await assertWorkerCanWriteCodexHome(ctx.config.codex.home);
    const childHome = path.join(ctx.workspaceDir, '..', `${path.basename(ctx.workspaceDir)}-home`);
    const childTmp = path.join(childHome, 'tmp');
    await mkdir(childTmp, { recursive: true });
    const env = buildCodexEnv(ctx.config.codex.childEnv, {
      codexHome: ctx.config.codex.home,
      home: childHome,
      tmpDir: childTmp,
      passthrough: ctx.config.codex.passthrough,
    });

    // Preflight: both credentials are checked and recorded, then a missing one fails the step.
    let githubError: unknown = null;
    const auth = await gitAuth(run, ctx).catch((error: unknown) => {
      githubError = error;
      return null;
    });
    const check = await checkCodexCredentials({
      mode: input.mode,
      codexBin,
      env,
      cloudEnv: input.cloudEnv,
      ...(runAs ? { runAs } : {}),
    });
    await ctx.prisma.workflowCredentialAudit.create({
      data: {
        runId: run.id,
        githubStatus: githubError ? 'error' : 'ok',
        codexStatus: check.status,
        notes: joinParagraphs(
          `codex attempt ${ctx.attempt}, mode ${input.mode}${runAs ? `, as ${runAs.spec}` : ''}: ${check.notes}`,
          githubError ? `github: ${errorMessage(githubError)}` : null,
        ),
      },
    });
    if (githubError || !auth) throw githubError;
    if (!check.ok) {
      throw new CodexError(`Codex cannot run: ${check.notes}. ${check.remedy ?? ''}`.trim(), {
        code: 'codex_credentials_missing',
      });
    }

    // At the commit discover read (and brought up to date): discover's own
    // workspace when it ran here, else from this machine's mirror without a
    // fetch when it already holds that commit.
    const { head: startSha, handedOff } = await handedOffOrCloned(run, ctx, 'discover', {
      branch: discovered.sourceBranch,
      at: discovered.baseSha,
      auth,
    });
    const relative = discovered.tasksPath ?? tasksPath(run.featureKey);
    const featureDir = path.join(ctx.workspaceDir, path.dirname(relative));
    const doc = parseTasks(await readFile(path.join(ctx.workspaceDir, relative), 'utf8'));
    const phase =
      doc.phases.find((p) => p.number === discovered.phase.number && p.title === discovered.phase.title) ??
      findNextPhase(doc);
    if (!phase)
      throw new NonRetryableError(
        `The phase chosen by discover is no longer in ${relative}; start a new run.`,
      );
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
    await writeFile(path.join(ctx.artifacts.dir, 'prompt.md'), prompt);

    try {
      if (input.mode === 'cloud') {
        return await runCloud(run, ctx, { codexBin, env, prompt, startSha, input, discovered });
      }
      const model = discovered.repoConfig?.codexModel ?? ctx.config.codex.model;
      const commands = {
        setup: discovered.repoConfig?.setup ?? [],
        verify: discovered.repoConfig?.verify ?? [],
        onVerifyFailure: discovered.repoConfig?.onVerifyFailure ?? 'fail',
      };
      const startedFrom = handedOff ? 'discover' : 'clone';
      return await runLocal(run, ctx, {
        codexBin,
        model,
        commands,
        env,
        prompt,
        startSha,
        startedFrom,
        runAs,
        childHome,
      });
    } finally {
      await rm(childHome, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

export const codexStep: StepHandler = createCodexStep();

interface LocalRun {
  codexBin: string;
  /** The repository's setup and verify commands (.github/speckit.yml). */
  commands: { setup: readonly string[]; verify: readonly string[]; onVerifyFailure: 'fail' | 'warn' };
  /** The repository's model (.github/speckit.yml), else CODEX_MODEL; unset keeps config.toml's. */
  model: string | undefined;
  env: Record<string, string>;
  prompt: string;
  startSha: string;
  /** Whether the workspace is discover's own (handed off on this machine) or a clone. */
  startedFrom: 'discover' | 'clone';
  runAs: RunAsUser | undefined;
  childHome: string;
}

async function runLocal(run: Run, ctx: StepContext, params: LocalRun): Promise<StepOutcome> {
  const { runAs } = params;
  const cwd = ctx.workspaceDir;
  const logPath = path.join(ctx.artifacts.dir, 'codex.jsonl');
  const lastMessagePath = path.join(ctx.artifacts.dir, 'last-message.txt');
  const gitConfigPath = path.join(cwd, '.git', 'config');
  const gitConfig = await readFile(gitConfigPath);
  if (runAs) {
    await assertUserCanUse(cwd, runAs, 'the workspace');
    await assertUserCanUse(ctx.artifacts.dir, runAs, 'the artifact directory');
    await chownTree(cwd, runAs.uid, runAs.gid);
    await chownTree(params.childHome, runAs.uid, runAs.gid);
  }
  const runner = localCodexRunner({
    codexBin: params.codexBin,
    env: params.env,
    ...(params.model ? { model: params.model } : {}),
    logPath,
    lastMessagePath,
    timeoutMs: ctx.config.codex.timeoutMs,
    idleTimeoutMs: ctx.config.codex.idleTimeoutMs,
    ...(runAs ? { runAs } : {}),
    ...(ctx.config.codex.maxTokens !== undefined ? { maxTokens: ctx.config.codex.maxTokens } : {}),
  });
  let result: CodexRunnerOutput | null = null;
  let capped: CodexError | null = null;
  const commandOptions = { cwd, env: params.env, runAs, timeoutMs: ctx.config.codex.timeoutMs };
  try {
    const setup = await runWorkspaceCommands(ctx, 'setup', params.commands.setup, commandOptions);
    if (setup.failure) throw new NonRetryableError(describeFailure('setup', setup.failure));
    result = await runner.run({ prompt: params.prompt, cwd, signal: ctx.signal });
  } catch (error) {
    if (!(error instanceof CodexError && error.code === 'codex_token_cap')) throw error;
    capped = error;
  } finally {
    // Back to the app's user: the git commands of this and later steps refuse a tree owned
    // by someone else ("dubious ownership").
    if (runAs) await chownTree(cwd, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    await restoreGitConfig(cwd, gitConfig);
    if (existsSync(logPath)) await ctx.artifacts.record('codex_logs', logPath);
  }

  // restoreGitConfig made sure .git is still the clone's own directory.
  const diff = await diffWorkingTree(cwd, path.join(cwd, '.git'));
  const patchPath = path.join(ctx.artifacts.dir, 'codex.patch');
  if (diff.changedPaths.length > 0) {
    await writeFile(patchPath, diff.patch);
    await ctx.artifacts.record('codex_patch', patchPath);
  }
  if (capped) {
    // Kept for review, not applied: a capped run is an unfinished phase.
    // The attempt fails (its row holds the error); the partial patch and the usage are
    // stored as the codex step's output so that they can be reviewed through the API.
    const data = localOutput(params, {
      threadId: capped.details.threadId,
      lastMessage: null,
      usage: capped.details.usage,
      changedPaths: diff.changedPaths,
      partial: true,
    });
    const patch = diff.patch || null;
    await ctx.prisma.stepOutput.upsert({
      where: { runId_step: { runId: run.id, step: 'codex' } },
      create: { runId: run.id, step: 'codex', data, patch },
      update: { data, patch },
    });
    const kept =
      diff.changedPaths.length > 0
        ? ` Its partial diff (${diff.changedPaths.length} file${diff.changedPaths.length === 1 ? '' : 's'}) is kept as the codex.patch artifact and was not applied.`
        : ' It had changed no file yet.';
    throw new CodexError(`${capped.message}${kept}`, { code: 'codex_token_cap', details: capped.details });
  }

  const ran = result as CodexRunnerOutput;
  const verified = await verifyChanges(ctx, params, commandOptions, diff.changedPaths.length > 0);
  const output = localOutput(params, {
    threadId: ran.id,
    lastMessage: ran.lastMessage,
    usage: ran.usage,
    changedPaths: diff.changedPaths,
    partial: false,
  });
  const usageLine = formatUsage(ran.usage);
  if (diff.changedPaths.length === 0) {
    return {
      result: {
        kind: 'finish',
        conclusion: 'neutral',
        summary: joinParagraphs(
          'Codex made no changes.',
          ran.lastMessage ? quoteMessage(ran.lastMessage) : null,
          usageLine,
        ),
      },
      output,
      runUpdate: { codexThreadId: ran.id },
    };
  }
  return {
    result: { kind: 'continue' },
    output,
    patch: diff.patch,
    runUpdate: {
      codexThreadId: ran.id,
      ...(usageLine || verified ? { summary: joinParagraphs(verified, usageLine) } : {}),
    },
  };
}

/**
 * Runs the repository's verify commands on Codex's result (after the diff was
 * taken, so what they build never enters the patch). A failure fails the step
 * or, with `on_verify_failure: warn`, becomes a warning in the summary.
 */
async function verifyChanges(
  ctx: StepContext,
  params: LocalRun,
  options: Parameters<typeof runWorkspaceCommands>[3],
  changed: boolean,
): Promise<string | null> {
  if (!changed || params.commands.verify.length === 0) return null;
  if (options.runAs) await chownTree(options.cwd, options.runAs.uid, options.runAs.gid);
  try {
    const verify = await runWorkspaceCommands(ctx, 'verify', params.commands.verify, options);
    if (!verify.failure) return `Verify passed: ${params.commands.verify.map((c) => `\`${c}\``).join(', ')}.`;
    const message = describeFailure('verify', verify.failure);
    if (params.commands.onVerifyFailure === 'fail') {
      throw new NonRetryableError(`${message}\n\nThe Codex patch is kept as the run's codex.patch artifact.`);
    }
    return `⚠️ ${message}`;
  } finally {
    if (options.runAs) await chownTree(options.cwd, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  }
}

function localOutput(
  params: LocalRun,
  fields: {
    threadId: string | null;
    lastMessage: string | null;
    usage: CodexUsage | null;
    changedPaths: string[];
    partial: boolean;
  },
) {
  return {
    mode: 'local',
    startSha: params.startSha,
    startedFrom: params.startedFrom,
    threadId: fields.threadId,
    lastMessage: fields.lastMessage,
    usage: fields.usage as unknown as Record<string, number> | null,
    changedPaths: fields.changedPaths,
    ...(fields.partial ? { partial: true } : {}),
    ...(params.runAs ? { runAs: params.runAs.spec } : {}),
  };
}

/**
 * Puts back the clone's .git/config as it was before Codex ran: Codex has no business
 * configuring git, and a filter or diff driver it added would run as the app's user in the
 * next git command. The file is replaced, never written through (it may have become a link).
 */
async function restoreGitConfig(cwd: string, content: Buffer): Promise<void> {
  const gitDir = path.join(cwd, '.git');
  const info = await lstat(gitDir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new NonRetryableError(
      "Codex replaced the clone's .git directory; its changes are not trusted. Run the phase again.",
    );
  }
  const file = path.join(gitDir, 'config');
  const current = await lstat(file).catch(() => null);
  if (current?.isFile() && (await readFile(file)).equals(content)) return;
  await rm(file, { force: true });
  await writeFile(file, content, { flag: 'wx' });
}

interface CloudRun {
  codexBin: string;
  env: Record<string, string>;
  prompt: string;
  startSha: string;
  input: CodexStepInput;
  discovered: DiscoverOutput;
}

async function runCloud(run: Run, ctx: StepContext, params: CloudRun): Promise<StepOutcome> {
  const logPath = path.join(ctx.artifacts.dir, 'codex-cloud.jsonl');
  // A task an earlier attempt submitted (stored before it polled): resume it, never submit again.
  const stored = await ctx.prisma.specWorkflowRun.findUnique({
    where: { id: run.id },
    select: { codexThreadId: true },
  });
  const previousTask = stored?.codexThreadId ?? null;
  let taskId = previousTask;
  const runner = cloudCodexRunner({
    codexBin: params.codexBin,
    env: params.env,
    envId: params.input.cloudEnv ?? '',
    branch: params.discovered.sourceBranch,
    taskId: previousTask,
    onSubmitted: async (id) => {
      taskId = id;
      await ctx.prisma.specWorkflowRun.update({ where: { id: run.id }, data: { codexThreadId: id } });
    },
    logPath,
    timeoutMs: ctx.config.codex.timeoutMs,
    pollIntervalMs: ctx.config.codex.cloudPollMs,
  });
  let result: CodexRunnerOutput;
  try {
    result = await runner.run({ prompt: params.prompt, cwd: ctx.workspaceDir, signal: ctx.signal });
  } catch (error) {
    // A task that ended in error is over: a new run of the phase submits a new one.
    if (error instanceof CodexError && error.code === 'codex_cloud_failed' && taskId) {
      await ctx.prisma.specWorkflowRun.update({ where: { id: run.id }, data: { codexThreadId: null } });
    }
    throw error;
  } finally {
    if (existsSync(logPath)) await ctx.artifacts.record('codex_logs', logPath);
  }
  const cloud = result.cloud;
  const output = {
    mode: 'cloud',
    startSha: params.startSha,
    taskId: result.id,
    taskUrl: cloud?.url ?? null,
    resumed: cloud?.resumed ?? false,
    status: cloud ? `[${cloud.status.state.toUpperCase()}] ${cloud.status.title}` : null,
    diffSummary: cloud?.status.diffSummary ?? null,
    lastMessage: result.lastMessage,
    usage: null,
    changedPaths: result.changedPaths,
  };
  const patch = result.patch ?? '';
  if (result.changedPaths.length === 0 || patch.trim() === '') {
    return {
      result: {
        kind: 'finish',
        conclusion: 'neutral',
        summary: joinParagraphs(
          `Codex made no changes (Codex Cloud task ${result.id}).`,
          result.lastMessage ? quoteMessage(result.lastMessage) : null,
        ),
      },
      output: { ...output, changedPaths: [] },
      runUpdate: { codexThreadId: result.id },
    };
  }
  const patchPath = path.join(ctx.artifacts.dir, 'codex.patch');
  await writeFile(patchPath, patch);
  await ctx.artifacts.record('codex_patch', patchPath);
  return {
    result: { kind: 'continue' },
    output,
    patch,
    runUpdate: {
      codexThreadId: result.id,
      summary: `Codex Cloud task ${result.id}: ${cloud?.status.diffSummary ?? 'ready'}.`,
    },
  };
}
