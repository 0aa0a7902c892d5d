// Find-or-create of the feature's pull request against GitHub's REST routes
// (nock, GitHub's request and response shapes): a 422 race with another
// worker updates the PR it finds like any existing one; a 422 saying there is
// nothing to merge becomes a failure that says so; every page of PRs is read.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/errors.ts';
import { findOrCreatePullRequest, listPullRequests } from '../../src/github/pull-requests.ts';
import { TestOctokit } from '../support/app-harness.ts';

const API = 'https://api.github.com';
const REPO = { owner: 'Codertocat', name: 'Hello-World' };
const PULLS = '/repos/Codertocat/Hello-World/pulls';
const HEAD = 'speckit/001-demo';
const octokit = new TestOctokit({ auth: { token: 'ghs_pullRequestsTest' } });

const content = {
  head: HEAD,
  base: 'master',
  title: '001-demo: Demo greeting',
  body: 'BOT BLOCK v2',
  updateBody: (current: string) => current.replace('BOT BLOCK v1', 'BOT BLOCK v2'),
  draft: false,
  labels: ['speckit'],
};

const pull = (number: number, fields: Record<string, unknown> = {}) => ({
  number,
  state: 'open',
  html_url: `https://github.com/Codertocat/Hello-World/pull/${number}`,
  body: 'Reviewer notes.\n\nBOT BLOCK v1',
  merged_at: null,
  head: { ref: HEAD, sha: 'a'.repeat(40) },
  base: { ref: 'master' },
  ...fields,
});

const openQuery = { head: `Codertocat:${HEAD}`, state: 'open', per_page: '10' };

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe('findOrCreatePullRequest', () => {
  it('updates the body and labels of the PR another worker opened meanwhile', async () => {
    const patched: unknown[] = [];
    const labelled: unknown[] = [];
    nock(API)
      .get(PULLS)
      .query(openQuery)
      .reply(200, [])
      .post(PULLS)
      .reply(422, {
        message: 'Validation Failed',
        errors: [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for Codertocat:${HEAD}.`,
          },
        ],
        documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      })
      .get(PULLS)
      .query(openQuery)
      .reply(200, [pull(9)])
      .patch(`${PULLS}/9`, (body) => patched.push(body) > 0)
      .reply(200, pull(9, { body: 'Reviewer notes.\n\nBOT BLOCK v2' }))
      .post('/repos/Codertocat/Hello-World/issues/9/labels', (body) => labelled.push(body) > 0)
      .reply(200, [{ id: 1, name: 'speckit', color: 'ededed', default: false }]);

    const pr = await findOrCreatePullRequest(octokit, REPO, content);
    expect(pr).toMatchObject({ number: 9, created: false, body: 'Reviewer notes.\n\nBOT BLOCK v2' });
    expect(patched).toEqual([{ body: 'Reviewer notes.\n\nBOT BLOCK v2' }]);
    expect(labelled).toEqual([{ labels: ['speckit'] }]);
    expect(pr.response).toMatchObject({ number: 9, base: { ref: 'master' } });
  });

  it('fails clearly when GitHub finds no commits between the branches', async () => {
    nock(API)
      .get(PULLS)
      .query(openQuery)
      .reply(200, [])
      .post(PULLS)
      .reply(422, {
        message: 'Validation Failed',
        errors: [
          { resource: 'PullRequest', code: 'custom', message: `No commits between master and ${HEAD}` },
        ],
        documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      })
      .get(PULLS)
      .query(openQuery)
      .reply(200, []);

    const error = await findOrCreatePullRequest(octokit, REPO, content).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error).toMatchObject({ code: 'pull_request_refused' });
    const message = (error as Error).message;
    console.log(message);
    expect(message).toContain(`GitHub refused to open a pull request from \`${HEAD}\` into \`master\``);
    expect(message).toContain(`\`${HEAD}\` has no commits that \`master\` lacks`);
    expect(message).toContain(`No commits between master and ${HEAD}`);
    expect(message).toContain('then run the next phase');
  });
});

describe('listPullRequests', () => {
  it('reads every page, newest first, with the head sha each was left at', async () => {
    const query = {
      head: `Codertocat:${HEAD}`,
      state: 'all',
      sort: 'created',
      direction: 'desc',
      per_page: '100',
    };
    const next = `${API}${PULLS}?head=Codertocat%3A${encodeURIComponent(HEAD)}&state=all&sort=created&direction=desc&per_page=100&page=2`;
    nock(API)
      .get(PULLS)
      .query(query)
      .reply(200, [pull(3, { state: 'closed', head: { ref: HEAD, sha: 'c'.repeat(40) } })], {
        link: `<${next}>; rel="next", <${next}>; rel="last"`,
      })
      .get(PULLS)
      .query({ ...query, page: '2' })
      .reply(200, [pull(1, { merged_at: '2026-01-01T00:00:00Z', state: 'closed' })]);

    expect(await listPullRequests(octokit, REPO, HEAD)).toEqual([
      { number: 3, state: 'closed', merged: false, headSha: 'c'.repeat(40) },
      { number: 1, state: 'closed', merged: true, headSha: 'a'.repeat(40) },
    ]);
  });
});
