// The per-repository configuration: `.github/speckit.yml` on the default
// branch. Pure: parsing and validation only (the loader is load-repo-config.ts).
// Keys are snake_case in the file and camelCase in code; unknown keys are
// refused so that a typo never silently falls back to a default.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors.ts';

export const REPO_CONFIG_PATH = '.github/speckit.yml';

const relativeDir = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((value) => !value.startsWith('/') && !value.split('/').includes('..'), {
    message: 'must be a path inside the repository (relative, without "..")',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const branchPrefix = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'may hold letters, digits, ".", "_", "-" and "/" only')
  .refine((value) => !value.includes('..') && !value.includes('//') && !value.endsWith('.lock'), {
    message: 'is not a valid git branch prefix',
  });

const label = z.string().trim().min(1).max(50);
const command = z.string().trim().min(1).max(2000);
const commands = z.union([command, z.array(command).min(1).max(20)]).transform((value) => {
  return typeof value === 'string' ? [value] : value;
});
/** A GitHub login or an `org/team` slug. */
const runner = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*)?$/,
    'expected a GitHub username or "org/team"',
  );

const schema = z.strictObject({
  version: z.literal(1).optional(),
  specs_dir: relativeDir.default('specs'),
  branch_prefix: branchPrefix.default('speckit/'),
  pull_request: z
    .strictObject({
      draft: z.boolean().default(false),
      labels: z.array(label).max(10).default([]),
    })
    .prefault({}),
  codex: z
    .strictObject({
      mode: z.enum(['local', 'cloud']).optional(),
      model: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'expected a model name such as gpt-5.5')
        .max(100)
        .optional(),
      cloud_env: z.string().trim().min(1).max(200).optional(),
    })
    .prefault({}),
  diff_limits: z
    .strictObject({
      max_files: z.number().int().positive().max(10_000).default(200),
      max_lines: z.number().int().positive().max(1_000_000).default(20_000),
    })
    .prefault({}),
  allow_workflow_changes: z.boolean().default(false),
  allowed_runners: z.array(runner).max(200).default([]),
  auto_continue: z.boolean().default(false),
  branch_update: z.enum(['merge', 'rebase']).default('merge'),
  commands: z
    .strictObject({
      setup: commands.optional(),
      verify: commands.optional(),
      /** A failing verify command fails the run (`fail`) or only warns in the summaries (`warn`). */
      on_verify_failure: z.enum(['fail', 'warn']).default('fail'),
    })
    .prefault({}),
  limits: z
    .strictObject({
      // Unset: the server's SPECKIT_MAX_ACTIVE_RUNS; a higher value than that still gets the server's.
      max_active_runs: z.number().int().positive().max(100_000).optional(),
      max_runs_per_day: z.number().int().positive().max(100_000).optional(),
    })
    .prefault({}),
});

/** The validated configuration of one repository, with every default filled in. */
export interface RepoConfig {
  /** Where feature directories live: `<specsDir>/<feature>/tasks.md`. */
  specsDir: string;
  /** The run's branch is `<branchPrefix><feature>`. */
  branchPrefix: string;
  pullRequest: { draft: boolean; labels: readonly string[] };
  /** Unset fields keep the server's CODEX_MODE, CODEX_MODEL and CODEX_CLOUD_ENV. */
  codex: { mode: 'local' | 'cloud' | undefined; model: string | undefined; cloudEnv: string | undefined };
  /** A Codex diff beyond either limit fails the run (the diff is kept as an artifact). */
  diffLimits: { maxFiles: number; maxLines: number };
  /** Whether the diff may touch `.github/workflows/` (needs the App's `workflows: write`). */
  allowWorkflowChanges: boolean;
  /** Logins or `org/team` slugs allowed to run; empty: anyone with write access. */
  allowedRunners: readonly string[];
  /**
   * Whether `/speckit run` without `--all`/`--once`/`--phase` goes on phase after phase
   * (default false: each phase is reviewed before the next one costs Codex time).
   */
  autoContinue: boolean;
  /** How a continued `speckit/<feature>` is brought up to date with its base before Codex: merge or rebase. */
  branchUpdate: 'merge' | 'rebase';
  /** Shell commands run in the workspace before Codex (setup) and after it (verify). */
  commands: { setup: readonly string[]; verify: readonly string[]; onVerifyFailure: 'fail' | 'warn' };
  /**
   * Caps checked when this repository triggers a run, counting the runs of the
   * whole installation. `maxActiveRuns` can only lower the server's
   * SPECKIT_MAX_ACTIVE_RUNS (undefined: the server's applies).
   */
  limits: { maxActiveRuns: number | undefined; maxRunsPerDay: number | undefined };
}

