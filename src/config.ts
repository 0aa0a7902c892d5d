// The one reader of process.env. Every setting is validated at start; a wrong
// value stops the process with one message naming every bad variable and what
// it expects. The result is frozen and handed to whoever needs it.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** SPECKIT_MAX_ACTIVE_RUNS's default: active runs per installation. */
export const DEFAULT_MAX_ACTIVE_RUNS = 10;
const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const flag = z.stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] });

const schema = z.object({
  PORT: port.default(3000).describe('HTTP port of the webhook, API and dashboard server'),
  HOST: z.string().min(1).default('127.0.0.1').describe('address the HTTP server binds'),
  APP_ID: optionalText.describe('the GitHub App id'),
  PRIVATE_KEY: optionalText.describe('the GitHub App private key (PEM)'),
  PRIVATE_KEY_PATH: optionalText.describe('a file holding the GitHub App private key (PEM)'),
  WEBHOOK_SECRET: optionalText.describe('the GitHub App webhook secret'),
  GHE_HOST: optionalText.describe('GitHub Enterprise Server host name, e.g. github.example.com'),
  GHE_PROTOCOL: z.enum(['https', 'http']).default('https').describe('protocol of GHE_HOST'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .describe('a postgresql:// URL; unset starts an embedded PostgreSQL under var/'),
  EMBEDDED_POSTGRES_PORT: port
    .default(54329)
    .describe('port of the embedded PostgreSQL started when DATABASE_URL is unset (127.0.0.1 only)'),
  SPECKIT_MIGRATE: flag.default(true).describe('apply pending migrations at start'),
  SPECKIT_PUBLIC_URL: z.url().optional().describe('public base URL used for links in comments and PRs'),
  CODEX_BIN: optionalText.describe('the codex executable; default: the native binary of @openai/codex'),
  CODEX_HOME: optionalText.describe('Codex configuration directory (config.toml, auth)'),
  CODEX_MODEL: optionalText.describe('model passed to codex with -m; unset keeps the config.toml model'),
  ARTIFACTS_DIR: z.string().min(1).default('var/artifacts/spec_workflows').describe('root of run artifacts'),
  WORK_DIR: z.string().min(1).default('var/workspaces').describe('root of per-run git workspaces'),
  MIRROR_DIR: z
    .string()
    .min(1)
    .default('var/mirrors')
    .describe('root of the per-repository git mirrors that workspaces are cloned from (a cache)'),
  SPECKIT_API_TOKEN: optionalText.describe('bearer token required by the REST API'),
  SPECKIT_CONCURRENCY: positiveInt
    .default(4)
    .describe(
      'Codex steps running at once per process, and as many other steps (each kind has its own limit)',
    ),
  GITHUB_WRITE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(1000)
    .describe(
      "sustained pace of GitHub writes per installation, across all processes, as GitHub's secondary rate limits ask; 0 turns pacing off (GitHub Enterprise Server without rate limits)",
    ),
  GITHUB_WRITE_BURST: positiveInt
    .default(3)
    .describe(
      'GitHub writes that may go at once after a quiet spell (then one per GITHUB_WRITE_INTERVAL_MS)',
    ),
  GITHUB_NOTIFY_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(3000)
    .describe(
      'sustained pace of GitHub writes that notify people (new comments, pull requests) per installation, on top of GITHUB_WRITE_INTERVAL_MS; 0 paces them like other writes',
    ),
  CODEX_ENV_PASSTHROUGH: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]*(\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*$/,
      'expected comma-separated variable names',
    )
    .optional()
    .describe('extra environment variable names the Codex child may see (comma-separated)'),
  CODEX_TIMEOUT_SECONDS: positiveInt.default(1800).describe('wall-clock limit of one Codex run'),
  CODEX_IDLE_TIMEOUT_SECONDS: positiveInt.default(300).describe('limit without a Codex output line'),
  CODEX_MODE: z
    .enum(['local', 'cloud'])
    .default('local')
    .describe('where Codex runs a phase: local (codex exec in a clone) or cloud (Codex Cloud task)'),
  CODEX_CLOUD_ENV: optionalText.describe('default Codex Cloud environment id for CODEX_MODE=cloud'),
  CODEX_CLOUD_POLL_SECONDS: z.coerce
    .number()
    .positive()
    .default(15)
    .describe('first delay between Codex Cloud status polls (grows 1.5x per poll, up to 8x)'),
  CODEX_RUN_AS: z
    .string()
    .trim()
    .regex(/^(\d+:\d+|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/, 'expected a user name or uid:gid')
    .optional()
    .describe('run local Codex as this unprivileged user (name or uid:gid); needs the worker to run as root'),
  CODEX_MAX_TOKENS: positiveInt
    .optional()
    .describe('token cap of one local Codex run; over it Codex is stopped and its diff kept for review'),
  SPECKIT_INSTALLATION_CONCURRENCY: positiveInt
    .default(5)
    .describe(
      'Codex steps running at once for one installation, across all workers (others wait in the queue)',
    ),
  SPECKIT_MAX_ACTIVE_RUNS: positiveInt
    .default(DEFAULT_MAX_ACTIVE_RUNS)
    .describe(
      "active runs (pending, running, cancelling) per installation; a repository's limits.max_active_runs may only lower it",
    ),
  SPECKIT_HEARTBEAT_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .default(30)
    .describe('pg-boss heartbeat of active steps (>= 10); a silent step is taken over'),
  SPECKIT_SUPERVISE_SECONDS: positiveInt.default(30).describe('how often pg-boss looks for lost steps'),
  SPECKIT_SHUTDOWN_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30)
    .describe('on SIGTERM, how long active steps may finish before they are handed to another worker'),
  // --- issue #11 (ship it): retention, metrics port, setup flow ---
  ARTIFACT_RETENTION_DAYS: positiveInt
    .default(30)
    .describe('artifacts (rows and files) older than this many days are deleted by the retention job'),
  WEBHOOK_DELIVERY_RETENTION_DAYS: positiveInt
    .default(30)
    .describe('webhook_delivery rows older than this many days are deleted by the retention job'),
  WORKSPACE_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24)
    .describe('workspaces of runs finished longer ago than this are deleted by the retention job'),
  SPECKIT_RETENTION_CRON: z
    .string()
    .trim()
    .regex(/^(\S+\s+){4}\S+$/, 'expected a 5-field cron expression, e.g. "17 3 * * *"')
    .default('17 3 * * *')
    .describe('when the retention job runs (cron, UTC)'),
  METRICS_PORT: port
    .optional()
    .describe('worker-only processes (npm run worker) serve /metrics, /healthz and /readyz on this port'),
  WEBHOOK_PROXY_URL: z
    .url()
    .optional()
    .describe('a webhook proxy channel (e.g. https://smee.io/abc) used as the webhook URL by the setup page'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
    .default('info')
    .describe('log level'),
});

