// A fake of GitHub's REST API for the routes the app uses — only real routes
// with their real request and response shapes — keeping state (check runs,
// comments, pull requests) and recording every request so tests can assert
// the sequence (check run queued → in_progress → completed, one PR, …).
// Two ways in: nock (in-process tests, `mockGitHub`) and a real HTTP server
// on 127.0.0.1 for worker child processes (`startFakeGitHubServer`, reached
// through GHE_HOST/GHE_PROTOCOL like a GitHub Enterprise Server).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';

type Body = any;
/** Status and body, and for faults optionally headers (e.g. retry-after). */
type Reply = readonly [number, unknown] | readonly [number, unknown, Record<string, string>];

export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  times: number;
  /** The error message GitHub would send (e.g. "You have exceeded a secondary rate limit"). */
  message?: string;
  headers?: Record<string, string>;
  /**
   * The request takes effect before the fault is answered: GitHub did the
   * write, and the answer was lost (a 502 from a proxy after a slow write).
   */
  applied?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: Body;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** For a served fault: the status it was answered with. */
  status?: number;
}

export interface FakeGitHubRepo {
  owner: string;
  name: string;
  installationId: number;
  /** Which users have which role (`admin`, `maintain`, `write`, `read`, …); `404`: GitHub answers 404. */
  roles: Record<string, string>;
  /** Branch → sha, as GitHub would answer GET /branches/{branch}; read from the bare repository. */
  branchSha: (branch: string) => Promise<string | null>;
  /** A file's text at a ref, for GET /contents; read from the bare repository. */
  readFile?: (ref: string, path: string) => Promise<string | null>;
  /** A directory's entries at a ref, for GET /contents on a directory; null when absent. */
  listDir?: (ref: string, path: string) => Promise<{ type: 'file' | 'dir'; name: string }[] | null>;
  /** Team members by `org/team` slug, for GET /orgs/{org}/teams/{team}/memberships/{user}. */
  teams?: Record<string, readonly string[]>;
  /** The App's id, which comments made through it name (default 123456, the harnesses' APP_ID). */
  appId?: number;
  /** Sees every request before it is answered (a crash test's kill point). */
  onRequest?: (method: string, pathWithQuery: string) => void;
  /** False once the app was uninstalled: GET /app/installations/{id} answers 404. */
  installed?: () => boolean;
  /**
   * `distinct`: every POST /app/installations/{id}/access_tokens issues a new
   * token, as GitHub does (see `issuedTokens`); default `fixed`: always
   * INSTALLATION_TOKEN (for a git server that checks one token).
   */
  tokens?: 'fixed' | 'distinct';
}

export interface FakeGitHub {
  requests: RecordedRequest[];
  /** Requests that matched no route (a test failing here found an API call the fake does not know). */
  unmatched: RecordedRequest[];
  checkRuns: Map<number, any>;
  pulls: any[];
  comments: Map<number, any>;
  /** Labels on issues and pull requests, by number (DELETE removes from here). */
  labels: Map<number, string[]>;
  handle(method: string, pathWithQuery: string, body: Body): Promise<Reply>;
  /** Makes the next `times` matching requests fail with `status` (a GitHub outage, a 5xx). */
  injectFault(fault: Fault): void;
  /** Faults injected and answered so far. */
  faultsServed: RecordedRequest[];
  /** Drops the faults not yet served. */
  clearFaults(): void;
  /** Every installation token issued, in order (one per access_tokens call). */
  issuedTokens: string[];
  /** Whether this request belongs to this fake's repository or installation. */
  owns(pathWithQuery: string): boolean;
}

export const INSTALLATION_TOKEN = 'ghs_e2eInstallationToken0000000000000000';
const DEFAULT_APP_ID = 123456;
/** Ids of check runs, comments and PRs, unique across every fake of this process, as GitHub's are. */
let nextGlobalId = 1000;

interface Route {
  method: string;
  pattern: RegExp;
  reply(match: RegExpMatchArray, url: URL, body: Body): Reply | Promise<Reply>;
}

