// What a push refused by GitHub itself means for the person who asked for the run.
import { UserError } from '../errors.ts';
import { GitError } from './git-error.ts';

/**
 * GitHub's reason when a GitHub App pushes a commit that adds or changes a
 * workflow file without the `workflows` permission, e.g. "refusing to allow a
 * GitHub App to create or update workflow `.github/workflows/ci.yml` without
 * `workflows` permission".
 */
const WORKFLOWS_PERMISSION =
  /refusing to allow a GitHub App to create or update workflow `?([^`\s]*)`? without `?workflows`? permission/i;

/**
 * A UserError naming the missing permission when `error` is GitHub refusing a
 * workflow change for want of Workflows: write; null for any other failure.
 */
export function workflowPermissionRefusal(error: unknown, branch: string): UserError | null {
  if (!(error instanceof GitError)) return null;
  const match = WORKFLOWS_PERMISSION.exec(`${error.stdout}\n${error.stderr}\n${error.message}`);
  if (!match) return null;
  const file = match[1] ? `\`${match[1]}\`` : 'a workflow file';
  return new UserError(
    `GitHub refused the push to \`${branch}\`: it changes ${file}, and the App lacks the **Workflows: read & write** permission. ` +
      '`.github/speckit.yml` allows workflow changes (`allow_workflow_changes: true`), which needs that opt-in permission ' +
      '(see the README, "Two permissions are opt-in"): add it to the App, approve it on the installation, then retry the run. ' +
      'Or set `allow_workflow_changes: false` to keep Codex away from workflows.',
    { code: 'workflows_permission_missing', cause: error },
  );
}
