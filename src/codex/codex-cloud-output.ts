// What `codex cloud …` prints at the pinned CLI version (0.169), parsed. Pure.
//
// Sources (openai/codex, codex-rs/cloud-tasks/src/):
//   exec    `run_exec_command` prints one line, `util::task_url(base, id)`:
//           `https://chatgpt.com/codex/tasks/<task id>` for the default base URL; exit 0.
//   status  `run_status_command` prints `format_task_status_lines`: `[PENDING|READY|APPLIED|ERROR] <title>`,
//           then `<environment>  •  <n>s ago`, then `+A/-D • N file(s)` or `no diff`;
//           it exits 1 unless the task is READY.
//   diff    `run_diff_command` prints the attempt's unified diff as is; a task without one
//           fails with `Error: No diff available for task <id>; it may still be running.`
//   any     without a ChatGPT login: `Not signed in. Please run 'codex login' to sign in with
//           ChatGPT, then re-run 'codex cloud'.` on stderr, exit 1 (measured with 0.169.0);
//           other errors go through anyhow's `main`: `Error: <message>` on stderr, exit 1.

export type CloudTaskState = 'pending' | 'ready' | 'applied' | 'error';

export interface CloudTaskStatus {
  state: CloudTaskState;
  title: string;
  /** The diff summary line (`+3/-1 • 2 files`, `no diff`), when printed. */
  diffSummary: string | null;
  /** True when the summary line says the task produced no diff. */
  noDiff: boolean;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function cleanLines(text: string): string[] {
  return text
    .replace(ANSI, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$/;

/** The task id and URL from `codex cloud exec` output, or null when it is not one task URL. */
export function parseCloudExecOutput(stdout: string): { taskId: string; url: string } | null {
  const lines = cleanLines(stdout);
  if (lines.length !== 1) return null;
  const url = lines[0] as string;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const segments = parsed.pathname.split('/').filter(Boolean);
  const taskId = segments.at(-1);
  if (segments.at(-2) !== 'tasks' || !taskId || !TASK_ID.test(taskId)) return null;
  return { taskId, url };
}

const STATUS_LINE = /^\[(PENDING|READY|APPLIED|ERROR)\](?:\s+(.*))?$/;
const DIFF_SUMMARY = /^(no diff|\+\d+\/-\d+\s+•\s+\d+ files?)$/;

/** The task status from `codex cloud status` output, or null when it is not a status. */
export function parseCloudStatusOutput(stdout: string): CloudTaskStatus | null {
  const lines = cleanLines(stdout);
  const match = STATUS_LINE.exec(lines[0] ?? '');
  if (!match) return null;
  const diffSummary = lines.slice(1).find((line) => DIFF_SUMMARY.test(line)) ?? null;
  return {
    state: (match[1] as string).toLowerCase() as CloudTaskState,
    title: match[2] ?? '',
    diffSummary,
    noDiff: diffSummary === 'no diff',
  };
}

/** True when `text` is a unified diff (git's or plain). */
export function looksLikeDiff(text: string): boolean {
  return /^diff --git /m.test(text) || (/^--- /m.test(text) && /^\+\+\+ /m.test(text));
}

function unquote(path: string): string {
  if (!path.startsWith('"')) return path;
  try {
    return JSON.parse(path) as string;
  } catch {
    return path.slice(1, -1);
  }
}

/** The paths a unified diff touches (new names; old names of deletions), in order. */
export function changedPathsFromDiff(patch: string): string[] {
  const paths: string[] = [];
  const add = (path: string) => {
    if (path !== '' && !paths.includes(path)) paths.push(path);
  };
  let oldPath: string | null = null;
  for (const line of patch.split('\n')) {
    const header = /^diff --git (?:"?a\/)(.+?)"? (?:"?b\/)(.+?)"?$/.exec(line);
    if (header) {
      add(unquote(header[2] as string));
      oldPath = null;
      continue;
    }
    if (line.startsWith('--- ')) {
      const path = line.slice(4).replace(/\t.*$/, '');
      oldPath = path === '/dev/null' ? null : unquote(path).replace(/^a\//, '');
      continue;
    }
    if (line.startsWith('+++ ')) {
      const path = line.slice(4).replace(/\t.*$/, '');
      if (path === '/dev/null') {
        if (oldPath) add(oldPath);
      } else {
        add(unquote(path).replace(/^b\//, ''));
      }
    }
  }
  return paths;
}

/** The error text a CLI call printed: anyhow's `Error: …` line, else the last stderr line. */
export function cliErrorText(stderr: string, stdout = ''): string {
  const lines = cleanLines(stderr).filter((line) => !line.startsWith('WARNING: proceeding'));
  const error = lines.find((line) => line.startsWith('Error: '));
  return error ?? lines.at(-1) ?? cleanLines(stdout).at(-1) ?? '';
}

/** True when the text is anyhow's error line (a failure the CLI itself reported). */
export function isCliErrorLine(text: string): boolean {
  return text.startsWith('Error: ');
}

/** True when the cloud CLI says it has no ChatGPT login. */
export function isCloudSignInRequired(text: string): boolean {
  return /not signed in/i.test(text) || /codex login/.test(text);
}