export function createFakeGitHub(repo: FakeGitHubRepo): FakeGitHub {
  const requests: RecordedRequest[] = [];
  const unmatched: RecordedRequest[] = [];
  const checkRuns = new Map<number, any>();
  const comments = new Map<number, any>();
  const pulls: any[] = [];
  const faults: Fault[] = [];
  const faultsServed: RecordedRequest[] = [];
  const labels = new Map<number, string[]>();
  const issuedTokens: string[] = [];
  const base = `/repos/${repo.owner}/${repo.name}`;
  const notFound: Reply = [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }];

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: new RegExp(`^/app/installations/${repo.installationId}$`),
      reply: () =>
        repo.installed?.() === false
          ? notFound
          : [
              200,
              {
                id: repo.installationId,
                account: { login: repo.owner, type: 'Organization' },
                app_id: 1,
                target_type: 'Organization',
                repository_selection: 'all',
                permissions: { checks: 'write', contents: 'write', issues: 'write', pull_requests: 'write' },
                events: ['issue_comment', 'pull_request', 'check_run'],
              },
            ],
    },
    {
      // The app's installation on the repository (app JWT) and the repository itself (API-created runs).
      method: 'GET',
      pattern: new RegExp(`^${base}/installation$`),
      reply: () => [200, { id: repo.installationId, account: { login: repo.owner }, app_id: 1 }],
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${base}$`),
      reply: () => [
        200,
        {
          name: repo.name,
          full_name: `${repo.owner}/${repo.name}`,
          owner: { login: repo.owner, type: 'Organization' },
          clone_url: `https://github.com/${repo.owner}/${repo.name}.git`,
          html_url: `https://github.com/${repo.owner}/${repo.name}`,
          default_branch: 'master',
        },
      ],
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^${base}/issues/(\\d+)/labels/([^/]+)$`),
      reply: (match) => {
        const number = Number(match[1]);
        const name = decodeURIComponent(match[2] ?? '');
        const current = labels.get(number) ?? [];
        if (!current.includes(name)) return [404, { message: 'Label does not exist' }];
        const remaining = current.filter((label) => label !== name);
        labels.set(number, remaining);
        return [200, remaining.map((label) => ({ name: label, color: 'ededed', default: false }))];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${base}/pulls/(\\d+)$`),
      reply: (match) => {
        const pr = pulls.find((p) => p.number === Number(match[1]));
        return pr ? [200, pr] : notFound;
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/app/installations/${repo.installationId}/access_tokens$`),
      reply: () => [
        201,
        {
          token: issueToken(),
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
      ],
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${base}/collaborators/([^/]+)/permission$`),
      reply: (match) => {
        const username = decodeURIComponent(match[1] ?? '');
        const role = repo.roles[username] ?? 'none';
        if (role === '404') return notFound;
        const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
        return [200, { permission, role_name: role, user: { login: username, type: 'User' } }];
      },
    },
    {
      method: 'GET',
      pattern: /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/,
      reply: (match) => {
        const members = repo.teams?.[`${match[1]}/${match[2]}`] ?? [];
        const user = decodeURIComponent(match[3] ?? '');
        if (!members.includes(user)) return notFound;
        return [200, { url: '', role: 'member', state: 'active' }];
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${base}/issues/comments/(\\d+)/reactions$`),
      reply: (_match, _url, body) => [
        201,
        { id: nextGlobalId++, content: body.content, user: { login: 'speckit-bot[bot]' } },
      ],
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${base}/branches/(.+)$`),
      reply: async (match) => {
        const branch = decodeURIComponent(match[1] ?? '');
        const sha = await repo.branchSha(branch);
        return sha ? [200, { name: branch, commit: { sha }, protected: false }] : notFound;
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${base}/contents/(.+)$`),
      reply: async (match, url) => {
        const path = decodeURIComponent(match[1] ?? '');
        const ref = url.searchParams.get('ref') ?? 'HEAD';
        const text = (await repo.readFile?.(ref, path)) ?? null;
        if (text === null) {
          // A directory: GitHub answers with an array of its entries.
          const entries = (await repo.listDir?.(ref, path)) ?? null;
          if (!entries) return notFound;
          return [
            200,
            entries.map((e) => ({
              type: e.type,
              name: e.name,
              path: `${path}/${e.name}`,
              sha: '0'.repeat(40),
            })),
          ];
        }
        const content = Buffer.from(text).toString('base64');
        return [
          200,
          {
            type: 'file',
            encoding: 'base64',
            name: path.split('/').at(-1),
            path,
            size: text.length,
            sha: '0'.repeat(40),
            content,
          },
        ];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${base}/commits/([0-9a-f]{40})/check-runs$`),
      reply: (match) => {
        const runs = [...checkRuns.values()].filter((run) => run.head_sha === match[1]);
        return [200, { total_count: runs.length, check_runs: runs }];
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${base}/check-runs$`),
      reply: (_match, _url, body) => {
        const id = nextGlobalId++;
        const run = { id, ...body, html_url: `https://github.com/${repo.owner}/${repo.name}/runs/${id}` };
        checkRuns.set(id, run);
        return [201, run];
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${base}/check-runs/(\\d+)$`),
      reply: (match, _url, body) => {
        const run = checkRuns.get(Number(match[1]));
        if (!run) return notFound;
        Object.assign(run, body);
        return [200, run];
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${base}/issues/(\\d+)/comments$`),
      reply: (match, _url, body) => {
        const id = nextGlobalId++;
        const comment = {
          id,
          body: body.body,
          user: { login: 'speckit-bot[bot]', type: 'Bot' },
          // GitHub names the App a comment was made through.
          performed_via_github_app: { id: repo.appId ?? DEFAULT_APP_ID, slug: 'speckit-bot' },
          issue_url: `https://api.github.com${base}/issues/${match[1]}`,
          html_url: `https://github.com/${repo.owner}/${repo.name}/issues/${match[1]}#issuecomment-${id}`,
        };
        comments.set(comment.id, comment);
        return [201, comment];
      },
    },
    {
      // The comments on an issue or PR, oldest first, paged like GitHub.
      method: 'GET',
      pattern: new RegExp(`^${base}/issues/(\\d+)/comments$`),
      reply: (match, url) => {
        const issueUrl = `https://api.github.com${base}/issues/${match[1]}`;
        const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
        const page = Number(url.searchParams.get('page') ?? 1);
        const onIssue = [...comments.values()].filter((c) => c.issue_url === issueUrl);
        return [200, onIssue.slice((page - 1) * perPage, page * perPage)];
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${base}/issues/(\\d+)/labels$`),
      reply: (match, _url, body) => {
        const number = Number(match[1]);
        const target = pulls.find((pr) => pr.number === number);
        const names: string[] = body.labels ?? [];
        if (target)
          target.labels = [...new Set([...(target.labels ?? []).map((l: any) => l.name), ...names])].map(
            (name) => ({ name }),
          );
        return [
          200,
          (target?.labels ?? names.map((name) => ({ name }))).map((l: any) => ({
            id: 1,
            name: l.name,
            color: 'ededed',
            default: false,
          })),
        ];
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${base}/issues/comments/(\\d+)$`),
      reply: (match, _url, body) => {
        const comment = comments.get(Number(match[1]));
        if (!comment) return notFound;
        comment.body = body.body;
        return [200, comment];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${base}/pulls$`),
      reply: (_match, url) => {
        const head = url.searchParams.get('head');
        const state = url.searchParams.get('state') ?? 'open';
        const matching = pulls.filter(
          (pr) => `${repo.owner}:${pr.head.ref}` === head && (state === 'all' || pr.state === state),
        );
        const perPage = Number(url.searchParams.get('per_page') ?? 30);
        const ordered = url.searchParams.get('direction') === 'desc' ? [...matching].reverse() : matching;
        return [200, ordered.slice(0, perPage)];
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${base}/pulls$`),
      reply: (_match, _url, body) => {
        if (pulls.some((pr) => pr.head.ref === body.head && pr.state === 'open')) {
          return [
            422,
            {
              message: 'Validation Failed',
              errors: [{ message: `A pull request already exists for ${repo.owner}:${body.head}.` }],
            },
          ];
        }
        const number = pulls.length + 1;
        const pr = {
          number,
          state: 'open',
          merged_at: null,
          draft: body.draft ?? false,
          title: body.title,
          body: body.body,
          head: { ref: body.head },
          base: { ref: body.base },
          html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${number}`,
        };
        pulls.push(pr);
        return [201, pr];
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${base}/pulls/(\\d+)$`),
      reply: (match, _url, body) => {
        const pr = pulls.find((p) => p.number === Number(match[1]));
        if (!pr) return notFound;
        // `base` is a branch name in the request and an object in the PR.
        const { base: newBase, ...rest } = body ?? {};
        Object.assign(pr, rest, typeof newBase === 'string' ? { base: { ref: newBase } } : {});
        return [200, pr];
      },
    },
  ];

  function issueToken(): string {
    const token =
      repo.tokens === 'distinct' ? `ghs_${randomBytes(18).toString('hex').slice(0, 36)}` : INSTALLATION_TOKEN;
    issuedTokens.push(token);
    return token;
  }

  const route = (method: string, url: URL) => {
    for (const candidate of routes) {
      const match = candidate.method === method ? url.pathname.match(candidate.pattern) : null;
      if (match) return { route: candidate, match };
    }
    return null;
  };

  return {
    requests,
    unmatched,
    checkRuns,
    pulls,
    comments,
    labels,
    faultsServed,
    issuedTokens,
    injectFault(fault) {
      faults.push({ ...fault });
    },
    clearFaults() {
      faults.length = 0;
    },
    owns(pathWithQuery) {
      const { pathname } = new URL(pathWithQuery, 'https://api.github.com');
      return (
        pathname === base ||
        pathname.startsWith(`${base}/`) ||
        pathname === `/app/installations/${repo.installationId}` ||
        pathname.startsWith(`/app/installations/${repo.installationId}/`)
      );
    },
    async handle(method, pathWithQuery, body) {
      repo.onRequest?.(method, pathWithQuery);
      const url = new URL(pathWithQuery, 'https://api.github.com');
      const recorded: RecordedRequest = { method, path: url.pathname + url.search, body, at: Date.now() };
      const found = route(method, url);
      const fault = faults.find((f) => f.times > 0 && f.method === method && f.path.test(url.pathname));
      if (fault) {
        fault.times -= 1;
        faultsServed.push({ ...recorded, status: fault.status });
        if (fault.applied && found) {
          requests.push(recorded);
          await found.route.reply(found.match, url, body);
        }
        return [
          fault.status,
          { message: fault.message ?? 'Server Error (injected by the test)' },
          ...(fault.headers ? [fault.headers] : []),
        ] as unknown as Reply;
      }
      if (found) {
        requests.push(recorded);
        return found.route.reply(found.match, url, body);
      }
      unmatched.push(recorded);
      return notFound;
    },
  };
}

