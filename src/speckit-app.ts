// Composition: config → database → queue → GitHub App → HTTP → workers.
// main.ts calls this for the real process; the end-to-end tests call it in
// their own process (so that nock can answer GitHub's API).
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PgBoss } from 'pg-boss';
import { createNodeMiddleware, ProbotOctokit } from 'probot';
import { createApiHandler } from './api/api-handler.ts';
import { createRunEventHub, type RunEventHub } from './api/events.ts';
import type { RunCommands } from './api/run-commands-port.ts';
import { createAppFunction } from './app.ts';
import { admitTrigger } from './chain/admit-trigger.ts';
import { type CancelListener, startCancelListener } from './chain/cancel-listener.ts';
import type { Step } from './chain/chain.ts';
import { installCodexSlotGuard } from './chain/codex-slot-guard.ts';
import { startReconciler } from './chain/reconciler.ts';
import { createRunCommands } from './chain/run-commands.ts';
import { createRunProgress } from './chain/run-progress.ts';
import type { StepHandler } from './chain/step-context.ts';
import { applyStep } from './chain/steps/apply.ts';
import { codexStep } from './chain/steps/codex.ts';
import { discoverStep } from './chain/steps/discover.ts';
import { finalizeStep } from './chain/steps/finalize.ts';
import { intakeStep } from './chain/steps/intake.ts';
import { publishStep } from './chain/steps/publish.ts';
import { createQueues, startWorkers, type Workers } from './chain/worker.ts';
import type { Config } from './config.ts';
import { openDatabase } from './db/open-database.ts';
import { createPrismaClient, type PrismaClient } from './db/prisma.ts';
import { createGitHubAuth, createProbot } from './github/github-app.ts';
import { withSecondaryRateLimitRetry } from './github/secondary-rate-limit.ts';
import { withWritePacing } from './github/write-pacing.ts';
import { createDatabaseSlots } from './github/write-slots.ts';
import { createHttpServer } from './http-server.ts';
import type { Logger } from './logger.ts';
// --- issue #11 (ship it): metrics, readiness, setup page, retention ---
import { withGitHubMetrics } from './metrics/github-metrics.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createReadiness } from './metrics/readiness.ts';
import { type RetentionService, startRetention } from './retention/retention.ts';
import { createSetupHandler } from './setup/setup-app.ts';

export const STEP_HANDLERS: Record<Step, StepHandler> = {
  intake: intakeStep,
  discover: discoverStep,
  codex: codexStep,
  apply: applyStep,
  publish: publishStep,
  finalize: finalizeStep,
};

export interface StartOptions {
  web: boolean;
  workers: boolean;
  log: Logger;
  /** Octokit class for Probot (tests disable retries and throttling). */
  Octokit?: typeof ProbotOctokit;
  /** Replaces the run commands behind the API's create/retry/cancel (tests). */
  runCommands?: (deps: { prisma: PrismaClient; boss: PgBoss }) => RunCommands;
  /** issue #11: the metrics registry to record into (default: a new one per app). */
  metrics?: Metrics;
  /** issue #11: where the setup page writes credentials (default `.env` in the working directory). */
  envFile?: string;
}

export interface RunningApp {
  url: string | null;
  databaseUrl: string;
  /** issue #11: this process's metrics (what /metrics serves). */
  metrics: Metrics;
  stop(): Promise<void>;
}

