// The artifact endpoint serves only files inside ARTIFACTS_DIR: stored paths
// with `..`, absolute paths, symlinks leading out and encoded traversal in the
// URL are all refused.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArtifactFile } from '../../src/api/artifact-files.ts';
import { API, type ApiApp, insertRun, startApiApp } from './support/api-app.ts';

let api: ApiApp;
let runId: string;
const SECRET = 'top secret outside the artifact root';

async function addArtifact(relativePath: string, artifactType = 'codex_logs'): Promise<string> {
  const row = await api.prisma.workflowArtifact.create({
    data: { runId, step: 'codex', attempt: 1, artifactType, path: relativePath, sizeBytes: 1n },
  });
  return row.id;
}

beforeAll(async () => {
  api = await startApiApp();
  runId = await insertRun(api.prisma, {
    status: 'succeeded',
    conclusion: 'success',
    currentStep: 'finalize',
  });
  // A secret next to the artifact root (as var/ holds .env and keys next to var/artifacts).
  await writeFile(path.join(api.root, 'secret.txt'), SECRET);
  const dir = path.join(api.artifactsDir, runId, 'codex-1');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'codex.jsonl'), '{"type":"turn.started"}\n');
  await symlink(path.join(api.root, 'secret.txt'), path.join(dir, 'leak.jsonl'));
  await symlink(path.join(dir, 'codex.jsonl'), path.join(dir, 'alias.jsonl'));
  await symlink(api.root, path.join(api.artifactsDir, 'escape'));
});

afterAll(async () => {
  await api?.stop();
});

describe('GET /runs/{runId}/artifacts/{artifactId}', () => {
  it('serves a file inside the artifact root', async () => {
    const id = await addArtifact(`${runId}/codex-1/codex.jsonl`);
    const answer = await api.request('GET', `${API}/runs/${runId}/artifacts/${id}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('{"type":"turn.started"}\n');
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="codex-1-codex.jsonl"');
    // A symlink whose target stays inside the root is fine.
    const alias = await addArtifact(`${runId}/codex-1/alias.jsonl`, 'alias');
    expect((await api.request('GET', `${API}/runs/${runId}/artifacts/${alias}`)).status).toBe(200);
  });

  it.each([
    ['a parent-directory path', '../secret.txt'],
    ['a deeper traversal', `${'x'}/../../secret.txt`],
    ['an absolute path', '/etc/passwd'],
    ['a symlink to a file outside', 'RUN/codex-1/leak.jsonl'],
    ['a symlinked directory leading outside', 'escape/secret.txt'],
  ])('refuses %s stored as the artifact path (403)', async (_name, stored) => {
    const id = await addArtifact(stored.replace('RUN', runId), `bad-${Math.random()}`);
    const answer = await api.request('GET', `${API}/runs/${runId}/artifacts/${id}`);
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ code: 'forbidden_path' });
    expect(JSON.stringify(answer.body)).not.toContain(SECRET);
  });

  it.each([`..%2F..%2Fsecret.txt`, `%2e%2e%2f%2e%2e%2fsecret.txt`, `..%252F..%252Fsecret.txt`])(
    'refuses traversal in the URL: %s',
    async (segment) => {
      const answer = await api.request('GET', `${API}/runs/${runId}/artifacts/${segment}`);
      expect([400, 404]).toContain(answer.status);
      expect(JSON.stringify(answer.body)).not.toContain(SECRET);
    },
  );

  it('refuses a raw ../ in the request target', async () => {
    const { request } = await import('node:http');
    const url = new URL(api.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${API}/runs/${runId}/artifacts/../../../../secret.txt`,
          headers: { authorization: 'Bearer test-api-token-0123456789abcdef' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect([400, 404]).toContain(status);
  });

  it('does not serve an artifact through another run', async () => {
    const id = await addArtifact(`${runId}/codex-1/codex.jsonl`, 'other-run');
    const otherRun = await insertRun(api.prisma, { status: 'running' });
    const answer = await api.request('GET', `${API}/runs/${otherRun}/artifacts/${id}`);
    expect(answer.status).toBe(404);
  });

  it('openArtifactFile keeps every resolved path inside the root', async () => {
    for (const stored of [
      '..',
      '.',
      '',
      'escape',
      `${runId}/../../secret.txt`,
      `${runId}/codex-1/codex.jsonl\0.txt`,
    ]) {
      const result = await openArtifactFile(api.artifactsDir, stored);
      expect(result.kind, stored).not.toBe('ok');
    }
  });
});
