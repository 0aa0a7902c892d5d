// Every endpoint's answers, success and error, validated against the OpenAPI
// document the server itself serves at /api/openapi.json.
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../src/api/api-handler.ts';
import type { RunEventHub } from '../../src/api/events.ts';
import { MAX_BODY_BYTES } from '../../src/api/http-helpers.ts';
import { unavailableRunCommands } from '../../src/api/run-commands-port.ts';
import { createHttpServer } from '../../src/http-server.ts';
import { API, API_TOKEN, type ApiApp, insertRun, startApiApp } from './support/api-app.ts';
import { validateResponse } from './support/openapi-validator.ts';

let api: ApiApp;
let document: Record<string, any>;

type Answer = Awaited<ReturnType<ApiApp['request']>>;

function expectContract(answer: Answer, method: string, template: string): void {
  const errors = validateResponse(document, method, template, answer.status, answer.contentType, answer.body);
  expect(errors, `${method} ${template} → ${answer.status}: ${JSON.stringify(answer.body)}`).toEqual([]);
}

function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toMatchObject({ code, message: expect.any(String) });
  expect(answer.body).toHaveProperty('details');
}

beforeAll(async () => {
  api = await startApiApp();
  const served = await api.request('GET', '/api/openapi.json', { auth: false });
  expect(served.status).toBe(200);
  document = served.body;
});

afterAll(async () => {
  await api?.stop();
});

describe('the served OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes every endpoint and schema', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/api/openapi.json',
        `${API}/events`,
        `${API}/runs`,
        `${API}/runs/{runId}`,
        `${API}/runs/{runId}/artifacts/{artifactId}`,
        `${API}/runs/{runId}/cancel`,
        `${API}/runs/{runId}/codex-activity`,
        `${API}/runs/{runId}/retry`,
        `${API}/session`,
      ].sort(),
    );
    for (const name of ['SpecWorkflowRun', 'WorkflowTaskState', 'WorkflowArtifact', 'Error']) {
      expect(document.components.schemas[name], name).toBeDefined();
    }
    const listParameters = document.paths[`${API}/runs`].get.parameters.map((p: { name: string }) => p.name);
    expect(listParameters).toEqual(['status', 'featureKey', 'repository', 'createdBy', 'limit', 'cursor']);
  });
});

describe('authentication', () => {
  it('answers 401 without credentials and with a wrong bearer token', async () => {
    const none = await api.request('GET', `${API}/runs`, { auth: false });
    expectError(none, 401, 'unauthenticated');
    expectContract(none, 'GET', `${API}/runs`);
    const wrong = await api.request('GET', `${API}/runs`, { headers: { authorization: 'Bearer nope' } });
    expectError(wrong, 401, 'unauthenticated');
    expectContract(wrong, 'GET', `${API}/runs`);
  });

  it('exchanges the token once for an HttpOnly SameSite=Strict session cookie', async () => {
    const wrong = await api.request('POST', `${API}/session`, { auth: false, body: { token: 'wrong' } });
    expectError(wrong, 401, 'unauthenticated');
    expectContract(wrong, 'POST', `${API}/session`);

    const signedIn = await api.request('POST', `${API}/session`, { auth: false, body: { token: API_TOKEN } });
    expect(signedIn.status).toBe(200);
    expectContract(signedIn, 'POST', `${API}/session`);
    const cookie = signedIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^speckit_session=v1\.\d+\.[\w-]+;/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain(API_TOKEN);
    const session = cookie.split(';')[0]!;

    const listed = await api.request('GET', `${API}/runs`, { headers: { cookie: session } });
    expect(listed.status).toBe(200);
    const state = await api.request('GET', `${API}/session`, { headers: { cookie: session } });
    expect(state.body).toMatchObject({ authenticated: true });
    expectContract(state, 'GET', `${API}/session`);

    const forged = await api.request('GET', `${API}/runs`, {
      headers: { cookie: `speckit_session=v1.9999999999999.${'A'.repeat(43)}` },
    });
    expectError(forged, 401, 'unauthenticated');

    const crossSite = await api.request('POST', `${API}/runs`, {
      headers: { cookie: session, origin: 'https://evil.example' },
      body: { repository: 'octo-org/hello-world', featureKey: '009-x' },
    });
    expect(crossSite.status).toBe(403);
  });

  it('refuses a token in the URL', async () => {
    const answer = await api.request('GET', `${API}/runs?token=${API_TOKEN}`, { auth: false });
    expectError(answer, 400, 'token_in_url');
    expectContract(answer, 'GET', `${API}/runs`);
  });
});

