// What .github/speckit.yml decides when a trigger becomes a run: the branch
// (`branch_prefix`), whether the run goes on after a success (`auto_continue`)
// and the installation's run limits (`limits`) — for comments, the label, the
// check run's buttons, `--all` continuation and the API. Through
// probot.receive() with GitHub's example payloads and the intake's admission.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continuationDeliveryId, continueAfterSuccess } from '../../src/chain/next-phase.ts';
import { createRunCommands } from '../../src/chain/run-commands.ts';
import { runTriggerOptions } from '../../src/chain/trigger-options.ts';
import { DEMO_TASKS } from '../fixtures/demo-repo.ts';
import { removeTempDirs } from '../support/git-fixtures.ts';
import {
  type ControlHarness,
  checkRunEvent,
  commentAndAdmit,
  FULL_NAME,
  insertRun,
  labeledEvent,
  lastComment,
  settleActiveRuns,
  startControlHarness,
} from './support.ts';

const INSTALLATION_ID = 712;
let h: ControlHarness;
/** The default branch's .github/speckit.yml; each change is a new commit (the loader caches per commit). */
let configFile: string | null = null;
let commit = 0;

function setConfig(text: string | null): void {
  configFile = text;
  commit += 1;
}

beforeAll(async () => {
  h = await startControlHarness({
    installationId: INSTALLATION_ID,
    branchSha: async (branch) => (branch === 'master' ? commit.toString(16).padStart(40, 'a') : null),
    readFile: async (_ref, path) => {
      if (path === '.github/speckit.yml') return configFile;
      return path === 'specs/001-demo/tasks.md' ? DEMO_TASKS : null;
    },
  });
});

afterAll(async () => {
  await h?.stop();
  await removeTempDirs();
});

let issues = 200;

/** `/speckit …` on a fresh issue (or PR `pr`): the run it started, its stored options and the reply. */
async function comment(body: string, options: { pr?: number } = {}) {
  const result = await commentAndAdmit(h, body, {
    installationId: INSTALLATION_ID,
    issue: options.pr ?? ++issues,
    pullRequest: options.pr !== undefined,
  });
  return { ...result, ...(await runAndOptions(result.runId)) };
}

async function label(headRef: string, number: number) {
  h.github.labels.set(number, ['speckit:run']);
  const before = h.github.comments.size;
  const deliveryId = await h.receive(
    'pull_request',
    labeledEvent({ installationId: INSTALLATION_ID, headRef, number }),
  );
  return admitted(deliveryId, before);
}

async function admitted(deliveryId: string, commentsBefore: number) {
  const runId = await h.admit(deliveryId);
  return {
    deliveryId,
    ...(await runAndOptions(runId)),
    reply: h.github.comments.size > commentsBefore ? lastComment(h.github) : null,
  };
}

async function runAndOptions(runId: string | null) {
  const run = runId ? await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: runId } }) : null;
  return { run, options: run ? await runTriggerOptions(h.prisma, run) : null };
}

const settleAll = () => settleActiveRuns(h.prisma);

const api = () => createRunCommands({ prisma: h.prisma, boss: h.boss, github: h.auth });

describe('branch_prefix', () => {
  it('names the branch of comment and API runs, and reads features from branches with the prefix', async () => {
    setConfig('branch_prefix: bot/\n');
    const byComment = await comment('/speckit run 001-demo');
    expect(byComment.run?.branchName).toBe('bot/001-demo');

    const byApi = await api().createRun({ repository: FULL_NAME, featureKey: '002-api', createdBy: 'api' });
    expect(byApi.kind).toBe('created');
    const apiRun = await h.prisma.specWorkflowRun.findUniqueOrThrow({
      where: { id: byApi.kind === 'created' ? byApi.runId : '' },
    });
    expect(apiRun.branchName).toBe('bot/002-api');

    // A PR from `bot/<feature>`: a command without a feature and the label both read it.
    h.github.pulls.push({
      number: 61,
      state: 'open',
      head: { ref: 'bot/003-pr', sha: 'c'.repeat(40), repo: { full_name: FULL_NAME } },
      base: { ref: 'master' },
      html_url: `https://github.com/${FULL_NAME}/pull/61`,
    });
    const onPr = await comment('/speckit run', { pr: 61 });
    expect(onPr.run).toMatchObject({ featureKey: '003-pr', branchName: 'bot/003-pr' });
    const labelled = await label('bot/004-label', 62);
    expect(labelled.run).toMatchObject({ featureKey: '004-label', branchName: 'bot/004-label' });
    // Runs made before the prefix changed keep `speckit/<feature>`, which is still read.
    const old = await label('speckit/005-old', 63);
    expect(old.run).toMatchObject({ featureKey: '005-old', branchName: 'speckit/005-old' });
    await settleAll();
  });
});

