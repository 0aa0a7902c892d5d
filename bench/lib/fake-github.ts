// The test suite's fake GitHub REST API (test/support/github-api.ts) behind an
// HTTP server on 127.0.0.1 shaped like GitHub Enterprise Server (`/api/v3`),
// that also records when each request arrived (bench clock), so benchmarks can
// time "webhook received → check run created" from outside the app. Several
// repositories, each with its own installation, may share the server: each
// fake takes the requests of its repository and installation.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeGitHub, type FakeGitHub, type FakeGitHubRepo } from '../../test/support/github-api.ts';
import { now } from './stats.ts';

export interface TimedRequest {
  at: number;
  method: string;
  path: string;
  body: unknown;
}

export interface TimedFakeGitHub {
  /** The first repository's fake. */
  fake: FakeGitHub;
  /** One fake per repository (and installation), in the order given. */
  fakes: FakeGitHub[];
  /** host:port for GHE_HOST. */
  host: string;
  /** Every request with its arrival time (bench clock), in order. */
  timed: TimedRequest[];
  /** Resolves with the arrival time of the next request matching `match`. */
  next(match: (request: TimedRequest) => boolean): Promise<TimedRequest>;
  close(): Promise<void>;
}

export async function startTimedFakeGitHub(
  repos: FakeGitHubRepo | readonly FakeGitHubRepo[],
): Promise<TimedFakeGitHub> {
  const fakes = (Array.isArray(repos) ? repos : [repos]).map((repo) => createFakeGitHub(repo));
  const fake = fakes[0]!;
  const owner = (pathWithQuery: string) => fakes.find((f) => f.owns(pathWithQuery)) ?? fake;
  const timed: TimedRequest[] = [];
  const waiters: { match: (r: TimedRequest) => boolean; resolve: (r: TimedRequest) => void }[] = [];
  const server = createServer((req, res) => {
    const at = now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').replace(/^\/api\/v3/, '');
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      const request = { at, method: req.method ?? 'GET', path, body };
      timed.push(request);
      for (const waiter of [...waiters]) {
        if (waiter.match(request)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(request);
        }
      }
      void owner(path)
        .handle(request.method, path, body)
        .then(([status, reply]) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(reply));
        });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    fake,
    fakes,
    host: `127.0.0.1:${port}`,
    timed,
    next: (match) => new Promise((resolve) => waiters.push({ match, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
