// The run's branch and its base, end to end:
// - the base moved ahead → discover merges it into speckit/<feature> and
//   pushes that before Codex starts (a rebase when .github/speckit.yml says
//   `branch_update: rebase`);
// - the base conflicts with the branch → the run fails at discover naming the
//   file, the branch is left alone and Codex is not called;
// - the feature branch's spec PR is open → the run's PR targets the feature
//   branch (a stacked PR); once the spec PR is closed, the PR is retargeted to
//   the default branch and the branch is brought up to date with that;
// - the branch's PR was closed at its tip (rejected or merged) → the next run
//   starts afresh from the base and replaces the branch; commits pushed after
//   the close are built on, never discarded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS, PHASE_1_PATCH, PHASE_2_PATCH } from '../fixtures/demo-repo.ts';
import type { Harness } from '../support/app-harness.ts';
import { type DemoWorld, startDemoWorld } from '../support/demo-world.ts';
import { applyPatchCall, finalMessage, isToolFollowUp } from '../support/fake-model-server.ts';
import { type BareRepo, fixtureGit } from '../support/git-fixtures.ts';

const BOT = 'speckit-bot[bot]';

let world: DemoWorld;
let repo: BareRepo;
let github: DemoWorld['github'];
let harness: Harness;

beforeAll(async () => {
  world = await startDemoWorld({
    installationId: 87,
    respond: ({ body }) => {
      if (isToolFollowUp(body)) return finalMessage('Done.');
      return JSON.stringify(body).includes('Phase 2')
        ? applyPatchCall(PHASE_2_PATCH)
        : applyPatchCall(PHASE_1_PATCH);
    },
    files: Object.fromEntries(
      ['002-rebase', '003-conflict', '005-rejected', '006-revived', '007-merged'].map((feature) => [
        `specs/${feature}/tasks.md`,
        DEMO_TASKS,
      ]),
    ),
  });
  ({ repo, github, harness } = world);
});

afterAll(async () => {
  await world?.stop();
});

async function stepOutput(runId: string, step: string): Promise<Record<string, any>> {
  const stored = await harness.prisma.stepOutput.findUnique({ where: { runId_step: { runId, step } } });
  return (stored?.data ?? {}) as Record<string, any>;
}

const parents = async (sha: string) =>
  (await fixtureGit(['rev-list', '--parents', '-n', '1', sha], repo.bareDir)).split(' ').slice(1);
const describeCommit = (sha: string) =>
  fixtureGit(['log', '-1', '--format=%an|%cn|%s', sha], repo.bareDir).then((s) => s.split('|'));
const prCreates = (head: string) =>
  github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls') && r.body.head === head);

