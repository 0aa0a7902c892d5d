// Pure parsers and formatters for git's input and output, kept apart from the I/O.

/** `sha<TAB>ref` lines of `git ls-remote` as a map ref → sha. */
export function parseLsRemote(stdout: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line.trimEnd());
    if (match?.[1] && match[2]) refs.set(match[2], match[1]);
  }
  return refs;
}

/** True when a URL carries `user[:password]@` before its host. */
export function hasUrlCredentials(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@]+@/i.test(url);
}

/** Splits NUL-terminated output (`-z`) into its entries. */
export function splitNul(stdout: string): string[] {
  return stdout.split('\0').filter((entry) => entry.length > 0);
}

/** One file of `git diff --numstat`: lines added and deleted, both null for a binary file. */
export interface NumstatEntry {
  path: string;
  added: number | null;
  deleted: number | null;
}

/**
 * `git diff --numstat -z --no-renames` output: `<added>\t<deleted>\t<path>\0` per file,
 * `-\t-\t` for a binary one. With -z the path is exactly as stored (never C-quoted), so
 * a file name with non-ASCII bytes, quotes or tabs comes back as itself.
 */
export function parseNumstat(stdout: string): NumstatEntry[] {
  const entries: NumstatEntry[] = [];
  for (const record of splitNul(stdout)) {
    const match = /^(-|\d+)\t(-|\d+)\t([\s\S]+)$/.exec(record);
    if (!match?.[3]) throw new Error(`Unexpected git diff --numstat record ${JSON.stringify(record)}.`);
    const count = (value: string | undefined) =>
      value === undefined || value === '-' ? null : Number(value);
    entries.push({ path: match[3], added: count(match[1]), deleted: count(match[2]) });
  }
  return entries;
}

const DIFF_HEADER = Buffer.from('diff --git ');

/**
 * The changed paths whose section of a `git diff` output is not valid UTF-8. Sections come
 * in the order of `changedPaths` (the same diff's `--name-only`); if the counts disagree
 * every path is returned, which is always safe.
 */
export function invalidUtf8Sections(patch: Uint8Array, changedPaths: readonly string[]): string[] {
  const buffer = Buffer.from(patch.buffer, patch.byteOffset, patch.byteLength);
  const starts: number[] = [];
  let at = buffer.indexOf(DIFF_HEADER);
  while (at !== -1) {
    if (at === 0 || buffer[at - 1] === 0x0a) starts.push(at);
    at = buffer.indexOf(DIFF_HEADER, at + 1);
  }
  if (starts.length !== changedPaths.length) return [...changedPaths];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const bad: string[] = [];
  starts.forEach((start, i) => {
    const section = buffer.subarray(start, starts[i + 1] ?? buffer.length);
    try {
      decoder.decode(section);
    } catch {
      const path = changedPaths[i];
      if (path !== undefined) bad.push(path);
    }
  });
  return bad;
}

/**
 * A gitattributes pattern matching exactly `path` from the repository root: C-quoted
 * (any byte outside a safe set as an octal escape) with glob characters escaped.
 */
export function attributesPatternFor(path: string): string {
  let out = '"/';
  for (const byte of Buffer.from(path, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9._/-]/.test(char)) out += char;
    else if ('*?[]\\!'.includes(char)) out += `\\\\\\${byte.toString(8).padStart(3, '0')}`;
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** The files `git apply` complains about in its stderr. */
export function conflictPathsFromApplyOutput(stderr: string): string[] {
  const patterns = [
    /^error: patch failed: (.+):\d+$/,
    /^error: (.+): patch does not apply$/,
    /^error: (.+): does not exist in (?:index|working tree)$/,
    /^error: (.+): already exists in (?:index|working directory)$/,
    /^error: (.+): does not match index$/,
    /^Applied patch to '(.+)' with conflicts\.$/,
    /^U (.+)$/,
  ];
  const paths = new Set<string>();
  for (const line of stderr.split('\n')) {
    for (const pattern of patterns) {
      const match = pattern.exec(line.trimEnd());
      if (match?.[1]) paths.add(match[1]);
    }
  }
  return [...paths];
}

/** Why `key` cannot be a git trailer key (letters, digits and '-'), or null. */
export function trailerKeyProblem(key: string): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/.test(key)) {
    return "a trailer key must be letters, digits and '-' (at most 100), starting with a letter or digit";
  }
  return null;
}

/**
 * From `git log --format=%H%x1f%(trailers:key=K,valueonly,separator=%x1f)%x1e` output,
 * the first commit one of whose values equals `value`.
 */
export function findTrailerMatch(stdout: string, value: string): string | null {
  for (const record of stdout.split('\x1e')) {
    const [sha, ...values] = record.trim().split('\x1f');
    if (sha && /^[0-9a-f]{40,64}$/.test(sha) && value.length > 0 && values.some((v) => v.trim() === value))
      return sha;
  }
  return null;
}

export interface PushRefStatus {
  /** ' ' fast-forward, '+' forced, '-' deleted, '*' new, '!' rejected, '=' up to date. */
  flag: string;
  summary: string;
}

/** The status line of `git push --porcelain` for `ref`, or null. */
export function parsePushPorcelain(stdout: string, ref: string): PushRefStatus | null {
  for (const line of stdout.split('\n')) {
    const [flag, refs, summary] = line.replace(/\r$/, '').split('\t');
    if (flag === undefined || flag.length !== 1 || refs === undefined) continue;
    if (refs.endsWith(`:${ref}`)) return { flag, summary: summary ?? '' };
  }
  return null;
}

/** The `remote: …` lines of git's stderr (what the server said), joined. */
export function remoteMessages(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('remote: '))
    .map((line) => line.slice('remote: '.length).trim())
    .filter(Boolean)
    .join(' ');
}

/** What `git status --porcelain=v2 --branch -z` says of a workspace. */
export interface WorkspaceStatus {
  /** HEAD's commit; null before the first commit. */
  head: string | null;
  /** The branch checked out; null when HEAD is detached. */
  branch: string | null;
  /** Nothing staged, modified, deleted, unmerged or untracked (ignored files do not count). */
  clean: boolean;
}

/**
 * `git status --porcelain=v2 --branch -z`: `# branch.oid` and `# branch.head` headers,
 * then one record per changed, unmerged or untracked path. Any record makes the workspace
 * unclean, so a rename's second path (its own NUL-terminated field) needs no parsing.
 */
export function parseStatusV2(stdout: string): WorkspaceStatus {
  let head: string | null = null;
  let branch: string | null = null;
  let clean = true;
  for (const record of splitNul(stdout)) {
    if (record.startsWith('# branch.oid ')) {
      const oid = record.slice('# branch.oid '.length);
      head = /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid) ? oid : null;
    } else if (record.startsWith('# branch.head ')) {
      const name = record.slice('# branch.head '.length);
      branch = name === '(detached)' ? null : name;
    } else if (!record.startsWith('# ')) {
      clean = false;
    }
  }
  return { head, branch, clean };
}
