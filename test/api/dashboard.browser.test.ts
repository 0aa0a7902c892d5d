// The dashboard in real headless Chromium: sign in with the token, see runs,
// watch a status change arrive live, retry a failed run and see it resume.
// Retry goes through the chain's real run commands (src/chain/run-commands.ts):
// the run is resumed at its failed step and that step's job is enqueued (no
// worker runs here, so the test plays the worker with a separate connection).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, type ApiApp, insertRun, startApiApp } from './support/api-app.ts';

const OUTPUT = fileURLToPath(new URL('./output/', import.meta.url));

let api: ApiApp;
let browser: Browser;
let page: Page;
let worker: pg.Client;
const problems: string[] = [];

beforeAll(async () => {
  await mkdir(OUTPUT, { recursive: true });
  api = await startApiApp({ commands: 'real' });
  worker = new pg.Client({ connectionString: api.database.url });
  await worker.connect();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await worker?.end();
  await api?.stop();
});

describe('the dashboard', () => {
  it('shows runs live and retries a failed run', async () => {
    const active = await insertRun(api.prisma, {
      repository: 'octo-org/hello-world',
      featureKey: '001-live',
      status: 'running',
      currentStep: 'codex',
      phaseNumber: '1',
      phaseTitle: 'Setup',
      startedAt: new Date(),
    });
    const failed = await insertRun(api.prisma, {
      repository: 'octo-org/hello-world',
      featureKey: '002-broken',
      status: 'failed',
      conclusion: 'failure',
      currentStep: 'finalize',
      errorCode: 'codex_auth',
      errorMessage: 'Codex has no credentials: run `codex login` as the app user, then retry.',
      errorStep: 'codex',
      startedAt: new Date(Date.now() - 60_000),
      finishedAt: new Date(),
    });
    await api.prisma.specWorkflowTaskState.createMany({
      data: [
        {
          runId: failed,
          taskName: 'intake',
          status: 'succeeded',
          attempt: 1,
          payload: {},
          startedAt: new Date(),
        },
        {
          runId: failed,
          taskName: 'codex',
          status: 'failed',
          attempt: 1,
          payload: { error_code: 'codex_auth', message: 'Codex has no credentials.' },
          startedAt: new Date(),
          finishedAt: new Date(),
        },
      ],
    });

    // Sign in: the token is asked once and exchanged for the cookie.
    await page.goto(`${api.url}/`);
    await page.locator('#token').fill(API_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator(`tr[data-run-id="${active}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.getAttribute('data-status')).toBe('running');
    expect(await row.textContent()).toContain('1: Setup');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'speckit_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    await page.locator('#live.on').waitFor({ timeout: 5000 });

    // A worker advances the run: the row changes without a reload.
    const committedAt = Date.now();
    await worker.query(
      `UPDATE spec_workflow_run SET status = 'succeeded', conclusion = 'success', current_step = 'finalize',
         pr_number = 7, pr_url = 'https://github.com/octo-org/hello-world/pull/7', finished_at = now() WHERE id = $1`,
      [active],
    );
    await page.locator(`tr[data-run-id="${active}"][data-status="succeeded"]`).waitFor({ timeout: 5000 });
    console.log(`dashboard row updated ${Date.now() - committedAt} ms after the commit`);
    expect(await page.locator(`tr[data-run-id="${active}"] a[href$="/pull/7"]`).count()).toBe(1);
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-runs.png'), fullPage: true });

    // The failed run's page: error with remediation, timeline, Retry.
    await page.locator(`tr[data-run-id="${failed}"] a`).first().click();
    await page.waitForURL(`**/runs/${failed}`);
    await expect.poll(() => page.locator('#run-status').textContent()).toBe('failed');
    expect(await page.locator('#run-error').textContent()).toContain('codex login');
    expect(await page.locator('#timeline li').count()).toBe(2);
    await page.locator('#live.on').waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 5000 }).toBe('running');
    expect(await page.locator('#run-step').textContent()).toBe('(step codex)');
    expect(await page.getByRole('button', { name: 'Retry' }).isHidden()).toBe(true);

    // The resumed run's next attempt appears live on the timeline.
    await worker.query(
      `INSERT INTO spec_workflow_task_state (run_id, task_name, status, attempt, started_at)
       VALUES ($1, 'codex', 'running', 2, now())`,
      [failed],
    );
    await page.locator('#timeline li[data-step="codex"][data-attempt="2"]').waitFor({ timeout: 5000 });
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-run.png'), fullPage: true });

    const stored = await api.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id: failed } });
    expect(stored).toMatchObject({ status: 'running', currentStep: 'codex', errorMessage: null });
    // The real retry enqueued the codex step for a worker to pick up.
    const jobs = await worker.query(
      `SELECT name FROM pgboss.job WHERE name = 'speckit.codex' AND data->>'runId' = $1`,
      [failed],
    );
    expect(jobs.rowCount).toBe(1);
    expect(problems).toEqual([]);
  });
});