describe('GET /runs', () => {
  it('filters and pages through runs with a cursor', async () => {
    const base = Date.parse('2026-11-01T10:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(
        await insertRun(api.prisma, {
          featureKey: `10${i}-page`,
          repository: i % 2 === 0 ? 'octo-org/hello-world' : 'octo-org/second',
          status: i === 4 ? 'failed' : 'succeeded',
          createdBy: i === 3 ? 'api' : 'octocat',
          createdAt: new Date(base + (i < 3 ? 0 : i) * 1000), // three runs share a timestamp
          checkRunId: 9_007_199_254_740_000n,
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await api.request('GET', `${API}/runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(answer.status).toBe(200);
      expectContract(answer, 'GET', `${API}/runs`);
      seen.push(...answer.body.items.map((r: { id: string }) => r.id));
      cursor = answer.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect(seen.slice(0, 2)).toEqual([ids[4], ids[3]]);

    const second = await api.request('GET', `${API}/runs?repository=octo-org/second`);
    expect(second.body.items.map((r: { id: string }) => r.id).sort()).toEqual([ids[1], ids[3]].sort());
    const failed = await api.request('GET', `${API}/runs?status=failed,cancelled`);
    expect(failed.body.items.map((r: { id: string }) => r.id)).toEqual([ids[4]]);
    const byApi = await api.request('GET', `${API}/runs?createdBy=api`);
    expect(byApi.body.items.map((r: { id: string }) => r.id)).toEqual([ids[3]]);
    const byFeature = await api.request('GET', `${API}/runs?featureKey=102-page`);
    expect(byFeature.body.items).toHaveLength(1);
    // BIGINT columns are JSON integers.
    expect(byFeature.body.items[0]).toMatchObject({
      installationId: 4242,
      checkRunId: 9_007_199_254_740_000,
    });
  });

  it('answers 400 naming the offending query fields', async () => {
    const answer = await api.request('GET', `${API}/runs?limit=0&status=bogus&colour=red`);
    expectError(answer, 400, 'validation_failed');
    expectContract(answer, 'GET', `${API}/runs`);
    const fields = answer.body.details.fields.map((f: { field: string }) => f.field).sort();
    expect(fields).toEqual(['colour', 'limit', 'status']);
    const badCursor = await api.request('GET', `${API}/runs?cursor=not-a-cursor`);
    expectError(badCursor, 400, 'validation_failed');
  });
});

describe('GET /runs/{runId}', () => {
  it('returns the run with every step attempt and artifact', async () => {
    const runId = await insertRun(api.prisma, {
      status: 'failed',
      conclusion: 'failure',
      currentStep: 'finalize',
      errorCode: 'codex_failed',
      errorMessage: 'Codex failed: set OPENAI_API_KEY and retry.',
      errorStep: 'codex',
      phaseNumber: '1',
      phaseTitle: 'Setup',
      startedAt: new Date(),
      finishedAt: new Date(),
    });
    await api.prisma.specWorkflowTaskState.createMany({
      data: [
        { runId, taskName: 'intake', status: 'succeeded', attempt: 1, payload: {}, startedAt: new Date() },
        {
          runId,
          taskName: 'codex',
          status: 'failed',
          attempt: 1,
          payload: { error_code: 'codex_failed', message: 'boom' },
          startedAt: new Date(),
          finishedAt: new Date(),
        },
        { runId, taskName: 'codex', status: 'running', attempt: 2, startedAt: new Date() },
      ],
    });
    const dir = path.join(api.artifactsDir, runId, 'codex-1');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'codex.patch'), 'diff --git a/x b/x\n');
    const artifact = await api.prisma.workflowArtifact.create({
      data: {
        runId,
        step: 'codex',
        attempt: 1,
        artifactType: 'codex_patch',
        path: `${runId}/codex-1/codex.patch`,
        sizeBytes: 19n,
      },
    });

    const answer = await api.request('GET', `${API}/runs/${runId}`);
    expect(answer.status).toBe(200);
    expectContract(answer, 'GET', `${API}/runs/{runId}`);
    expect(answer.body).toMatchObject({
      id: runId,
      status: 'failed',
      error: { code: 'codex_failed', step: 'codex' },
      phaseNumber: '1',
    });
    expect(answer.body.tasks.map((t: any) => `${t.taskName}#${t.attempt}:${t.status}`)).toEqual([
      'intake#1:succeeded',
      'codex#1:failed',
      'codex#2:running',
    ]);
    expect(answer.body.artifacts).toEqual([
      expect.objectContaining({
        id: artifact.id,
        artifactType: 'codex_patch',
        sizeBytes: 19,
        downloadUrl: `${API}/runs/${runId}/artifacts/${artifact.id}`,
      }),
    ]);

    const download = await fetch(`${api.url}${answer.body.artifacts[0].downloadUrl}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toContain('text/x-diff');
    expect(await download.text()).toBe('diff --git a/x b/x\n');
    expect(
      validateResponse(
        document,
        'GET',
        `${API}/runs/{runId}/artifacts/{artifactId}`,
        200,
        'application/octet-stream',
        null,
      ),
    ).toEqual([]);
  });

  it('answers 404 for an unknown run and 400 for an id that is not a uuid', async () => {
    const missing = await api.request('GET', `${API}/runs/00000000-0000-4000-8000-000000000000`);
    expectError(missing, 404, 'not_found');
    expectContract(missing, 'GET', `${API}/runs/{runId}`);
    const bad = await api.request('GET', `${API}/runs/not-a-uuid`);
    expectError(bad, 400, 'validation_failed');
    expectContract(bad, 'GET', `${API}/runs/{runId}`);
    const noArtifact = await api.request(
      'GET',
      `${API}/runs/00000000-0000-4000-8000-000000000000/artifacts/00000000-0000-4000-8000-000000000001`,
    );
    expectError(noArtifact, 404, 'not_found');
    expectContract(noArtifact, 'GET', `${API}/runs/{runId}/artifacts/{artifactId}`);
  });
});

describe('GET /runs/{runId}/codex-activity', () => {
  it("renders the run's codex.jsonl as messages, commands and file changes", async () => {
    const runId = await insertRun(api.prisma, { status: 'running', currentStep: 'apply' });
    const dir = path.join(api.artifactsDir, runId, 'codex-1');
    await mkdir(dir, { recursive: true });
    const lines = [
      { type: 'thread.started', thread_id: 't-1' },
      { type: 'turn.started' },
      { type: 'item.completed', item: { id: 'i0', type: 'agent_message', text: 'I will add hello.txt.' } },
      {
        type: 'item.completed',
        item: {
          id: 'i1',
          type: 'command_execution',
          command: 'ls',
          aggregated_output: 'README.md\n',
          exit_code: 0,
          status: 'completed',
        },
      },
      {
        type: 'item.completed',
        item: {
          id: 'i2',
          type: 'file_change',
          changes: [{ path: '/w/src/hello.txt', kind: 'add' }],
          status: 'completed',
        },
      },
      { type: 'turn.completed', usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 5 } },
    ];
    await writeFile(
      path.join(dir, 'codex.jsonl'),
      `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`,
    );
    await api.prisma.workflowArtifact.create({
      data: {
        runId,
        step: 'codex',
        attempt: 1,
        artifactType: 'codex_logs',
        path: `${runId}/codex-1/codex.jsonl`,
        sizeBytes: 1n,
      },
    });
    const answer = await api.request('GET', `${API}/runs/${runId}/codex-activity`);
    expect(answer.status).toBe(200);
    expectContract(answer, 'GET', `${API}/runs/{runId}/codex-activity`);
    expect(answer.body.items.map((i: any) => [i.kind, i.text])).toEqual([
      ['agent_message', 'I will add hello.txt.'],
      ['command', 'ls'],
      ['file_change', 'add /w/src/hello.txt'],
      ['turn', 'Turn completed (10 input, 5 output tokens)'],
    ]);
    const missing = await api.request(
      'GET',
      `${API}/runs/00000000-0000-4000-8000-000000000000/codex-activity`,
    );
    expectError(missing, 404, 'not_found');
    expectContract(missing, 'GET', `${API}/runs/{runId}/codex-activity`);
  });
});

describe('POST /runs', () => {
  it('creates a run recorded as created by api (202)', async () => {
    const answer = await api.request('POST', `${API}/runs`, {
      body: { repository: 'octo-org/hello-world', featureKey: '201-create', forcePhase: '2' },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expectContract(answer, 'POST', `${API}/runs`);
    expect(answer.body.run).toMatchObject({ featureKey: '201-create', createdBy: 'api', status: 'pending' });
    expect(answer.headers.get('location')).toBe(`${API}/runs/${answer.body.run.id}`);
    expect(api.commands().calls.at(-1)).toMatchObject({
      command: 'create',
      input: {
        repository: 'octo-org/hello-world',
        featureKey: '201-create',
        forcePhase: '2',
        createdBy: 'api',
      },
    });
  });

  it('answers 409 with the active run of that feature', async () => {
    const active = await insertRun(api.prisma, { featureKey: '202-busy', status: 'running' });
    const answer = await api.request('POST', `${API}/runs`, {
      body: { repository: 'octo-org/hello-world', featureKey: '202-busy' },
    });
    expectError(answer, 409, 'run_active');
    expectContract(answer, 'POST', `${API}/runs`);
    expect(answer.body.run.id).toBe(active);
  });

  it('answers 404 when the app is not installed on the repository', async () => {
    const answer = await api.request('POST', `${API}/runs`, {
      body: { repository: 'someone/else', featureKey: '001-x' },
    });
    expectError(answer, 404, 'not_installed');
    expectContract(answer, 'POST', `${API}/runs`);
  });

  it('answers 400 naming the invalid body fields', async () => {
    const answer = await api.request('POST', `${API}/runs`, {
      body: { repository: 'no-slash', featureKey: '../etc', extra: 1 },
    });
    expectError(answer, 400, 'validation_failed');
    expectContract(answer, 'POST', `${API}/runs`);
    expect(answer.body.details.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'extra',
      'featureKey',
      'repository',
    ]);
    const notJson = await api.request('POST', `${API}/runs`, { body: '{oops' });
    expectError(notJson, 400, 'invalid_json');
    expectContract(notJson, 'POST', `${API}/runs`);
  });
});

describe('request bodies over the API limit', () => {
  /** POSTs `body` on a connection of its own (the server may drop it after refusing). */
  function postAlone(pathAndQuery: string, body: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${api.url}${pathAndQuery}`,
        {
          method: 'POST',
          agent: false,
          headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const contentType = res.headers['content-type'] ?? null;
            resolve({
              status: res.statusCode ?? 0,
              headers: new Headers(res.headers as Record<string, string>),
              body: contentType?.startsWith('application/json') ? JSON.parse(text) : text,
              contentType,
            });
          });
        },
      );
      // The server answers before it has read the whole body, then stops reading.
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
      req.end(body);
    });
  }

  it('answers 413 body_too_large and creates nothing', async () => {
    const before = api.commands().calls.length;
    for (const bytes of [MAX_BODY_BYTES + 1, 1024 * 1024]) {
      // A valid request, padded with a long field: only its size is wrong.
      const body = JSON.stringify({
        repository: 'octo-org/hello-world',
        featureKey: '203-big',
        pad: 'x'.repeat(bytes),
      });
      const answer = await postAlone(`${API}/runs`, body);
      console.log(
        `injected: a ${Buffer.byteLength(body)}-byte body on POST /runs (limit ${MAX_BODY_BYTES}); observed: ${answer.status} ${answer.body?.code}`,
      );
      expectError(answer, 413, 'body_too_large');
      expect(answer.body.message).toContain(String(MAX_BODY_BYTES));
      expect(answer.contentType).toMatch(/^application\/json/);
    }
    for (const action of ['retry', 'cancel']) {
      const runId = await insertRun(api.prisma, { featureKey: `204-${action}`, status: 'failed' });
      const answer = await postAlone(
        `${API}/runs/${runId}/${action}`,
        JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }),
      );
      console.log(
        `injected: an oversized body on POST /runs/{id}/${action}; observed: ${answer.status} ${answer.body?.code}`,
      );
      expectError(answer, 413, 'body_too_large');
    }
    expect(api.commands().calls.length).toBe(before);
  });

  it('is documented in the OpenAPI contract, and closes the connection', async () => {
    const answer = await postAlone(
      `${API}/runs`,
      JSON.stringify({
        repository: 'octo-org/hello-world',
        featureKey: '203-big',
        pad: 'x'.repeat(MAX_BODY_BYTES),
      }),
    );
    expect(answer.status).toBe(413);
    expectContract(answer, 'POST', `${API}/runs`);
    expect(answer.headers.get('connection')).toBe('close');
  });
});

