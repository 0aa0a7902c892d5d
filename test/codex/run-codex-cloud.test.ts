// The cloud runner against a stub `codex` whose answers are transcripts of 0.169.0
// (sources in fixtures/cloud-transcripts.ts).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  changedPathsFromDiff,
  parseCloudExecOutput,
  parseCloudStatusOutput,
} from '../../src/codex/codex-cloud-output.ts';
import { CodexError } from '../../src/codex/codex-error.ts';
import { type CodexCloudRunOptions, runCodexCloud } from '../../src/codex/run-codex-cloud.ts';
import { isPermanent } from '../../src/errors.ts';
import {
  DIFF,
  DIFF_NONE,
  EXEC_URL,
  NOT_SIGNED_IN,
  STATUS_ERROR,
  STATUS_PENDING,
  STATUS_READY,
  STATUS_READY_NO_DIFF,
  TASK_ID,
  UNRECOGNISED_EXEC,
  UNRECOGNISED_STATUS,
} from './fixtures/cloud-transcripts.ts';
import { type CodexStub, createCodexStub } from './fixtures/codex-stub.ts';

let stub: CodexStub | undefined;
let dir: string | undefined;

afterEach(async () => {
  await stub?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
  stub = undefined;
  dir = undefined;
});

async function setUp(answers: Parameters<typeof createCodexStub>[0]) {
  stub = await createCodexStub(answers);
  dir = await mkdtemp(join(tmpdir(), 'speckit-cloud-'));
  return stub;
}

function options(extra: Partial<CodexCloudRunOptions> = {}): CodexCloudRunOptions {
  return {
    codexBin: (stub as CodexStub).bin,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir as string, CODEX_HOME: dir as string },
    envId: 'env_demo',
    branch: 'master',
    prompt: '--- Implement Phase 1: Setup',
    logPath: join(dir as string, 'codex-cloud.jsonl'),
    timeoutMs: 10_000,
    pollIntervalMs: 20,
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<CodexError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CodexError);
    return error as CodexError;
  }
  throw new Error('expected the cloud runner to fail');
}

describe('parsing what codex cloud prints', () => {
  it('takes the task id from the last segment of the task URL', () => {
    expect(parseCloudExecOutput(EXEC_URL.stdout as string)).toEqual({
      taskId: TASK_ID,
      url: `https://chatgpt.com/codex/tasks/${TASK_ID}`,
    });
    expect(parseCloudExecOutput(UNRECOGNISED_EXEC.stdout as string)).toBeNull();
    expect(parseCloudExecOutput('')).toBeNull();
    expect(parseCloudExecOutput('https://chatgpt.com/codex/\n')).toBeNull();
  });

  it('reads the status label, the title and the diff summary, with or without colour', () => {
    expect(parseCloudStatusOutput(STATUS_READY.stdout as string)).toEqual({
      state: 'ready',
      title: 'Implement Phase 1: Setup of 001-demo',
      diffSummary: '+2/-1 • 2 files',
      noDiff: false,
    });
    expect(parseCloudStatusOutput(STATUS_PENDING.stdout as string)?.state).toBe('pending');
    expect(parseCloudStatusOutput(STATUS_ERROR.stdout as string)?.state).toBe('error');
    expect(parseCloudStatusOutput(STATUS_READY_NO_DIFF.stdout as string)?.noDiff).toBe(true);
    expect(
      parseCloudStatusOutput('[\u001b[32mREADY\u001b[0m] t\nenv  •  1s ago\n+1/-0 • 1 file\n')?.state,
    ).toBe('ready');
    expect(parseCloudStatusOutput(UNRECOGNISED_STATUS.stdout as string)).toBeNull();
  });

  it('lists the files a diff touches', () => {
    expect(changedPathsFromDiff(DIFF.stdout as string)).toEqual(['README.md', 'src/hello.txt']);
    expect(changedPathsFromDiff('--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n')).toEqual(['gone.txt']);
  });
});

