// GitHub's REST API mocked with nock: only real routes with their real request
// shapes. Every request the app makes is recorded so tests can assert the
// sequence (check run queued → in_progress → completed, one PR, …).
import nock from 'nock';

type RequestBody = any;
type Reply = readonly [number, unknown];

export interface RecordedRequest {
  method: string;
  path: string;
  body: RequestBody;
}

export interface FakeGitHubRepo {
  owner: string;
  name: string;
  installationId: number;
  /** Which users have which role (`admin`, `maintain`, `write`, `read`, …). */
  roles: Record<string, string>;
  /** Branch → sha, as GitHub would answer GET /branches/{branch}; the test keeps it in sync with git. */
  branchSha: (branch: string) => Promise<string | null>;
}

export interface FakeGitHub {
  requests: RecordedRequest[];
  checkRuns: Map<number, any>;
  pulls: any[];
  comments: Map<number, any>;
  done(): void;
}

export const INSTALLATION_TOKEN = 'ghs_e2eInstallationToken0000000000000000';

export function mockGitHub(repo: FakeGitHubRepo, apiBase = 'https://api.github.com'): FakeGitHub {
  const requests: RecordedRequest[] = [];
  const checkRuns = new Map<number, any>();
  const comments = new Map<number, any>();
  const pulls: any[] = [];
  let nextId = 1000;
  const base = `/repos/${repo.owner}/${repo.name}`;
  // nock 15 hands a reply function the fetch Request; a two-parameter
  // function would be taken for the callback style, so this takes one.
  const handle =
    (method: string, reply: (path: string, body: RequestBody) => Reply | Promise<Reply>) =>
    async (request: Request): Promise<Reply> => {
      const url = new URL(request.url);
      const text = await request.text();
      const body = text ? JSON.parse(text) : undefined;
      requests.push({ method, path: url.pathname + url.search, body });
      return reply(url.pathname + url.search, body);
    };
  const scope = nock(apiBase).persist();

  scope.post(`/app/installations/${repo.installationId}/access_tokens`).reply(
    handle('POST', () => [
      201,
      {
        token: INSTALLATION_TOKEN,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        permissions: {
          checks: 'write',
          contents: 'write',
          issues: 'write',
          pull_requests: 'write',
          metadata: 'read',
        },
        repository_selection: 'all',
      },
    ]),
  );

  scope.get(new RegExp(`^${base}/collaborators/([^/]+)/permission$`)).reply(
    handle('GET', (uri, _body) => {
      const username = decodeURIComponent(uri.split('/').at(-2) ?? '');
      const role = repo.roles[username] ?? 'none';
      const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
      return [200, { permission, role_name: role, user: { login: username, type: 'User' } }];
    }),
  );

  scope.post(new RegExp(`^${base}/issues/comments/\\d+/reactions$`)).reply(
    handle('POST', (_uri, body) => {
      return [
        201,
        { id: nextId++, content: (body as { content: string }).content, user: { login: 'speckit-bot[bot]' } },
      ];
    }),
  );

  scope.get(new RegExp(`^${base}/branches/(.+)$`)).reply(
    handle('GET', async (uri, _body) => {
      const branch = decodeURIComponent(uri.slice(`${base}/branches/`.length));
      const sha = await repo.branchSha(branch);
      if (!sha)
        return [404, { message: 'Branch not found', documentation_url: 'https://docs.github.com/rest' }];
      return [200, { name: branch, commit: { sha }, protected: false }];
    }),
  );

  scope.get(new RegExp(`^${base}/commits/([0-9a-f]{40})/check-runs`)).reply(
    handle('GET', (uri, _body) => {
      const sha = uri.split('/')[5];
      const runs = [...checkRuns.values()].filter((run) => run.head_sha === sha);
      return [200, { total_count: runs.length, check_runs: runs }];
    }),
  );

  scope.post(`${base}/check-runs`).reply(
    handle('POST', (_uri, body) => {
      const id = nextId++;
      const run = {
        id,
        ...(body as object),
        html_url: `https://github.com/${repo.owner}/${repo.name}/runs/${id}`,
      };
      checkRuns.set(id, run);
      return [201, run];
    }),
  );

  scope.patch(new RegExp(`^${base}/check-runs/(\\d+)$`)).reply(
    handle('PATCH', (uri, body) => {
      const id = Number(uri.split('/').at(-1));
      const run = checkRuns.get(id);
      if (!run) return [404, { message: 'Not Found' }];
      Object.assign(run, body);
      return [200, run];
    }),
  );

  scope.post(new RegExp(`^${base}/issues/(\\d+)/comments$`)).reply(
    handle('POST', (_uri, body) => {
      const id = nextId++;
      const comment = {
        id,
        body: (body as { body: string }).body,
        user: { login: 'speckit-bot[bot]', type: 'Bot' },
      };
      comments.set(id, comment);
      return [201, comment];
    }),
  );

  scope.patch(new RegExp(`^${base}/issues/comments/(\\d+)$`)).reply(
    handle('PATCH', (uri, body) => {
      const comment = comments.get(Number(uri.split('/').at(-1)));
      if (!comment) return [404, { message: 'Not Found' }];
      comment.body = (body as { body: string }).body;
      return [200, comment];
    }),
  );

  scope
    .get(`${base}/pulls`)
    .query(true)
    .reply(
      handle('GET', (uri, _body) => {
        const head = new URL(uri, 'https://x').searchParams.get('head');
        const open = pulls.filter((pr) => `${repo.owner}:${pr.head.ref}` === head && pr.state === 'open');
        return [200, open];
      }),
    );

  scope.post(`${base}/pulls`).reply(
    handle('POST', (_uri, body) => {
      const request = body as { head: string; base: string; title: string; body: string };
      const number = pulls.length + 1;
      const pr = {
        number,
        state: 'open',
        title: request.title,
        body: request.body,
        head: { ref: request.head },
        base: { ref: request.base },
        html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${number}`,
      };
      pulls.push(pr);
      return [201, pr];
    }),
  );

  scope.patch(new RegExp(`^${base}/pulls/(\\d+)$`)).reply(
    handle('PATCH', (uri, body) => {
      const pr = pulls.find((p) => p.number === Number(uri.split('/').at(-1)));
      if (!pr) return [404, { message: 'Not Found' }];
      Object.assign(pr, body);
      return [200, pr];
    }),
  );

  return {
    requests,
    checkRuns,
    pulls,
    comments,
    done: () => scope.persist(false),
  };
}