export async function startSpeckit(config: Config, options: StartOptions): Promise<RunningApp> {
  const { log } = options;
  const database = await openDatabase(config, {
    migrate: config.migrate,
    log: (message) => log.info(message),
  });
  const prisma = createPrismaClient(database.url);
  // --- issue #11 ---
  const metrics = options.metrics ?? createMetrics();
  const readiness = createReadiness({
    prisma,
    expects: options.workers ? ['queues', 'workers'] : ['queues'],
  });
  const boss = new PgBoss({
    connectionString: database.url,
    useListenNotify: true,
    // Heartbeat loss and expiry are found by the monitor pass, which runs at
    // the longer of these two intervals: both follow SPECKIT_SUPERVISE_SECONDS.
    superviseIntervalSeconds: config.superviseSeconds,
    monitorIntervalSeconds: config.superviseSeconds,
    application_name: 'speckit-bot',
  });
  boss.on('error', (error: unknown) => log.error({ err: error }, 'pg-boss error'));
  await boss.start();
  await createQueues(boss, config);
  await installCodexSlotGuard(prisma, config.installationConcurrency); // issue #9
  readiness.markStarted('queues'); // issue #11

  const credentials = Boolean(config.github.appId && config.github.privateKey && config.github.webhookSecret);
  if (!credentials) {
    log.warn(
      'GitHub App credentials are not set (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET): webhooks are refused and no worker runs',
    );
  }
  // issue #11: every GitHub REST call is counted by route and status.
  const probot = credentials
    ? createProbot(
        config,
        log,
        withGitHubMetrics(
          withSecondaryRateLimitRetry(
            withWritePacing(
              options.Octokit ?? ProbotOctokit,
              config.githubWrites,
              // One pace per installation for all processes sharing this database.
              createDatabaseSlots(prisma, (error) =>
                log.warn({ err: error }, 'GitHub write pacing fell back to this process alone'),
              ),
            ),
          ),
          metrics,
        ),
      )
    : null;
  const webhookDeps = { prisma, boss };
  // issue #7: how often the reconciler settles runs that can no longer progress.
  const reconcileIntervalMs = Math.max(5_000, config.superviseSeconds * 15_000);

  let server: Server | null = null;
  let url: string | null = null;
  let events: RunEventHub | null = null;
  if (options.web) {
    // One LISTEN connection per web process feeds every SSE client.
    events = createRunEventHub({ connectionString: database.url, log });
    const api = createApiHandler({
      prisma,
      events,
      runCommands:
        options.runCommands?.({ prisma, boss }) ??
        createRunCommands({
          prisma,
          boss,
          github: probot ? createGitHubAuth(probot) : null,
          maxActiveRuns: config.maxActiveRuns,
        }),
      apiToken: config.apiToken,
      artifactsDir: config.artifactsDir,
      secureCookies: config.publicUrl?.startsWith('https:') ?? false,
      log,
    });
    const webhooks = probot
      ? await createNodeMiddleware(createAppFunction(webhookDeps), {
          probot,
          webhooksPath: '/api/github/webhooks',
        })
      : null;
    metrics.collectFrom({ boss, prisma }); // issue #11: runs and queues, read at scrape time
    server = createHttpServer({
      webhooks,
      checkDatabase: async () => {
        await prisma.$queryRaw`SELECT 1`;
      },
      api,
      // --- issue #11 ---
      metrics,
      readiness,
      setup: probot
        ? undefined
        : createSetupHandler({ config, log, envFile: options.envFile, redirectRoot: !config.apiToken }),
    });
    server.listen(config.port, config.host);
    await once(server, 'listening');
    const address = server.address() as AddressInfo;
    url = `http://${config.host}:${address.port}`;
    log.info({ url }, 'HTTP server listening');
  }

  let workers: Workers | null = null;
  let cancels: CancelListener | null = null;
  let reconciler: { stop(): Promise<void> } | null = null;
  if (options.workers && probot) {
    const github = createGitHubAuth(probot);
    cancels = await startCancelListener(database.url, log);
    // issue #7: live reporting, --all continuation and the reconciler.
    const progress = createRunProgress({ prisma, boss, github, log, config });
    reconciler = startReconciler({ prisma, boss, github, log, config }, reconcileIntervalMs);
    workers = await startWorkers({
      cancels,
      prisma,
      boss,
      github,
      config,
      log,
      handlers: STEP_HANDLERS,
      admit: (deliveryId) =>
        admitTrigger(
          { prisma, github, log, boss, publicUrl: config.publicUrl, maxActiveRuns: config.maxActiveRuns },
          deliveryId,
        ),
      // Each step change shows on GitHub; finalize reports the end itself.
      onRunChanged: progress.onRunChanged,
      onStepTick: progress.onStepTick,
      metrics,
    });
    log.info({ concurrency: config.concurrency }, 'workers started');
  }

  // --- issue #11: retention (scheduled pg-boss job) and the worker-only metrics port ---
  let retention: RetentionService | null = null;
  if (options.workers) {
    retention = await startRetention(boss, { prisma, config, log, metrics });
    // Without credentials no worker runs; the process is still "ready" to be configured.
    readiness.markStarted('workers');
  }
  let metricsServer: Server | null = null;
  if (!options.web && config.metricsPort !== undefined) {
    metricsServer = createHttpServer({
      webhooks: null,
      checkDatabase: async () => {
        await prisma.$queryRaw`SELECT 1`;
      },
      metrics,
      readiness,
    });
    metricsServer.listen(config.metricsPort, config.host);
    await once(metricsServer, 'listening');
    log.info({ port: (metricsServer.address() as AddressInfo).port }, 'metrics server listening');
  }

  return {
    url,
    databaseUrl: database.url,
    metrics,
    /**
     * Graceful: stop taking webhooks and jobs, let active steps finish within
     * the grace period; pg-boss then fails what is still running (so another
     * worker retries it) and aborts its signal, which stops Codex. The
     * aborted handlers record their attempt before the database closes.
     */
    async stop() {
      if (server) {
        server.close();
        server.closeAllConnections();
      }
      // issue #11
      retention?.stop();
      if (metricsServer) {
        metricsServer.close();
        metricsServer.closeAllConnections();
      }
      await events?.close();
      await boss.stop({ graceful: true, close: false, timeout: config.shutdownGraceMs });
      await workers?.drain();
      await reconciler?.stop();
      await cancels?.close();
      await boss.stop({ close: true });
      await prisma.$disconnect();
      await database.close();
    },
  };
}