type Env = z.output<typeof schema>;

/** What the Codex child inherits from the app's environment (buildCodexEnv filters again). */
const CODEX_CHILD_VARIABLES = ['PATH', 'LANG', 'LC_ALL', 'OPENAI_API_KEY', 'CODEX_API_KEY'];

/** The app's secrets: never handed to the Codex child, whatever the configuration says. */
const APP_SECRET_VARIABLES = [
  'PRIVATE_KEY',
  'PRIVATE_KEY_PATH',
  'WEBHOOK_SECRET',
  'DATABASE_URL',
  'SPECKIT_API_TOKEN',
];

function pickDefined(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value) picked[name] = value;
  }
  return picked;
}

export interface Config {
  port: number;
  host: string;
  github: {
    appId: string | undefined;
    privateKey: string | undefined;
    webhookSecret: string | undefined;
    /** REST base URL, e.g. https://api.github.com or https://ghe.example.com/api/v3 */
    apiBaseUrl: string;
    gheHost: string | undefined;
    gheProtocol: 'http' | 'https';
  };
  databaseUrl: string | undefined;
  /** Port of the embedded PostgreSQL (used only without DATABASE_URL). */
  embeddedPostgresPort: number;
  migrate: boolean;
  publicUrl: string | undefined;
  codex: {
    bin: string | undefined;
    /** CODEX_HOME, else ~/.codex of the app's user: Codex's own config.toml and auth. */
    home: string;
    /** The few variables of the app's environment that the Codex child may see. */
    childEnv: Readonly<Record<string, string>>;
    /** Names from CODEX_ENV_PASSTHROUGH (their values are in childEnv). */
    passthrough: readonly string[];
    model: string | undefined;
    timeoutMs: number;
    idleTimeoutMs: number;
    /** CODEX_MODE: the default runner; a run may ask for the other. */
    mode: 'local' | 'cloud';
    /** CODEX_CLOUD_ENV: the default Codex Cloud environment id. */
    cloudEnv: string | undefined;
    cloudPollMs: number;
    /** CODEX_RUN_AS as written (a user name or uid:gid); resolved by the Codex step. */
    runAs: string | undefined;
    maxTokens: number | undefined;
  };
  artifactsDir: string;
  workDir: string;
  /** MIRROR_DIR: one bare mirror per repository; workspaces are cloned from it. */
  mirrorDir: string;
  apiToken: string | undefined;
  concurrency: number;
  /** Pace of GitHub writes per installation (see src/github/write-pacing.ts). */
  githubWrites: { intervalMs: number; burst: number; notifyIntervalMs: number };
  /** Codex steps of one installation running at once across all workers. */
  installationConcurrency: number;
  /** SPECKIT_MAX_ACTIVE_RUNS: the installation-wide cap that repositories' files can only lower. */
  maxActiveRuns: number;
  heartbeatSeconds: number;
  superviseSeconds: number;
  shutdownGraceMs: number;
  logLevel: Env['LOG_LEVEL'];
  // --- issue #11 (ship it) ---
  retention: {
    artifactDays: number;
    deliveryDays: number;
    workspaceHours: number;
    cron: string;
  };
  /** Worker-only processes serve /metrics, /healthz and /readyz here when set. */
  metricsPort: number | undefined;
  /** Used by the setup page as the new App's webhook URL (local development). */
  webhookProxyUrl: string | undefined;
}

