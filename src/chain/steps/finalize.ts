// finalize: settle the run on GitHub — the check run's conclusion and the
// progress comment — from what is stored. The transition after it marks the
// run succeeded, failed or cancelled.

import { renderWarnings } from '../../github/render/run-report.ts';
import type { Conclusion } from '../chain.ts';
import { reportRun } from '../report-run.ts';
import type { StepHandler } from '../step-context.ts';
import { loadWarnings } from './workspace-source.ts';

export const finalizeStep: StepHandler = async (run, ctx) => {
  const conclusion = (run.conclusion ?? (run.errorMessage ? 'failure' : 'success')) as Conclusion;
  const summary =
    run.summary ??
    (conclusion === 'success' && run.prUrl
      ? `Pushed \`${run.branchName}\`; pull request ${run.prUrl}`
      : null);
  const warnings = await loadWarnings(ctx, run.id);
  const withWarnings =
    warnings.length > 0
      ? [summary, renderWarnings(run.featureKey, warnings)].filter(Boolean).join('\n\n')
      : summary;
  const settled = { ...run, conclusion, summary: withWarnings };
  // The PR's new head commit gets a completed Spec Kit check run too, so its checks show the outcome.
  await reportRun(ctx, settled, { conclusion, onPullRequestHead: true });
  return { result: { kind: 'continue' }, output: { conclusion }, runUpdate: { conclusion, summary } };
};