describe('auto_continue', () => {
  it('is off without a .github/speckit.yml: a run does one phase unless --all', async () => {
    setConfig(null);
    expect((await comment('/speckit run 001-demo')).options?.all).toBe(false);
    await settleAll();
    expect((await label('010-label', 70)).options?.all).toBe(false);
    await settleAll();
    expect((await comment('/speckit run 001-demo --all')).options?.all).toBe(true);
    await settleAll();
  });

  it('makes a run without --once or --phase go on like --all when true', async () => {
    setConfig('auto_continue: true\n');
    const plain = await comment('/speckit run 001-demo');
    expect(plain.options).toMatchObject({ all: true });
    // Stored on the trigger, where the report (no "Run all" button) and --all continuation read it.
    const stored = await h.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: plain.deliveryId } });
    expect(stored.trigger).toMatchObject({ all: true });
    await settleAll();
    expect((await label('011-label', 71)).options?.all).toBe(true);
    await settleAll();

    const once = await comment('/speckit run 001-demo --once');
    expect(once.options?.all).toBe(false);
    await settleAll();
    const forced = await comment('/speckit run 001-demo --phase 2');
    expect(forced.run?.phaseNumber).toBe('2');
    expect(forced.options?.all).toBe(false);
    await settleAll();

    setConfig('auto_continue: false\n');
    expect((await comment('/speckit run 001-demo')).options?.all).toBe(false);
    await settleAll();
  });
});

describe('limits', () => {
  /** Active runs of this installation, in this and another repository. */
  async function fillActive(count: number) {
    for (let i = 0; i < count; i++) {
      await insertRun(h.prisma, {
        installationId: BigInt(INSTALLATION_ID),
        repository: i % 2 === 0 ? FULL_NAME : 'Codertocat/Other',
        featureKey: `09${i}-busy`,
        status: 'running',
        currentStep: 'codex',
      });
    }
  }

  it('refuses every kind of trigger over max_active_runs with a reply naming the limit, and creates no run', async () => {
    setConfig('limits:\n  max_active_runs: 2\n');
    // A run asked for with --all, finished before the installation got busy: its next phase is refused too.
    const first = await comment('/speckit run 020-all --all');
    const succeeded = await h.prisma.specWorkflowRun.update({
      where: { id: first.run?.id ?? '' },
      data: { status: 'succeeded', conclusion: 'success', currentStep: 'finalize', finishedAt: new Date() },
    });
    await fillActive(2);
    const runs = await h.prisma.specWorkflowRun.count();

    const byComment = await comment('/speckit run 001-demo');
    expect(byComment.recorded).not.toBeNull();
    expect(byComment.run).toBeNull();
    expect(byComment.reply).toBe(
      '@Codertocat the run for `001-demo` was not started: this installation already has 2 Spec Kit runs in progress, ' +
        'and `limits.max_active_runs` in `.github/speckit.yml` allows 2 at a time. ' +
        'Wait for one to finish (or stop one with `/speckit cancel <run-id>`) and ask again, ' +
        "or raise `limits.max_active_runs` on the default branch (up to the server's cap).",
    );

    const byLabel = await label('021-label', 80);
    expect(byLabel.run).toBeNull();
    expect(byLabel.reply).toContain('`limits.max_active_runs`');
    expect(h.github.labels.get(80)).toEqual(['speckit:run']); // kept: nothing was accepted

    const before = h.github.comments.size;
    const next = await h.receive(
      'check_run',
      checkRunEvent('requested_action', {
        installationId: INSTALLATION_ID,
        externalId: succeeded.id,
        identifier: 'next_phase',
      }),
    );
    const byButton = await admitted(next, before);
    expect(byButton.run).toBeNull();
    expect(byButton.reply).toContain('the run for `020-all` was not started');

    expect(await continueAfterSuccess(h, succeeded)).toBe('accepted');
    const continued = await admitted(continuationDeliveryId(succeeded.id), h.github.comments.size);
    expect(continued.run).toBeNull();
    expect(continued.reply).toContain('the next phase of `020-all` was not started');

    const byApi = await api().createRun({ repository: FULL_NAME, featureKey: '022-api', createdBy: 'api' });
    expect(byApi).toMatchObject({ kind: 'limited', field: 'limits.max_active_runs' });
    if (byApi.kind === 'limited') expect(byApi.message).toContain('The run for `022-api` was not started');

    expect(await h.prisma.specWorkflowRun.count()).toBe(runs);
    // A place frees up: the next command is admitted.
    await h.prisma.specWorkflowRun.updateMany({
      where: { featureKey: '090-busy' },
      data: { status: 'succeeded', finishedAt: new Date() },
    });
    expect((await comment('/speckit run 001-demo')).run).not.toBeNull();
    await settleAll();
  });

  it('refuses a run over max_runs_per_day, counting only runs created in the last 24 hours', async () => {
    setConfig('limits:\n  max_runs_per_day: 3\n');
    await h.prisma.specWorkflowRun.deleteMany({});
    const hour = 3_600_000;
    const oldest = new Date(Date.now() - 20 * hour);
    for (const [i, createdAt] of [
      new Date(Date.now() - 30 * hour), // outside the window
      oldest,
      new Date(Date.now() - 2 * hour),
      new Date(Date.now() - hour),
    ].entries()) {
      await insertRun(h.prisma, {
        installationId: BigInt(INSTALLATION_ID),
        featureKey: `03${i}-daily`,
        status: 'succeeded',
        conclusion: 'success',
        finishedAt: createdAt,
        createdAt,
      });
    }
    const refused = await comment('/speckit run 001-demo');
    expect(refused.run).toBeNull();
    const freesAt = new Date(oldest.getTime() + 24 * hour).toISOString().slice(0, 16).replace('T', ' ');
    expect(refused.reply).toBe(
      '@Codertocat the run for `001-demo` was not started: this installation started 3 Spec Kit runs in the last 24 hours, ' +
        `and \`limits.max_runs_per_day\` in \`.github/speckit.yml\` allows 3. A place frees up at ${freesAt} UTC. ` +
        'Ask again then, or raise `limits.max_runs_per_day` on the default branch.',
    );
    expect(
      await api().createRun({ repository: FULL_NAME, featureKey: '001-demo', createdBy: 'api' }),
    ).toMatchObject({ kind: 'limited', field: 'limits.max_runs_per_day' });

    setConfig('limits:\n  max_runs_per_day: 4\n');
    expect((await comment('/speckit run 001-demo')).run).not.toBeNull();
    await settleAll();
  });
});

