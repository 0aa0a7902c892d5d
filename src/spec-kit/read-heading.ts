// Recognizes the headings that shape tasks.md: `## Phase 3.1: Setup`, its dash,
// decimal and translated spellings, and the reference sections (dependencies,
// strategy, notes, progress summaries) that are never phases.

export interface Heading {
  level: number;
  text: string;
}

export interface PhaseHeading {
  /** As written: `3.10` stays `3.10`. */
  number: string;
  title: string;
}

/** Words users write for "Phase", so a translated file keeps its phase numbers. */
const PHASE_WORDS =
  'Phase|Fase|Étape|Etapa|Etappe|Stage|Faza|Fáze|Фаза|Этап|Етап|阶段|階段|フェーズ|단계|Aşama|Giai đoạn';
const PHASE_HEADING = new RegExp(
  `^(?:${PHASE_WORDS})[ \\t]*(\\d+(?:\\.\\d+)*)\\.?(?=$|[\\s:：.\\-–—(\\[*_)])`,
  'iu',
);
const LEADING_DECORATION = /^(?:\p{Extended_Pictographic}|\p{So}|\u200D|\uFE0F|\s|\*|_)+/u;

/**
 * Sections that describe the work rather than hold it. A task listed only there
 * is reported, not worked on.
 */
const REFERENCE_SECTION = new RegExp(
  [
    '^(?:notes?|format|path conventions|table of contents|contents|legend|overview|references?|status)\\b',
    '\\b(?:dependenc(?:y|ies)|execution order|implementation strategy|parallel (?:examples?|execution|opportunities)|summary|progress|dashboard)\\b',
  ].join('|'),
  'i',
);

/** An ATX heading (`## Title ##`), or null. */
export function readHeading(line: string): Heading | null {
  const match = /^ {0,3}(#{1,6})(?=[ \t]|$)/.exec(line);
  if (!match?.[1]) return null;
  let text = line.slice(match[0].length).trim();
  // An optional closing sequence of #s, when a space separates it from the text.
  const closing = text.length - trimEndChars(text, '#').length;
  if (closing === text.length) text = '';
  else if (closing > 0 && /[ \t]/.test(text.charAt(text.length - closing - 1))) {
    text = text.slice(0, text.length - closing).trim();
  }
  return { level: match[1].length, text };
}

/** `Phase 1: Setup`, `Phase 1 – Setup`, `🚀 **Phase 3.10**: Polish`, `阶段 2：核心`; null otherwise. */
export function readPhaseHeading(text: string): PhaseHeading | null {
  const plain = text.replace(LEADING_DECORATION, '');
  const match = PHASE_HEADING.exec(plain);
  if (!match?.[1]) return null;
  const title = cleanHeadingText(plain.slice(match[0].length).replace(/^[\s*_]*(?:[:：.\-–—][\s*_]*)?/, ''));
  return { number: match[1], title: title === '' ? `Phase ${match[1]}` : title };
}

/** True for `## Dependencies & Execution Order`, `## Notes`, `## Progress Dashboard` and the like. */
export function isReferenceSection(title: string): boolean {
  return REFERENCE_SECTION.test(title.replace(LEADING_DECORATION, ''));
}

/** Heading text without wrapping emphasis: `**Setup**` → `Setup`. */
export function cleanHeadingText(text: string): string {
  let result = text.trim();
  for (const marker of ['**', '__']) {
    if (result.startsWith(marker) && result.endsWith(marker) && result.length >= 2 * marker.length) {
      result = result.slice(marker.length, -marker.length).trim();
    }
  }
  // A dangling emphasis marker left at either end (`Setup **`).
  const start = result.length - trimStartChars(result, '*_').length;
  if (start > 0 && (start === result.length || /\s/.test(result.charAt(start)))) result = result.slice(start);
  const end = trimEndChars(result, '*_').length;
  if (end < result.length && (end === 0 || /\s/.test(result.charAt(end - 1)))) result = result.slice(0, end);
  return result.trim();
}

function trimStartChars(text: string, chars: string): string {
  let start = 0;
  while (start < text.length && chars.includes(text.charAt(start))) start++;
  return text.slice(start);
}

function trimEndChars(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text.charAt(end - 1))) end--;
  return text.slice(0, end);
}
