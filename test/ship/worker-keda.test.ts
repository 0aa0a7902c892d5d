// deploy/worker-keda.yaml's query, run as written against a real pg-boss
// schema made by the app's own createQueues: it must count the jobs being
// worked plus exactly the jobs pg-boss hands to a free worker — not the Codex
// jobs of an installation held back by SPECKIT_INSTALLATION_CONCURRENCY.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { queueName } from '../../src/chain/chain.ts';
import { createQueues } from '../../src/chain/worker.ts';
import { readConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const deploy = path.resolve(import.meta.dirname, '../../deploy');
const scaledObject = parse(readFileSync(path.join(deploy, 'worker-keda.yaml'), 'utf8'));
const query: string = scaledObject.spec.triggers[0].metadata.query;

let database: TestDatabase;
let boss: PgBoss;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  boss = new PgBoss({ connectionString: database.url, supervise: false, schedule: false });
  await boss.start();
  await createQueues(boss, readConfig({ DATABASE_URL: database.url }));
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
}, 60_000);

afterAll(async () => {
  await client?.end();
  await boss?.stop({ graceful: false, close: true });
  await database?.drop();
});

async function kedaCount(): Promise<number> {
  const { rows } = await client.query({ text: query, rowMode: 'array' });
  return Number(rows[0]?.[0]);
}

describe('deploy/worker-keda.yaml', () => {
  it('uses the installation limit the workers use', () => {
    const limit = Number(/greatest\(0, (\d+) - busy\)/.exec(query)?.[1]);
    const configMap = parseAllDocuments(readFileSync(path.join(deploy, 'configmap.yaml'), 'utf8'))[0]?.toJS();
    const worker = parseAllDocuments(readFileSync(path.join(deploy, 'worker.yaml'), 'utf8'))[0]?.toJS();
    const workerEnv = Object.fromEntries(
      worker.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [
        e.name,
        e.value,
      ]),
    );
    // The key file is mounted in the pod, not here; the limit does not depend on it.
    const { PRIVATE_KEY_PATH: _mounted, ...settings } = { ...configMap.data, ...workerEnv };
    const config = readConfig(settings);
    expect(limit).toBe(config.installationConcurrency);
  });

  it('counts active jobs and the ones pg-boss hands out, not Codex jobs held back by the installation limit', async () => {
    const limit = readConfig({}).installationConcurrency;
    const codex = queueName('codex');
    const discover = queueName('discover');
    const sendCodex = (installation: string, count: number) =>
      Promise.all(
        Array.from({ length: count }, () =>
          boss.send(codex, { runId: crypto.randomUUID() }, { group: { id: installation } }),
        ),
      );
    // One busy installation: as many Codex steps as it may run, and three more behind them.
    await sendCodex('1001', limit + 3);
    const taken = await boss.fetch(codex, { batchSize: 100, groupConcurrency: limit });
    expect(taken).toHaveLength(limit);
    // A quiet installation, short steps, and a retry not due yet.
    await sendCodex('1002', 2);
    for (let i = 0; i < 3; i += 1) await boss.send(discover, { runId: crypto.randomUUID() });
    await boss.send(discover, { runId: crypto.randomUUID() }, { startAfter: 3600 });

    const counted = await kedaCount();
    const { rows } = await client.query<{ ready: string }>(
      "SELECT count(*) AS ready FROM pgboss.job WHERE name LIKE 'speckit.%' AND state IN ('created', 'retry') AND start_after <= now()",
    );

    // What free workers get, fetching as the app's workers do (groupConcurrency on Codex only).
    const handedCodex = await boss.fetch(codex, { batchSize: 100, groupConcurrency: limit });
    const handedDiscover = await boss.fetch(discover, { batchSize: 100 });
    const handed = handedCodex.length + handedDiscover.length;
    console.log(
      `KEDA count ${counted} = ${taken.length} active + ${handed} handed out ` +
        `(${handedCodex.length} codex, ${handedDiscover.length} discover); ` +
        `all ready jobs: ${rows[0]?.ready} (3 Codex jobs of installation 1001 held back)`,
    );
    expect(handedCodex.map((job) => job.groupId)).toEqual(['1002', '1002']);
    expect(counted).toBe(taken.length + handed);
    expect(Number(rows[0]?.ready)).toBe(handed + 3);
  });
});