function toRepoConfig(value: z.output<typeof schema>): RepoConfig {
  return deepFreeze({
    specsDir: value.specs_dir,
    branchPrefix: value.branch_prefix,
    pullRequest: { draft: value.pull_request.draft, labels: value.pull_request.labels },
    codex: { mode: value.codex.mode, model: value.codex.model, cloudEnv: value.codex.cloud_env },
    diffLimits: { maxFiles: value.diff_limits.max_files, maxLines: value.diff_limits.max_lines },
    allowWorkflowChanges: value.allow_workflow_changes,
    allowedRunners: value.allowed_runners,
    autoContinue: value.auto_continue,
    branchUpdate: value.branch_update,
    commands: {
      setup: value.commands.setup ?? [],
      verify: value.commands.verify ?? [],
      onVerifyFailure: value.commands.on_verify_failure,
    },
    limits: { maxActiveRuns: value.limits.max_active_runs, maxRunsPerDay: value.limits.max_runs_per_day },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** What applies when a repository has no `.github/speckit.yml`. */
export const DEFAULT_REPO_CONFIG: RepoConfig = toRepoConfig(schema.parse({}));

/** The leaf fields under `shape`, dotted (`pull_request.draft`): nested mappings are walked, defaults unwrapped. */
function fieldNames(shape: z.ZodRawShape, prefix = ''): string[] {
  return Object.entries(shape).flatMap(([key, field]) => {
    let type: z.core.$ZodType = field;
    while (type instanceof z.ZodDefault || type instanceof z.ZodPrefault || type instanceof z.ZodOptional)
      type = type.unwrap();
    return type instanceof z.ZodObject ? fieldNames(type.shape, `${prefix}${key}.`) : [`${prefix}${key}`];
  });
}

/** Every field the file may hold (snake_case, dotted), read from the schema; the README documents each. */
export const REPO_CONFIG_FIELDS: readonly string[] = Object.freeze(fieldNames(schema.shape));

/** The problem with `.github/speckit.yml`, safe to show in a comment or check run. */
export class RepoConfigError extends UserError {
  readonly problems: readonly { field: string; message: string }[];
  constructor(problems: { field: string; message: string }[], file = REPO_CONFIG_PATH) {
    const lines = problems.map((problem) => `- \`${problem.field}\`: ${problem.message}`);
    super(
      `${file} is invalid; fix it on the default branch and try again:\n${lines.join('\n')}\n` +
        'See the "Per-repository configuration" section of the speckit-bot README for every field.',
      { code: 'repo_config_invalid' },
    );
    this.problems = problems;
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(file)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string }[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      field: fieldName([...issue.path, key]),
      message: 'is not a known field (check the spelling)',
    }));
  }
  if (issue.code === 'invalid_type') {
    const received = issue.input === null ? 'null' : Array.isArray(issue.input) ? 'list' : typeof issue.input;
    const expected = issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
    return [{ field: fieldName(issue.path), message: `expected ${expected}, got ${received}` }];
  }
  return [{ field: fieldName(issue.path), message: issue.message }];
}

/** Parses the text of `.github/speckit.yml`; throws a RepoConfigError naming each bad field. */
export function parseRepoConfig(text: string, file = REPO_CONFIG_PATH): RepoConfig {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, maxAliasCount: 50 });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : '';
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw new RepoConfigError([{ field: '(file)', message: `is not valid YAML${where}: ${message}` }], file);
  }
  if (document === null || document === undefined) return DEFAULT_REPO_CONFIG;
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new RepoConfigError(
      [{ field: '(file)', message: 'expected a mapping of fields (key: value)' }],
      file,
    );
  }
  const parsed = schema.safeParse(document, { reportInput: true });
  if (!parsed.success) throw new RepoConfigError(parsed.error.issues.flatMap(describeIssue), file);
  return toRepoConfig(parsed.data);
}
