// The check-run summary and the progress comment for each final state (file
// snapshots under __snapshots__/), and the limits GitHub sets.
import { describe, expect, it } from 'vitest';
import type { Conclusion } from '../../src/chain/chain.ts';
import { finalActions } from '../../src/chain/report-run.ts';
import { limitActions, MAX_ACTIONS } from '../../src/github/check-runs.ts';
import {
  type AttemptView,
  checkRunTitle,
  type ReportDetails,
  type RunView,
  renderCheckRunSummary,
  renderProgressComment,
  TEXT_LIMIT,
  truncateMarkdown,
} from '../../src/github/render/run-report.ts';

const t0 = new Date('2026-11-25T10:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

function attempt(taskName: string, status: string, from: number, to: number | null, n = 1): AttemptView {
  return { taskName, status, attempt: n, startedAt: at(from), finishedAt: to === null ? null : at(to) };
}

const base: RunView = {
  id: '6f1c2b4e-9a53-4d59-9d2b-5e0f8c6a1d37',
  repository: 'Codertocat/Hello-World',
  featureKey: '001-demo',
  phaseNumber: '1',
  phaseTitle: 'Setup',
  status: 'running',
  conclusion: null,
  currentStep: 'codex',
  branchName: 'speckit/001-demo',
  prUrl: null,
  summary: null,
  errorStep: null,
  errorMessage: null,
  triggerActor: 'octocat',
};

const links: ReportDetails['links'] = {
  checkRun: 'https://github.com/Codertocat/Hello-World/runs/1001',
  dashboard: 'https://speckit.example.com/runs/6f1c2b4e-9a53-4d59-9d2b-5e0f8c6a1d37',
};

const allSteps = [
  attempt('intake', 'succeeded', 0, 0.2),
  attempt('discover', 'succeeded', 1, 2.5),
  attempt('codex', 'succeeded', 3, 63),
  attempt('apply', 'succeeded', 64, 65),
  attempt('publish', 'succeeded', 66, 68),
  attempt('finalize', 'succeeded', 69, 69.4),
];

const finals: Record<Conclusion, { run: RunView; attempts: AttemptView[]; details: ReportDetails }> = {
  success: {
    run: {
      ...base,
      status: 'succeeded',
      conclusion: 'success',
      currentStep: 'finalize',
      prUrl: 'https://github.com/Codertocat/Hello-World/pull/1',
      summary: 'Pushed `speckit/001-demo`; pull request https://github.com/Codertocat/Hello-World/pull/1',
    },
    attempts: allSteps,
    details: {
      links,
      tasks: [
        { id: 'T001', description: 'Create `src/hello.txt` with a greeting', state: 'done' },
        { id: 'T002', description: 'Document the greeting in `README.md`', state: 'unverified' },
      ],
      usage: '440 tokens (400 input, 40 output)',
    },
  },
  failure: {
    run: {
      ...base,
      status: 'failed',
      conclusion: 'failure',
      currentStep: 'finalize',
      errorStep: 'codex',
      errorMessage: 'Codex exited with code 1: turn failed (HTTP 500 from the model).',
    },
    attempts: [
      attempt('intake', 'succeeded', 0, 0.2),
      attempt('discover', 'succeeded', 1, 2.5),
      attempt('codex', 'failed', 3, 10),
      attempt('finalize', 'succeeded', 11, 11.3),
    ],
    details: {
      links,
      tasks: [
        { id: 'T001', state: 'pending' },
        { id: 'T002', state: 'pending' },
      ],
    },
  },
  neutral: {
    run: {
      ...base,
      phaseNumber: null,
      phaseTitle: null,
      status: 'succeeded',
      conclusion: 'neutral',
      currentStep: 'finalize',
      summary: 'No remaining phases: every task in `specs/001-demo/tasks.md` on `speckit/001-demo` is done.',
    },
    attempts: [
      attempt('intake', 'succeeded', 0, 0.2),
      attempt('discover', 'succeeded', 1, 2),
      attempt('finalize', 'succeeded', 3, 3.1),
    ],
    details: { links },
  },
  cancelled: {
    run: {
      ...base,
      status: 'cancelled',
      conclusion: 'cancelled',
      currentStep: 'finalize',
      errorStep: 'codex',
      errorMessage: 'The run was cancelled.',
      summary: 'Cancelled by octocat.',
    },
    attempts: [
      attempt('intake', 'succeeded', 0, 0.2),
      attempt('discover', 'succeeded', 1, 2.5),
      attempt('codex', 'cancelled', 3, 20),
      attempt('finalize', 'succeeded', 21, 21.2),
    ],
    details: { links },
  },
  timed_out: {
    run: {
      ...base,
      status: 'failed',
      conclusion: 'timed_out',
      currentStep: 'finalize',
      errorStep: 'codex',
      errorMessage: 'Codex did not finish within 3600 s.',
    },
    attempts: [
      attempt('intake', 'succeeded', 0, 0.2),
      attempt('discover', 'succeeded', 1, 2.5),
      attempt('codex', 'failed', 3, 3603),
      attempt('finalize', 'succeeded', 3604, 3604.5),
    ],
    details: { links },
  },
};

describe('rendered reports for each final state', () => {
  for (const [conclusion, { run, attempts, details }] of Object.entries(finals)) {
    it(`renders the ${conclusion} check run and progress comment`, async () => {
      const summary = renderCheckRunSummary(run, attempts, details);
      const comment = renderProgressComment(run, attempts, details);
      await expect(`# ${checkRunTitle(run)}\n\n${summary}\n`).toMatchFileSnapshot(
        `__snapshots__/check-run-${conclusion}.md`,
      );
      await expect(`${comment}\n`).toMatchFileSnapshot(`__snapshots__/progress-comment-${conclusion}.md`);
      // The final result names the person who started the run.
      expect(comment).toContain('@octocat');
      expect(comment).toContain('[Check run](https://github.com/Codertocat/Hello-World/runs/1001)');
    });
  }

  it('renders a run in progress with live Codex activity and token usage', async () => {
    const details: ReportDetails = {
      links,
      tasks: [
        { id: 'T001', state: 'pending' },
        { id: 'T002', state: 'pending' },
      ],
      activity: ['ran `ls -la` (exit 0)', 'changed `src/hello.txt` (add), `README.md` (update)'],
      usage: '1200 tokens so far (1100 input, 100 output)',
    };
    const attempts = [
      attempt('intake', 'succeeded', 0, 0.2),
      attempt('discover', 'succeeded', 1, 2.5),
      attempt('codex', 'running', 3, null),
    ];
    await expect(
      `# ${checkRunTitle(base)}\n\n${renderCheckRunSummary(base, attempts, details)}\n`,
    ).toMatchFileSnapshot('__snapshots__/check-run-in-progress.md');
    const comment = renderProgressComment(base, attempts, details);
    await expect(`${comment}\n`).toMatchFileSnapshot('__snapshots__/progress-comment-in-progress.md');
    // Live activity and token counts are the check run's: the comment changes only with the state.
    expect(comment).not.toContain('tokens so far');
    expect(comment).not.toContain('ls -la');
    expect(renderProgressComment(base, attempts, { ...details, usage: '9999 tokens so far' })).toBe(comment);
  });
});

describe("GitHub's limits", () => {
  it('truncates an oversized summary within 65,535 characters, with a note and the log link', () => {
    const huge = `${'x'.repeat(200)}\n`;
    const run: RunView = { ...finals.failure.run, errorMessage: huge.repeat(1000) };
    const summary = renderCheckRunSummary(run, finals.failure.attempts, finals.failure.details);
    expect(summary.length).toBeLessThanOrEqual(TEXT_LIMIT);
    expect(summary).toContain('**Truncated:** GitHub shows at most 65,535 characters here');
    expect(summary).toContain(links?.dashboard ?? '');
    const comment = renderProgressComment(run, finals.failure.attempts, finals.failure.details);
    expect(comment.length).toBeLessThanOrEqual(TEXT_LIMIT);
  });

  it('caps the task list and closes an open code fence when cutting', () => {
    const tasks = Array.from({ length: 5000 }, (_, i) => ({
      id: `T${i}`,
      description: 'a task '.repeat(40),
      state: 'pending' as const,
    }));
    const summary = renderCheckRunSummary(base, [], { tasks });
    expect(summary).toContain('- … and 4900 more');
    expect(summary.length).toBeLessThanOrEqual(TEXT_LIMIT);
    const cut = truncateMarkdown(`intro\n\`\`\`\n${'line\n'.repeat(20_000)}`, 1000);
    expect(cut.length).toBeLessThanOrEqual(1000);
    expect(cut.match(/^```/gm)).toHaveLength(2);
    expect(cut).toContain('the full log is in the run artifacts');
    expect(truncateMarkdown('short', 1000)).toBe('short');
  });

  it('keeps actions within 3, labels and identifiers within 20 and descriptions within 40 characters', () => {
    const actions = limitActions([
      {
        label: 'A label that is far too long',
        identifier: 'an_identifier_that_is_too_long',
        description: 'd'.repeat(80),
      },
      { label: 'b', identifier: 'b', description: 'b' },
      { label: 'c', identifier: 'c', description: 'c' },
      { label: 'd', identifier: 'd', description: 'd' },
    ]);
    expect(actions).toHaveLength(MAX_ACTIONS);
    expect(actions[0]?.label.length).toBe(20);
    expect(actions[0]?.identifier.length).toBe(20);
    expect(actions[0]?.description.length).toBe(40);
    for (const conclusion of ['success', 'failure', 'neutral', 'cancelled', 'timed_out'] as const) {
      for (const action of finalActions(conclusion, { phasesLeft: true, continuing: false })) {
        expect(action.label.length).toBeLessThanOrEqual(20);
        expect(action.identifier.length).toBeLessThanOrEqual(20);
        expect(action.description.length).toBeLessThanOrEqual(40);
      }
    }
    expect(finalActions('failure', { phasesLeft: null, continuing: false }).map((a) => a.identifier)).toEqual(
      ['retry'],
    );
    expect(finalActions('success', { phasesLeft: true, continuing: false }).map((a) => a.identifier)).toEqual(
      ['next_phase', 'run_all'],
    );
    expect(finalActions('success', { phasesLeft: false, continuing: false })).toEqual([]);
    expect(finalActions('success', { phasesLeft: true, continuing: true })).toEqual([]);
    expect(finalActions('neutral', { phasesLeft: null, continuing: false })).toEqual([]);
  });
});
