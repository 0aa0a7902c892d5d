// Which branch a run builds on and what its base is (one ls-remote against a
// real bare repository), and which branches the bot owns and may update.
import { afterAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/chain/runs.ts';
import {
  ownsBranch,
  previousPullRequestVerdict,
  resolveSourceBranch,
  startFromBase,
} from '../../src/chain/steps/workspace-source.ts';
import { createBareRepo, removeTempDirs } from '../support/git-fixtures.ts';

afterAll(removeTempDirs);

const runOf = (fields: Pick<Run, 'cloneUrl' | 'branchName' | 'featureKey' | 'defaultBranch'>) =>
  fields as Run;

describe('resolveSourceBranch', () => {
  it('continues the own branch on top of the feature branch, else builds from the base', async () => {
    const repo = await createBareRepo();
    const main = (await repo.readBranch('main')) as string;
    const run = runOf({
      cloneUrl: repo.cloneUrl,
      branchName: 'speckit/001-x',
      featureKey: '001-x',
      defaultBranch: 'main',
    });
    expect(await resolveSourceBranch(run, { token: 't' })).toEqual({
      branch: 'main',
      sha: main,
      continuing: false,
      replacesSha: null,
      base: { branch: 'main', sha: main },
    });
    const spec = await repo.commitFiles(
      '001-x',
      { 'specs/001-x/tasks.md': '- [ ] T001 x\n' },
      'Spec',
      'main',
    );
    const own = await repo.commitFiles('speckit/001-x', { 'a.txt': 'a\n' }, 'Phase 1', '001-x');
    expect(await resolveSourceBranch(run, { token: 't' })).toEqual({
      branch: 'speckit/001-x',
      sha: own,
      continuing: true,
      replacesSha: null,
      base: { branch: '001-x', sha: spec },
    });
    expect(startFromBase(await resolveSourceBranch(run, { token: 't' }))).toEqual({
      branch: '001-x',
      sha: spec,
      continuing: false,
      replacesSha: own,
      base: { branch: '001-x', sha: spec },
    });
  });
});

describe('ownsBranch', () => {
  const run = (branchName: string) =>
    runOf({ cloneUrl: '', branchName, featureKey: '001-x', defaultBranch: 'main' });

  it('owns speckit/<feature> only, never a pull request author’s branch', () => {
    expect(ownsBranch(run('speckit/001-x'))).toBe(true);
    expect(ownsBranch(run('001-x'))).toBe(false);
    expect(ownsBranch(run('main'))).toBe(false);
    expect(ownsBranch(run('alice/001-x'))).toBe(false);
  });

  it('owns <branch_prefix><feature> of the repository config, and speckit/<feature> from before', () => {
    expect(ownsBranch(run('bot/001-x'), 'bot/')).toBe(true);
    expect(ownsBranch(run('speckit/001-x'), 'bot/')).toBe(true);
    expect(ownsBranch(run('bot/001-x'))).toBe(false);
    expect(ownsBranch(run('alice/001-x'), 'bot/')).toBe(false);
  });
});

describe('previousPullRequestVerdict', () => {
  const TIP = 'a'.repeat(40);
  const OLDER = 'b'.repeat(40);
  const pr = (number: number, state: 'open' | 'closed', headSha: string | null, merged = false) => ({
    number,
    state,
    merged,
    headSha,
  });

  it('starts afresh when the newest PR was closed, merged or not, at the branch tip', () => {
    for (const merged of [false, true]) {
      expect(
        previousPullRequestVerdict({ owned: true, branchSha: TIP, pulls: [pr(2, 'closed', TIP, merged)] }),
      ).toEqual({ kind: 'start_afresh', pr: pr(2, 'closed', TIP, merged) });
    }
  });

  it('builds on commits pushed after the PR closed, or when GitHub gave no head sha', () => {
    for (const headSha of [OLDER, null]) {
      expect(
        previousPullRequestVerdict({ owned: true, branchSha: TIP, pulls: [pr(2, 'closed', headSha)] }).kind,
      ).toBe('build_on_later_commits');
    }
  });

  it('continues while any PR from the branch is open, not only the newest', () => {
    const pulls = [pr(3, 'closed', TIP), pr(2, 'open', OLDER), pr(1, 'closed', OLDER)];
    expect(previousPullRequestVerdict({ owned: true, branchSha: TIP, pulls })).toEqual({ kind: 'continue' });
  });

  it('never replaces a branch the bot does not own, one that is gone, or one without PRs', () => {
    const closed = [pr(2, 'closed', TIP)];
    expect(previousPullRequestVerdict({ owned: false, branchSha: TIP, pulls: closed }).kind).toBe('continue');
    expect(previousPullRequestVerdict({ owned: true, branchSha: null, pulls: closed }).kind).toBe('continue');
    expect(previousPullRequestVerdict({ owned: true, branchSha: TIP, pulls: [] }).kind).toBe('continue');
  });
});