describe('POST /runs/{runId}/retry and /cancel', () => {
  it('resumes a failed run from the failed step (202) and refuses any other run (409)', async () => {
    const failed = await insertRun(api.prisma, {
      status: 'failed',
      conclusion: 'failure',
      currentStep: 'finalize',
      errorCode: 'push_rejected',
      errorMessage: 'rejected',
      errorStep: 'publish',
      finishedAt: new Date(),
    });
    const retried = await api.request('POST', `${API}/runs/${failed}/retry`, {
      body: { notes: 'fixed the token' },
    });
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    expectContract(retried, 'POST', `${API}/runs/{runId}/retry`);
    expect(retried.body.run).toMatchObject({ status: 'running', currentStep: 'publish', error: null });
    expect(api.commands().calls.at(-1)).toMatchObject({ input: { notes: 'fixed the token', actor: 'api' } });

    const again = await api.request('POST', `${API}/runs/${failed}/retry`);
    expectError(again, 409, 'run_not_failed');
    expectContract(again, 'POST', `${API}/runs/{runId}/retry`);
    expect(again.body.run.id).toBe(failed);

    const unknown = await api.request('POST', `${API}/runs/00000000-0000-4000-8000-000000000000/retry`);
    expectError(unknown, 404, 'not_found');
    expectContract(unknown, 'POST', `${API}/runs/{runId}/retry`);
    const badBody = await api.request('POST', `${API}/runs/${failed}/retry`, { body: { notes: 5 } });
    expectError(badBody, 400, 'validation_failed');
    expectContract(badBody, 'POST', `${API}/runs/{runId}/retry`);
  });

  it('cancels an active run (202) and refuses a finished one (409)', async () => {
    const running = await insertRun(api.prisma, { status: 'running', currentStep: 'codex' });
    const cancelled = await api.request('POST', `${API}/runs/${running}/cancel`);
    expect(cancelled.status).toBe(202);
    expectContract(cancelled, 'POST', `${API}/runs/{runId}/cancel`);
    expect(cancelled.body.run.status).toBe('cancelling');

    const done = await insertRun(api.prisma, {
      status: 'succeeded',
      conclusion: 'success',
      currentStep: 'finalize',
    });
    const refused = await api.request('POST', `${API}/runs/${done}/cancel`);
    expectError(refused, 409, 'run_finished');
    expectContract(refused, 'POST', `${API}/runs/{runId}/cancel`);

    const unknown = await api.request('POST', `${API}/runs/00000000-0000-4000-8000-000000000000/cancel`);
    expectError(unknown, 404, 'not_found');
    expectContract(unknown, 'POST', `${API}/runs/{runId}/cancel`);
    const bad = await api.request('POST', `${API}/runs/nope/cancel`);
    expectError(bad, 400, 'validation_failed');
    expectContract(bad, 'POST', `${API}/runs/{runId}/cancel`);
  });
});