describe('the branch and its base', () => {
  it('merges a base that moved ahead into the branch before Codex starts', async () => {
    expect(await world.run('001-demo')).toMatchObject({ status: 'succeeded', phaseNumber: '1' });
    const phase1 = (await repo.readBranch('speckit/001-demo')) as string;
    const moved = await repo.commitFiles('master', { 'docs/news.md': 'News\n' }, 'Base moved');

    const second = await world.run('001-demo');
    expect(second).toMatchObject({ status: 'succeeded', phaseNumber: '2' });
    const [phase2 = '', merge = ''] = (await repo.log('speckit/001-demo')).map((c) => c.sha);
    expect(await parents(phase2)).toEqual([merge]);
    expect(await parents(merge)).toEqual([phase1, moved]);
    expect(await describeCommit(merge)).toEqual([BOT, BOT, "Merge branch 'master' into speckit/001-demo"]);
    expect((await repo.readTree('speckit/001-demo'))['docs/news.md']?.trim()).toBe('News');
    // Codex worked on the merged branch; discover recorded what it did.
    expect((await stepOutput(second.id, 'codex')).startSha).toBe(merge);
    expect((await stepOutput(second.id, 'discover')).branchUpdate).toEqual({
      mode: 'merge',
      base: 'master',
      baseSha: moved,
      before: phase1,
      after: merge,
    });
    expect(second.baseSha).toBe(merge);
  });

  it('rebases instead when .github/speckit.yml says branch_update: rebase', async () => {
    await repo.commitFiles('master', { '.github/speckit.yml': 'branch_update: rebase\n' }, 'Configure');
    expect(await world.run('002-rebase')).toMatchObject({ status: 'succeeded', phaseNumber: '1' });
    const phase1 = (await repo.readBranch('speckit/002-rebase')) as string;
    const moved = await repo.commitFiles('master', { 'docs/more.md': 'More\n' }, 'Base moved again');

    const second = await world.run('002-rebase');
    expect(second).toMatchObject({ status: 'succeeded', phaseNumber: '2' });
    const [phase2 = '', rebased = ''] = (await repo.log('speckit/002-rebase')).map((c) => c.sha);
    expect(await parents(phase2)).toEqual([rebased]);
    expect(await parents(rebased)).toEqual([moved]);
    expect(rebased).not.toBe(phase1);
    expect(await describeCommit(rebased)).toEqual([BOT, BOT, 'feat(002-rebase): phase 1 – Setup']);
    expect(await fixtureGit(['rev-list', '--merges', 'refs/heads/speckit/002-rebase'], repo.bareDir)).toBe(
      '',
    );
    expect((await stepOutput(second.id, 'discover')).branchUpdate).toMatchObject({
      mode: 'rebase',
      base: 'master',
      before: phase1,
      after: rebased,
    });
  });

  it('fails at discover naming the conflicting file, leaving the branch alone and Codex uncalled', async () => {
    expect(await world.run('003-conflict')).toMatchObject({ status: 'succeeded' });
    const before = await repo.readBranch('speckit/003-conflict');
    await repo.commitFiles('master', { 'src/hello.txt': 'Hello from master\n' }, 'Conflicting change');
    const modelCalls = world.model.requests.length;

    const second = await world.run('003-conflict');
    expect(second).toMatchObject({ status: 'failed', conclusion: 'failure', errorStep: 'discover' });
    expect(second.errorMessage).toContain('`src/hello.txt`');
    expect(second.errorMessage).toContain('rebase `speckit/003-conflict` onto `master` yourself');
    expect(await repo.readBranch('speckit/003-conflict')).toBe(before);
    expect(world.model.requests.length).toBe(modelCalls);
  });

  it('targets the feature branch while its spec PR is open, and the default branch once it closed', async () => {
    await repo.commitFiles('004-stacked', { 'specs/004-stacked/tasks.md': DEMO_TASKS }, 'Spec', 'master');
    const specPr = {
      number: 40,
      state: 'open',
      merged_at: null,
      draft: false,
      title: 'Spec for 004-stacked',
      body: 'The spec.',
      head: { ref: '004-stacked' },
      base: { ref: 'master' },
      html_url: 'https://github.com/Codertocat/Hello-World/pull/40',
    };
    github.pulls.push(specPr);

    const first = await world.run('004-stacked');
    expect(first).toMatchObject({ status: 'succeeded', phaseNumber: '1' });
    expect(prCreates('speckit/004-stacked').map((r) => r.body.base)).toEqual(['004-stacked']);
    expect((await stepOutput(first.id, 'discover')).prBase).toBe('004-stacked');

    // The spec branch moves on and its PR is closed, and the default branch
    // moves too: the PR now targets master, so the next phase brings the
    // branch up to date with master (not with the closed spec branch).
    await repo.commitFiles('004-stacked', { 'specs/004-stacked/notes.md': 'Notes\n' });
    specPr.state = 'closed';
    const moved = await repo.commitFiles('master', { 'docs/after-spec.md': 'After\n' }, 'Master moved');
    const second = await world.run('004-stacked');
    expect(second).toMatchObject({ status: 'succeeded', phaseNumber: '2' });
    const discovered = await stepOutput(second.id, 'discover');
    expect(discovered.prBase).toBe('master');
    expect(discovered.branchUpdate).toMatchObject({ base: 'master', baseSha: moved });
    const tree = await repo.readTree('speckit/004-stacked');
    expect(tree['docs/after-spec.md']?.trim()).toBe('After');
    expect(tree['specs/004-stacked/notes.md']).toBeUndefined();
    expect(prCreates('speckit/004-stacked')).toHaveLength(1);
    const retarget = github.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/pulls/${first.prNumber}`) && r.body.base,
    );
    expect(retarget.map((r) => r.body.base)).toEqual(['master']);
    expect(github.pulls.find((pr) => pr.number === first.prNumber)?.base).toEqual({ ref: 'master' });
    expect(github.unmatched).toEqual([]);
  });
  /** Closes the run's PR as GitHub would: at the branch's current commit, merged or not. */
  async function closePullRequest(number: number | null, merged = false): Promise<string> {
    const pr = github.pulls.find((candidate) => candidate.number === number);
    const tip = (await repo.readBranch(pr.head.ref)) as string;
    Object.assign(pr, { state: 'closed', merged_at: merged ? new Date().toISOString() : null });
    pr.head.sha = tip;
    return tip;
  }

  it('starts afresh from the base after its PR was closed unmerged, replacing the branch', async () => {
    const first = await world.run('005-rejected');
    expect(first).toMatchObject({ status: 'succeeded', phaseNumber: '1' });
    const rejected = await closePullRequest(first.prNumber);
    const master = (await repo.readBranch('master')) as string;

    const second = await world.run('005-rejected');
    expect(second).toMatchObject({ status: 'succeeded', phaseNumber: '1' });
    const log = await repo.log('speckit/005-rejected');
    expect(log[0]?.subject).toBe('feat(005-rejected): phase 1 – Setup');
    expect(await parents(log[0]?.sha ?? '')).toEqual([master]);
    expect(log.map((c) => c.sha)).not.toContain(rejected);
    expect(await stepOutput(second.id, 'discover')).toMatchObject({
      continuing: false,
      replacesSha: rejected,
      branchUpdate: null,
    });
    expect(prCreates('speckit/005-rejected')).toHaveLength(2);
    expect(second.prNumber).not.toBe(first.prNumber);
  });

  it('builds on commits pushed after its PR was closed instead of discarding them', async () => {
    const first = await world.run('006-revived');
    expect(first).toMatchObject({ status: 'succeeded', phaseNumber: '1' });
    const closedAt = await closePullRequest(first.prNumber);
    const fix = await repo.commitFiles(
      'speckit/006-revived',
      { 'notes/fix.md': 'Fixed\n' },
      'Address review',
    );

    const second = await world.run('006-revived');
    expect(second).toMatchObject({ status: 'succeeded', phaseNumber: '2' });
    const shas = (await repo.log('speckit/006-revived')).map((c) => c.sha);
    expect(shas).toEqual(expect.arrayContaining([fix, closedAt]));
    expect(await parents(shas[0] ?? '')).toEqual([fix]);
    expect(await stepOutput(second.id, 'discover')).toMatchObject({ continuing: true, replacesSha: null });
    expect(prCreates('speckit/006-revived')).toHaveLength(2);
  });

  it('starts a new branch from the base after its PR was merged', async () => {
    const first = await world.run('007-merged');
    expect(first).toMatchObject({ status: 'succeeded', phaseNumber: '1' });
    const merged = await closePullRequest(first.prNumber, true);
    // GitHub merged it (a fast-forward here), then master moved on.
    await fixtureGit(['update-ref', 'refs/heads/master', merged], repo.bareDir);
    const master = await repo.commitFiles('master', { 'docs/later.md': 'Later\n' }, 'After the merge');

    const second = await world.run('007-merged');
    expect(second).toMatchObject({ status: 'succeeded', phaseNumber: '2' });
    const [phase2 = ''] = (await repo.log('speckit/007-merged')).map((c) => c.sha);
    expect(await parents(phase2)).toEqual([master]);
    expect(await stepOutput(second.id, 'discover')).toMatchObject({
      continuing: false,
      replacesSha: merged,
      baseBranch: 'master',
    });
    expect(prCreates('speckit/007-merged')).toHaveLength(2);
    expect(github.unmatched).toEqual([]);
  });
});
