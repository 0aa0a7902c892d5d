// finalize: settle the run on GitHub — the check run's conclusion and the
// progress comment — from what is stored. The transition after it marks the
// run succeeded, failed or cancelled.
import type { Conclusion } from '../chain.ts';
import { reportRun } from '../report-run.ts';
import type { StepHandler } from '../step-context.ts';

export const finalizeStep: StepHandler = async (run, ctx) => {
  const conclusion = (run.conclusion ?? (run.errorMessage ? 'failure' : 'success')) as Conclusion;
  const summary =
    run.summary ??
    (conclusion === 'success' && run.prUrl
      ? `Pushed \`${run.branchName}\`; pull request ${run.prUrl}`
      : null);
  const settled = { ...run, conclusion, summary };
  await reportRun(ctx, settled, { conclusion });
  return { result: { kind: 'continue' }, output: { conclusion }, runUpdate: { conclusion, summary } };
};
