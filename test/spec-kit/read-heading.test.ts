import { describe, expect, it } from 'vitest';
import { isReferenceSection, readHeading, readPhaseHeading } from '../../src/spec-kit/read-heading.ts';

describe('readHeading', () => {
  it('reads ATX headings and their level', () => {
    expect(readHeading('## Phase 1: Setup')).toEqual({ level: 2, text: 'Phase 1: Setup' });
    expect(readHeading('### Tests ###')).toEqual({ level: 3, text: 'Tests' });
    expect(readHeading('#hashtag')).toBeNull();
    expect(readHeading('    ## indented code')).toBeNull();
  });
});

describe('readPhaseHeading', () => {
  it.each([
    ['Phase 1: Setup', '1', 'Setup'],
    ['Phase 1 – Setup', '1', 'Setup'],
    ['Phase 2 — Core', '2', 'Core'],
    ['Phase 3.10: Dunning', '3.10', 'Dunning'],
    ['Phase 3: US1 Browse', '3', 'US1 Browse'],
    ['**Phase 4**: Polish', '4', 'Polish'],
    ['🚀 Phase 5: Launch', '5', 'Launch'],
    ['Phase 6', '6', 'Phase 6'],
    ['Phase 7. Docs', '7', 'Docs'],
    ['phase 8 (US2): Export', '8', '(US2): Export'],
    ['フェーズ 3：仕上げ', '3', '仕上げ'],
    ['Fase 2: Núcleo', '2', 'Núcleo'],
  ])('reads %j as phase %s titled %j', (text, number, title) => {
    expect(readPhaseHeading(text)).toEqual({ number, title });
  });

  it.each(['Phase N: Polish', 'Phase Dependencies', 'Phases overview', 'US1: CLI Output', 'Phase1x'])(
    'does not read %j as a numbered phase',
    (text) => {
      expect(readPhaseHeading(text)).toBeNull();
    },
  );
});

describe('isReferenceSection', () => {
  it.each([
    'Dependencies & Execution Order',
    'Implementation Strategy',
    'Notes',
    'Parallel Example: User Story 1',
    'Progress Dashboard',
    'Task Summary',
    'Format: `[ID] [P?] [Story] Description`',
    'Path Conventions',
  ])('treats %j as a reference section', (title) => {
    expect(isReferenceSection(title)).toBe(true);
  });

  it.each([
    'US1: CLI Output',
    'Maintenance / Post-Completion Tasks',
    'Polish & Cross-Cutting Concerns',
    'Final Validation',
  ])('treats %j as a possible phase', (title) => {
    expect(isReferenceSection(title)).toBe(false);
  });
});