describe('without SPECKIT_API_TOKEN', () => {
  it('answers 503 on every API path, saying how to enable it, and keeps /healthz', async () => {
    const closed: RunEventHub = {
      subscribe: () => () => {},
      ready: async () => {},
      subscriberCount: 0,
      close: async () => {},
    };
    const server = createHttpServer({
      webhooks: null,
      checkDatabase: async () => {},
      api: createApiHandler({
        prisma: api.prisma,
        events: closed,
        runCommands: unavailableRunCommands,
        apiToken: undefined,
        artifactsDir: api.artifactsDir,
        secureCookies: false,
        log: pino({ level: 'silent' }),
      }),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const [method, template, url] of [
        ['GET', `${API}/runs`, `${API}/runs`],
        ['POST', `${API}/runs`, `${API}/runs`],
        ['GET', `${API}/runs/{runId}`, `${API}/runs/00000000-0000-4000-8000-000000000000`],
        ['GET', `${API}/events`, `${API}/events`],
        ['POST', `${API}/session`, `${API}/session`],
      ] as const) {
        const response = await fetch(`${base}${url}`, {
          method,
          headers: { authorization: 'Bearer anything', 'content-type': 'application/json' },
          body: method === 'POST' ? '{}' : undefined,
        });
        const body: any = await response.json();
        const answer = {
          status: response.status,
          headers: response.headers,
          body,
          contentType: response.headers.get('content-type'),
        };
        expectError(answer, 503, 'api_disabled');
        expect(body.message).toContain('SPECKIT_API_TOKEN');
        expectContract(answer, method, template);
      }
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const page = await fetch(`${base}/`);
      expect(page.headers.get('content-type')).toContain('text/html');
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
