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
  const match = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
  if (!match?.[1]) return null;
  return { level: match[1].length, text: (match[2] ?? '').trim() };
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
  return result.replace(/^[*_]+(?=\s|$)|(?<=\s|^)[*_]+$/g, '').trim();
}