describe('runCodexCloud with a stub codex', () => {
  it('submits the task, stores its id first, polls with backoff until ready and returns the diff', async () => {
    const s = await setUp({
      exec: [EXEC_URL],
      status: [STATUS_PENDING, STATUS_PENDING, STATUS_READY],
      diff: [DIFF],
    });
    const events: string[] = [];

    const result = await runCodexCloud(
      options({
        onSubmitted: async (id) => {
          events.push(`submitted ${id}`);
          // Stored before anything else: no status call has happened yet.
          expect((await s.calls()).map((c) => c[1])).toEqual(['exec']);
        },
        onStatus: (status) => events.push(status.state),
      }),
    );

    expect(result).toMatchObject({
      taskId: TASK_ID,
      url: `https://chatgpt.com/codex/tasks/${TASK_ID}`,
      resumed: false,
      polls: 3,
      changedPaths: ['README.md', 'src/hello.txt'],
    });
    expect(result.patch).toBe(DIFF.stdout);
    expect(events).toEqual([`submitted ${TASK_ID}`, 'pending', 'pending', 'ready']);
    const calls = await s.calls();
    // `codex cloud exec --env <id> [--branch <base>] <prompt>` (usage from `codex cloud exec --help`);
    // the prompt follows `--`, so one starting with '-' is not read as a flag.
    expect(calls[0]).toEqual([
      'cloud',
      'exec',
      '--env',
      'env_demo',
      '--branch',
      'master',
      '--',
      '--- Implement Phase 1: Setup',
    ]);
    expect(calls.slice(1)).toEqual([
      ['cloud', 'status', TASK_ID],
      ['cloud', 'status', TASK_ID],
      ['cloud', 'status', TASK_ID],
      ['cloud', 'diff', TASK_ID],
    ]);
    // The transcript artifact: one JSON line per call, without the prompt.
    const log = (await readFile(options().logPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log).toHaveLength(5);
    expect(log[0].args).toEqual([
      'cloud',
      'exec',
      '--env',
      'env_demo',
      '--branch',
      'master',
      '--',
      '<prompt>',
    ]);
    expect(log[3]).toMatchObject({ exitCode: 0, stdout: STATUS_READY.stdout });
  });

  it('resumes polling a stored task without a second cloud exec', async () => {
    const s = await setUp({ status: [STATUS_READY], diff: [DIFF] });
    let submitted = false;

    const result = await runCodexCloud(
      options({
        taskId: TASK_ID,
        onSubmitted: async () => {
          submitted = true;
        },
      }),
    );

    expect(result.resumed).toBe(true);
    expect(submitted).toBe(false);
    expect((await s.calls()).map((c) => c[1])).toEqual(['status', 'diff']);
  });

  it('fails permanently, quoting the status, when the cloud task failed', async () => {
    await setUp({ exec: [EXEC_URL], status: [STATUS_PENDING, STATUS_ERROR] });

    const error = await failure(runCodexCloud(options()));

    expect(error.code).toBe('codex_cloud_failed');
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toContain(`Codex Cloud task ${TASK_ID} failed`);
    expect(error.message).toContain('[ERROR] Implement Phase 1: Setup of 001-demo');
  });

  it('times out with a retryable error that says polling resumes the same task', async () => {
    await setUp({ exec: [EXEC_URL], status: [STATUS_PENDING] });
    const started = Date.now();

    const error = await failure(runCodexCloud(options({ timeoutMs: 300 })));

    expect(error.code).toBe('codex_timeout');
    expect(isPermanent(error)).toBe(false);
    expect(error.message).toContain(`Codex Cloud task ${TASK_ID} was not ready within 0 s`);
    expect(error.message).toContain('[PENDING] Implement Phase 1');
    expect(error.message).toContain('resumes polling');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails with the text quoted when cloud exec prints something else than a task URL', async () => {
    const s = await setUp({ exec: [UNRECOGNISED_EXEC] });
    let submitted = false;

    const error = await failure(
      runCodexCloud(
        options({
          onSubmitted: async () => {
            submitted = true;
          },
        }),
      ),
    );

    expect(error.code).toBe('codex_cloud_unrecognized');
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toContain('`codex cloud exec` printed output the runner does not recognise');
    expect(error.message).toContain('"Task created: 6849a0b8 (view it in Codex Cloud)"');
    expect(submitted).toBe(false);
    expect(await s.calls()).toHaveLength(1);
  });

  it('fails with the text quoted when cloud status prints something it does not know', async () => {
    await setUp({ exec: [EXEC_URL], status: [UNRECOGNISED_STATUS] });

    const error = await failure(runCodexCloud(options()));

    expect(error.code).toBe('codex_cloud_unrecognized');
    expect(error.message).toContain(
      `\`codex cloud status ${TASK_ID}\` printed output the runner does not recognise`,
    );
    expect(error.message).toContain('"state":"in_progress"');
  });

  it('fails with the text quoted when cloud diff prints no diff', async () => {
    await setUp({
      exec: [EXEC_URL],
      status: [STATUS_READY],
      diff: [{ stdout: 'Applied 2 files.\n', exitCode: 0 }],
    });

    const error = await failure(runCodexCloud(options()));

    expect(error.code).toBe('codex_cloud_unrecognized');
    expect(error.message).toContain('"Applied 2 files."');
  });

  it('returns an empty patch for a ready task without a diff', async () => {
    const s = await setUp({ exec: [EXEC_URL], status: [STATUS_READY_NO_DIFF] });
    const result = await runCodexCloud(options());
    expect(result).toMatchObject({ patch: '', changedPaths: [] });
    expect((await s.calls()).map((c) => c[1])).toEqual(['exec', 'status']);

    await s.answer('status', [STATUS_READY]);
    await s.answer('diff', [DIFF_NONE]);
    expect(await runCodexCloud(options({ taskId: TASK_ID }))).toMatchObject({ patch: '', changedPaths: [] });
  });

  it('fails permanently with the login remedy when the CLI has no ChatGPT login', async () => {
    await setUp({ exec: [NOT_SIGNED_IN] });

    const error = await failure(runCodexCloud(options()));

    expect(error.code).toBe('codex_auth');
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toContain("Not signed in. Please run 'codex login'");
    expect(error.message).toContain('an API key is not enough');
  });

  it('tolerates a passing CLI error while polling, and fails retryably when it persists', async () => {
    const blip = {
      stderr: 'Error: error sending request for url (https://chatgpt.com/backend-api/wham/tasks)\n',
      exitCode: 1,
    };
    await setUp({ exec: [EXEC_URL], status: [blip, STATUS_READY], diff: [DIFF] });
    expect((await runCodexCloud(options())).polls).toBe(2);

    await (stub as CodexStub).answer('status', [blip]);
    const error = await failure(runCodexCloud(options({ taskId: TASK_ID })));
    expect(error.code).toBe('codex_failed');
    expect(error.message).toContain('failed 3 times in a row');
    expect(error.message).toContain('error sending request');
  });

  it('stops polling when cancelled', async () => {
    await setUp({ exec: [EXEC_URL], status: [STATUS_PENDING] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);

    const error = await failure(runCodexCloud(options({ pollIntervalMs: 5000, signal: controller.signal })));

    expect(error.code).toBe('cancelled');
    expect(error.message).toContain(`task ${TASK_ID} may still be running`);
  });
});
