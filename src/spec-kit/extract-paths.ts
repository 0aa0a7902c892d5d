// Finds the file and directory paths a task names in backticks. Backticks also
// hold commands (`npm test`), identifiers (`UserService`) and routes
// (`/api/users`): only tokens that read as repository paths are kept, because a
// task's paths decide whether its work is verified against the diff.

import { codeSpanEnds } from './scan-lines.ts';

const FILE_EXTENSIONS = new Set(
  (
    'c cc cfg cjs conf cpp cs css csv cts dart ex exs go gradle graphql h hpp html ini ' +
    'java js json jsonc jsx kt kts lock lua md mdx mjs mts php prisma proto ps1 py rb rs sass scss sh ' +
    'sql svelte swift toml ts tsx txt vue xml yaml yml zsh'
  ).split(' '),
);

/** File names without an extension that are clearly files. */
const BARE_FILE_NAMES = new Set([
  'Dockerfile',
  'Makefile',
  'Procfile',
  'Gemfile',
  'Rakefile',
  'Justfile',
  'Jenkinsfile',
  'LICENSE',
  'CODEOWNERS',
]);

/** Paths in backtick code spans of `text`, normalized, unique, in order. */
export function extractPaths(text: string): string[] {
  const paths = new Set<string>();
  for (const span of codeSpans(text)) {
    const path = toPath(span);
    if (path !== null) paths.add(path);
  }
  return [...paths];
}

/** The contents of CommonMark code spans: a backtick run closed by a run of the same length. */
function codeSpans(text: string): string[] {
  return [...codeSpanEnds(text).values()].flatMap((span) => (span.content ? [span.content] : []));
}

/** The repository path a code span names, or null when it is not a path. */
export function toPath(span: string): string | null {
  let token = span.trim();
  // No real path is this long; the cap also keeps the checks below linear.
  if (token.length > 500) return null;
  if (token === '' || /[\s"'`<>|;,(){}=$\\]/.test(token) || token.includes('://')) return null;
  // `src/app.ts:42` and `src/app.ts#L10` point into a file.
  token = token.replace(/(?::\d+)+$|#L\d+(?:-L?\d+)?$/, '');
  if (token.startsWith('./')) token = token.slice(2);
  const name = token.replace(/\/+$/, '').split('/').pop() ?? '';
  if (token.startsWith('/') || token.startsWith('-') || token.startsWith('@')) {
    // A leading slash is usually a route (`/api/users`); keep it only for files.
    return token.startsWith('/') && hasFileExtension(name) ? token.replace(/^\/+/, '') : null;
  }
  if (token.startsWith('../') || token === '.' || token === '..') return null;
  if (token.includes('/')) return /[\p{L}\p{N}_*]/u.test(token) ? token : null;
  if (hasFileExtension(name) || BARE_FILE_NAMES.has(name) || /^\.[\w.-]*[A-Za-z][\w.-]*$/.test(name))
    return token;
  return null;
}

function hasFileExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && FILE_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}