/** Every variable readConfig understands, with its description (for docs and errors). */
export const CONFIG_VARIABLES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(schema.shape).map(([name, field]) => [name, field.description ?? '']),
);

/**
 * Reads and validates the configuration. `cwd` anchors relative paths so that
 * the app behaves the same wherever it is started from.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Readonly<Config> {
  // An empty variable means "unset", as in a .env file with `NAME=`.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      const expects = CONFIG_VARIABLES[name] ? ` (${CONFIG_VARIABLES[name]})` : '';
      return `  ${name}: ${issue.message}${expects}`;
    });
    throw new ConfigError(`Invalid configuration; fix these environment variables:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  let privateKey = e.PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (!privateKey && e.PRIVATE_KEY_PATH) {
    try {
      privateKey = readFileSync(path.resolve(cwd, e.PRIVATE_KEY_PATH), 'utf8');
    } catch (error) {
      problems.push(`  PRIVATE_KEY_PATH: cannot read ${e.PRIVATE_KEY_PATH} (${(error as Error).message})`);
    }
  }
  const passthrough = Object.freeze(
    (e.CODEX_ENV_PASSTHROUGH ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
  const leaked = passthrough.filter((name) => APP_SECRET_VARIABLES.includes(name));
  if (leaked.length > 0) {
    problems.push(
      `  CODEX_ENV_PASSTHROUGH: ${leaked.join(', ')} hold the app's own secrets and never reach Codex; remove them`,
    );
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration; fix these environment variables:\n${problems.join('\n')}`);
  }
  const apiBaseUrl = e.GHE_HOST ? `${e.GHE_PROTOCOL}://${e.GHE_HOST}/api/v3` : 'https://api.github.com';
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    github: Object.freeze({
      appId: e.APP_ID,
      privateKey,
      webhookSecret: e.WEBHOOK_SECRET,
      apiBaseUrl,
      gheHost: e.GHE_HOST,
      gheProtocol: e.GHE_PROTOCOL,
    }),
    databaseUrl: e.DATABASE_URL,
    embeddedPostgresPort: e.EMBEDDED_POSTGRES_PORT,
    migrate: e.SPECKIT_MIGRATE,
    publicUrl: e.SPECKIT_PUBLIC_URL?.replace(/\/+$/, ''),
    codex: Object.freeze({
      bin: e.CODEX_BIN,
      home: e.CODEX_HOME ? path.resolve(cwd, e.CODEX_HOME) : path.join(env.HOME || os.homedir(), '.codex'),
      childEnv: Object.freeze(pickDefined(env, [...CODEX_CHILD_VARIABLES, ...passthrough])),
      passthrough,
      model: e.CODEX_MODEL,
      timeoutMs: e.CODEX_TIMEOUT_SECONDS * 1000,
      idleTimeoutMs: e.CODEX_IDLE_TIMEOUT_SECONDS * 1000,
      mode: e.CODEX_MODE,
      cloudEnv: e.CODEX_CLOUD_ENV,
      cloudPollMs: Math.round(e.CODEX_CLOUD_POLL_SECONDS * 1000),
      runAs: e.CODEX_RUN_AS === '' ? undefined : e.CODEX_RUN_AS,
      maxTokens: e.CODEX_MAX_TOKENS,
    }),
    artifactsDir: path.resolve(cwd, e.ARTIFACTS_DIR),
    workDir: path.resolve(cwd, e.WORK_DIR),
    mirrorDir: path.resolve(cwd, e.MIRROR_DIR),
    apiToken: e.SPECKIT_API_TOKEN,
    concurrency: e.SPECKIT_CONCURRENCY,
    githubWrites: Object.freeze({
      intervalMs: e.GITHUB_WRITE_INTERVAL_MS,
      burst: e.GITHUB_WRITE_BURST,
      notifyIntervalMs: e.GITHUB_NOTIFY_INTERVAL_MS,
    }),
    installationConcurrency: e.SPECKIT_INSTALLATION_CONCURRENCY,
    maxActiveRuns: e.SPECKIT_MAX_ACTIVE_RUNS,
    heartbeatSeconds: e.SPECKIT_HEARTBEAT_SECONDS,
    superviseSeconds: e.SPECKIT_SUPERVISE_SECONDS,
    shutdownGraceMs: e.SPECKIT_SHUTDOWN_GRACE_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
    // --- issue #11 (ship it) ---
    retention: Object.freeze({
      artifactDays: e.ARTIFACT_RETENTION_DAYS,
      deliveryDays: e.WEBHOOK_DELIVERY_RETENTION_DAYS,
      workspaceHours: e.WORKSPACE_RETENTION_HOURS,
      cron: e.SPECKIT_RETENTION_CRON,
    }),
    metricsPort: e.METRICS_PORT,
    webhookProxyUrl: e.WEBHOOK_PROXY_URL,
  });
}

/** The GitHub App credentials, or a ConfigError saying what to set. */
export function requireGitHubApp(config: Config): {
  appId: string;
  privateKey: string;
  webhookSecret: string;
} {
  const { appId, privateKey, webhookSecret } = config.github;
  const missing = [
    appId ? null : 'APP_ID',
    privateKey ? null : 'PRIVATE_KEY or PRIVATE_KEY_PATH',
    webhookSecret ? null : 'WEBHOOK_SECRET',
  ].filter((name): name is string => name !== null);
  if (missing.length > 0 || !appId || !privateKey || !webhookSecret) {
    throw new ConfigError(
      `GitHub App credentials are missing: set ${missing.join(', ')} (see README.md, "Register the GitHub App").`,
    );
  }
  return { appId, privateKey, webhookSecret };
}