async function readBody(text: string): Promise<Body> {
  return text ? JSON.parse(text) : undefined;
}

/** The fakes answering through nock now: several may (one per repository and installation). */
const mocked: FakeGitHub[] = [];

/**
 * The fake, answering https://api.github.com through nock in this process.
 * Several fakes (other repositories, other installations) can answer at
 * once: each takes the requests of its own repository and installation,
 * and the first one everything else (recording what no route knows).
 */
export function mockGitHub(
  repo: FakeGitHubRepo,
  apiBase = 'https://api.github.com',
): FakeGitHub & { done(): void } {
  const fake = createFakeGitHub(repo);
  mocked.push(fake);
  const takes = (uri: string) => fake.owns(uri) || !mocked.some((other) => other !== fake && other.owns(uri));
  const scope = nock(apiBase).persist();
  for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
    // nock 15 hands a reply function the fetch Request; a two-parameter
    // function would be taken for the callback style, so this takes one.
    scope.intercept(takes, method).reply(async (request: Request) => {
      const url = new URL(request.url);
      return fake.handle(method, url.pathname + url.search, await readBody(await request.text()));
    });
  }
  return {
    ...fake,
    done: () => {
      const index = mocked.indexOf(fake);
      if (index !== -1) mocked.splice(index, 1);
      scope.persist(false);
    },
  };
}

/** The fake as an HTTP server on 127.0.0.1, shaped like GitHub Enterprise Server (`/api/v3`). */
export async function startFakeGitHubServer(
  repo: FakeGitHubRepo,
): Promise<FakeGitHub & { host: string; close(): Promise<void> }> {
  const fake = createFakeGitHub(repo);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').replace(/^\/api\/v3/, '');
      void readBody(Buffer.concat(chunks).toString('utf8'))
        .then((body) => fake.handle(req.method ?? 'GET', path, body))
        .then(([status, body, headers]) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
          res.end(JSON.stringify(body));
        });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    ...fake,
    host: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
