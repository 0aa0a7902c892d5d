// `org/team` entries of allowed_runners need the App's opt-in organization
// permission Members: read. Without it GitHub answers the team-membership
// lookup with 403, and the user is told what the App needs instead of a
// generic failure.
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { isAllowedRunner } from '../../src/github/permissions.ts';

const api = 'https://api.github.com';
const octokit = new ProbotOctokit({
  auth: { token: 'test' },
  retry: { enabled: false },
  throttle: { enabled: false },
} as never);

/** GitHub's answer to an installation token without Members: read. */
function membershipForbidden(org: string, team: string, user: string) {
  return nock(api).get(`/orgs/${org}/teams/${team}/memberships/${user}`).reply(
    403,
    {
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest/teams/members#get-team-membership-for-a-user',
      status: '403',
    },
    { 'x-accepted-github-permissions': 'members=read' },
  );
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('isAllowedRunner with org/team entries', () => {
  it('says the App needs organization Members: read when GitHub refuses the team lookup', async () => {
    membershipForbidden('octo-org', 'spec-maintainers', 'Codertocat');
    const error = await isAllowedRunner(octokit, ['hubot', 'octo-org/spec-maintainers'], 'Codertocat').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: 'allowed_runners_members_permission' });
    const message = (error as Error).message;
    console.log(message);
    expect(message).toContain('`octo-org/spec-maintainers`');
    expect(message).toContain('**Members: read**');
    expect(message).toContain('"Register the GitHub App"');
    expect(nock.isDone()).toBe(true);
  });

  it('lets the user in through another entry that can be checked', async () => {
    membershipForbidden('octo-org', 'spec-maintainers', 'Codertocat');
    nock(api).get('/orgs/other-org/teams/writers/memberships/Codertocat').reply(200, {
      url: 'https://api.github.com/teams/1/memberships/Codertocat',
      role: 'member',
      state: 'active',
    });
    expect(
      await isAllowedRunner(octokit, ['octo-org/spec-maintainers', 'other-org/writers'], 'Codertocat'),
    ).toBe(true);
  });

  it('refuses a non-member (404) and a pending member without an error', async () => {
    nock(api)
      .get('/orgs/octo-org/teams/spec-maintainers/memberships/Codertocat')
      .reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' })
      .get('/orgs/octo-org/teams/reviewers/memberships/Codertocat')
      .reply(200, {
        url: 'https://api.github.com/teams/2/memberships/Codertocat',
        role: 'member',
        state: 'pending',
      });
    expect(
      await isAllowedRunner(octokit, ['octo-org/spec-maintainers', 'octo-org/reviewers'], 'Codertocat'),
    ).toBe(false);
  });

  it('passes other 403s on (a secondary rate limit is no missing permission)', async () => {
    nock(api).get('/orgs/octo-org/teams/spec-maintainers/memberships/Codertocat').reply(
      403,
      {
        message: 'You have exceeded a secondary rate limit.',
        documentation_url: 'https://docs.github.com/rest',
      },
      { 'retry-after': '60' },
    );
    const error = await isAllowedRunner(octokit, ['octo-org/spec-maintainers'], 'Codertocat').catch(
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(UserError);
    expect(error).toMatchObject({ status: 403 });
  });
});
