// Pure validation of branch names and feature keys, following `git check-ref-format`.
import { UserError } from '../errors.ts';

export { authHeaderValue, redact } from './secrets.ts';

export const DEFAULT_BRANCH_PREFIX = 'speckit/';
const MAX_FEATURE_KEY_LENGTH = 100;

/**
 * The first rule of `git check-ref-format --branch` that `name` breaks, or null when
 * it is a valid branch name.
 */
export function branchNameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.startsWith('-')) return "must not start with '-'";
  if (name === 'HEAD') return "must not be 'HEAD'";
  if (name === '@') return "must not be '@'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in refs
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name)) {
    return 'must not contain spaces, control characters or any of ~ ^ : ? * [ \\';
  }
  if (name.includes('..')) return "must not contain '..'";
  if (name.includes('@{')) return "must not contain '@{'";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) {
    return "must not start or end with '/' or contain '//'";
  }
  if (name.endsWith('.')) return "must not end with '.'";
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return "no part between slashes may start with '.'";
    if (component.endsWith('.lock')) return "no part between slashes may end with '.lock'";
  }
  return null;
}

/**
 * The problem with a Spec Kit feature key as one branch-name component, or null.
 * Stricter than git: letters, digits, '.', '_' and '-' only, so the key is also a safe
 * directory name and needs no quoting anywhere.
 */
export function featureKeyProblem(featureKey: string): string | null {
  if (featureKey.length === 0) return 'must not be empty';
  if (featureKey.length > MAX_FEATURE_KEY_LENGTH)
    return `must be at most ${MAX_FEATURE_KEY_LENGTH} characters`;
  if (!/^[A-Za-z0-9._-]+$/.test(featureKey)) {
    return "may contain only letters, digits, '.', '_' and '-' (no '/' or spaces)";
  }
  if (!/^[A-Za-z0-9]/.test(featureKey)) return 'must start with a letter or a digit';
  return branchNameProblem(featureKey);
}

/**
 * The branch a feature's runs push to: `speckit/<feature>`. Throws a UserError naming
 * the broken rule when the feature key (or the prefix) cannot form a safe branch name.
 */
export function featureBranchName(featureKey: string, prefix: string = DEFAULT_BRANCH_PREFIX): string {
  const keyProblem = featureKeyProblem(featureKey);
  if (keyProblem !== null) {
    throw new UserError(
      `The feature key ${JSON.stringify(featureKey)} cannot be used in a branch name: it ${keyProblem}. ` +
        'Use the name of the directory under specs/, e.g. 001-user-auth.',
      { code: 'invalid_feature_key' },
    );
  }
  const name = `${prefix}${featureKey}`;
  const problem = branchNameProblem(name);
  if (problem !== null) {
    throw new UserError(
      `The branch prefix ${JSON.stringify(prefix)} gives the invalid branch name ${JSON.stringify(name)}: ` +
        `a branch name ${problem}. Choose a prefix such as 'speckit/'.`,
      { code: 'invalid_branch_prefix' },
    );
  }
  return name;
}