describe('allowed_runners', () => {
  it('narrows the label and the check run buttons as it narrows commands', async () => {
    setConfig('allowed_runners: [hubot]\n');
    const byLabel = await label('040-label', 90);
    expect(byLabel.run).toBeNull();
    expect(byLabel.reply).toContain("@Codertocat this repository's `.github/speckit.yml` lets only `hubot`");
    const done = await insertRun(h.prisma, {
      installationId: BigInt(INSTALLATION_ID),
      featureKey: '041-done',
      status: 'succeeded',
      conclusion: 'success',
      finishedAt: new Date(),
    });
    const before = h.github.comments.size;
    const next = await h.receive(
      'check_run',
      checkRunEvent('rerequested', { installationId: INSTALLATION_ID, externalId: done.id }),
    );
    const byButton = await admitted(next, before);
    expect(byButton.run).toBeNull();
    expect(byButton.reply).toContain('lets only `hubot` re-run Spec Kit runs');
    setConfig(null);
  });
});

describe('allowed_runners with a team the App may not read', () => {
  it('says the App needs Members: read instead of failing silently', async () => {
    setConfig('allowed_runners: [octo-org/spec-maintainers]\n');
    // GitHub's answer when the installation lacks the organization Members permission.
    h.github.injectFault({
      method: 'GET',
      path: /^\/orgs\/octo-org\/teams\/spec-maintainers\/memberships\/Codertocat$/,
      status: 403,
      times: 1,
      message: 'Resource not accessible by integration',
      headers: { 'x-accepted-github-permissions': 'members=read' },
    });
    const result = await comment('/speckit run 001-demo');
    console.log(
      `injected: 403 on the team membership lookup; observed: run ${result.run?.id ?? 'none'}, reply "${result.reply?.slice(0, 120)}…"`,
    );
    expect(result.run).toBeNull();
    expect(result.reply).toContain('**Members: read**');
    expect(result.reply).toContain('`octo-org/spec-maintainers`');
    setConfig(null);
  });
});

describe('an invalid .github/speckit.yml', () => {
  it('makes plan reply with the field and the problem', async () => {
    setConfig('specs_dir: /abs\n');
    const plan = await comment('/speckit plan 001-demo');
    expect(plan.reply).toContain('.github/speckit.yml is invalid');
    expect(plan.reply).toContain('`specs_dir`');
    setConfig(null);
  });
});
