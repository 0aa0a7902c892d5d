// Splits tasks.md into lines and marks what the parser must not read as
// markdown: YAML front matter, fenced code blocks and HTML comments. Comment
// text is blanked with spaces rather than removed, so columns in `text` are
// columns in the original line (ticking edits the original by offset).

export interface SourceLine {
  /** 1-based. */
  number: number;
  /** Offset of the line's first character in the original text (after a BOM). */
  start: number;
  /** The line as written, without its line ending. */
  raw: string;
  /** `raw` with HTML comments blanked; '' for front matter. Code lines keep their text. */
  text: string;
  /** Inside a fenced code block, fence lines included. */
  code: boolean;
  /** For code lines: whether this line opens or closes the fence. */
  fence: 'open' | 'close' | null;
}

interface Fence {
  char: string;
  length: number;
}

const BOM = '\uFEFF';

export function scanLines(text: string): SourceLine[] {
  const lines = splitLines(text);
  const frontMatterEnd = findFrontMatterEnd(lines);
  let fence: Fence | null = null;
  let inComment = false;
  return lines.map((line, index) => {
    if (index <= frontMatterEnd) return { ...line, text: '', code: false, fence: null };
    if (inComment) {
      const masked = maskComments(line.raw, true);
      inComment = masked.open;
      return { ...line, text: masked.text, code: false, fence: null };
    }
    if (fence) {
      const closes = closesFence(line.raw, fence);
      if (closes) fence = null;
      return { ...line, text: line.raw, code: true, fence: closes ? 'close' : null };
    }
    const opened = openFence(line.raw);
    if (opened) {
      fence = opened;
      return { ...line, text: line.raw, code: true, fence: 'open' };
    }
    const masked = maskComments(line.raw, false);
    inComment = masked.open;
    return { ...line, text: masked.text, code: false, fence: null };
  });
}

/** Splits on CRLF, LF or a lone CR, keeping each line's offset in the original text. */
function splitLines(text: string): Array<Omit<SourceLine, 'text' | 'code' | 'fence'>> {
  const lines: Array<Omit<SourceLine, 'text' | 'code' | 'fence'>> = [];
  const breaks = /\r\n|\n|\r/g;
  let start = text.startsWith(BOM) ? 1 : 0;
  for (let match = breaks.exec(text); match; match = breaks.exec(text)) {
    lines.push({ number: lines.length + 1, start, raw: text.slice(start, match.index) });
    start = match.index + match[0].length;
  }
  lines.push({ number: lines.length + 1, start, raw: text.slice(start) });
  return lines;
}

/**
 * Index of the closing `---` of YAML front matter, or -1. Only a block that
 * starts on line 1 and whose first entry is a `key:` counts, so a file that
 * merely opens with a `---` separator keeps its content.
 */
function findFrontMatterEnd(lines: ReadonlyArray<{ raw: string }>): number {
  if (lines[0]?.raw.trimEnd() !== '---') return -1;
  const firstEntry = lines.slice(1).find((line) => line.raw.trim() !== '');
  if (!firstEntry || !/^[A-Za-z_][\w-]*\s*:/.test(firstEntry.raw)) return -1;
  for (let index = 1; index < lines.length; index++) {
    const raw = lines[index]?.raw.trimEnd();
    if (raw === '---' || raw === '...') return index;
  }
  return -1;
}

function openFence(raw: string): Fence | null {
  const match = /^\s*(`{3,}|~{3,})(.*)$/.exec(raw);
  if (!match?.[1]) return null;
  const marker = match[1];
  // A backtick fence's info string cannot contain backticks (CommonMark).
  if (marker.startsWith('`') && match[2]?.includes('`')) return null;
  return { char: marker.charAt(0), length: marker.length };
}

function closesFence(raw: string, fence: Fence): boolean {
  const match = /^\s*(`{3,}|~{3,})\s*$/.exec(raw);
  const marker = match?.[1];
  return marker !== undefined && marker.charAt(0) === fence.char && marker.length >= fence.length;
}

/**
 * Blanks HTML comments in one line. `open` says whether the line ends inside a
 * comment. Inline code spans are skipped, so a task that mentions `<!--` in
 * backticks does not hide the rest of the file.
 */
function maskComments(raw: string, startsInComment: boolean): { text: string; open: boolean } {
  if (!startsInComment && !raw.includes('<!--')) return { text: raw, open: false };
  const spanEnds = codeSpanEnds(raw);
  const parts: string[] = [];
  let index = 0;
  let inComment = startsInComment;
  while (index < raw.length) {
    if (inComment) {
      const end = raw.indexOf('-->', index);
      const stop = end === -1 ? raw.length : end + 3;
      parts.push(' '.repeat(stop - index));
      index = stop;
      if (end !== -1) inComment = false;
      continue;
    }
    const comment = raw.indexOf('<!--', index);
    const tick = raw.indexOf('`', index);
    if (comment === -1 && tick === -1) break;
    if (tick !== -1 && (comment === -1 || tick < comment)) {
      const end = spanEnds.get(tick)?.end ?? tick + 1;
      parts.push(raw.slice(index, end));
      index = end;
      continue;
    }
    parts.push(raw.slice(index, comment), '    ');
    index = comment + 4;
    inComment = true;
  }
  parts.push(raw.slice(index));
  return { text: parts.join(''), open: inComment };
}

export interface CodeSpan {
  /** Offset just past the closing run (or past the unclosed opening run). */
  end: number;
  /** The text between the runs; null when no run closes it. */
  content: string | null;
}

/**
 * For each backtick run that starts at an offset, where its code span ends: at
 * the end of the next run of the same length, or at its own end when none
 * closes it (CommonMark). Linear, so a long line of backticks stays cheap.
 */
export function codeSpanEnds(text: string): Map<number, CodeSpan> {
  const runs = [...text.matchAll(/`+/g)].map((match) => ({
    start: match.index,
    end: match.index + match[0].length,
  }));
  const closer = new Array<number>(runs.length).fill(-1);
  const nextOfLength = new Map<number, number>();
  for (let index = runs.length - 1; index >= 0; index--) {
    const run = runs[index];
    if (!run) continue;
    const length = run.end - run.start;
    closer[index] = nextOfLength.get(length) ?? -1;
    nextOfLength.set(length, index);
  }
  const spans = new Map<number, CodeSpan>();
  for (let index = 0; index < runs.length; index++) {
    const run = runs[index];
    if (!run) continue;
    const close = runs[closer[index] ?? -1];
    spans.set(
      run.start,
      close ? { end: close.end, content: text.slice(run.end, close.start) } : { end: run.end, content: null },
    );
    if (close) index = closer[index] ?? index;
  }
  return spans;
}

/** Width of a line's leading whitespace, a tab reaching the next multiple of 4 (CommonMark). */
export function indentOf(text: string): number {
  let width = 0;
  for (const char of text) {
    if (char === ' ') width++;
    else if (char === '\t') width += 4 - (width % 4);
    else break;
  }
  return width;
}
