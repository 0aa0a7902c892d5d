// Which feature a command means when it names none (after the PR's branch and
// the latest run, see admit-trigger.ts): `.specify/feature.json`,
// else the only feature under the specs directory (`specs_dir` of
// .github/speckit.yml, default `specs`) with pending tasks; several candidates
// are returned for the reply to list.

import { FEATURE_KEY } from '../commands/parse-command.ts';
import { getFileText } from '../github/contents.ts';
import { isNotFound, type Octokit, type Repo, repoParams } from '../github/octokit.ts';
import { findNextPhase } from '../spec-kit/find-next-phase.ts';
import { parseTasks } from '../spec-kit/parse-tasks.ts';
import { tasksPath } from './steps/discover.ts';

export type FeatureResolution =
  | { kind: 'found'; featureKey: string; source: string }
  | { kind: 'ambiguous'; candidates: string[] }
  | { kind: 'none'; features: string[] };

/** At most this many feature directories are read to find the one with pending work. */
export const MAX_FEATURES_SCANNED = 30;

export async function resolveFeatureFromRepository(
  octokit: Octokit,
  repo: Repo,
  ref: string,
  specsDir: string,
): Promise<FeatureResolution> {
  const pointer = await getFileText(octokit, repo, '.specify/feature.json', ref);
  const fromPointer = pointer === null ? null : featureFromPointer(pointer);
  if (fromPointer) return { kind: 'found', featureKey: fromPointer, source: '.specify/feature.json' };
  const features = await listFeatures(octokit, repo, ref, specsDir);
  const pending: string[] = [];
  for (const feature of features.slice(0, MAX_FEATURES_SCANNED)) {
    const text = await getFileText(octokit, repo, tasksPath(feature, specsDir), ref);
    if (text !== null && findNextPhase(parseTasks(text))) pending.push(feature);
  }
  if (pending.length === 1 && pending[0]) {
    return { kind: 'found', featureKey: pending[0], source: 'the only feature with pending tasks' };
  }
  if (pending.length > 1) return { kind: 'ambiguous', candidates: pending };
  return { kind: 'none', features };
}

/**
 * The feature `.specify/feature.json` points at. Spec Kit versions write it
 * differently, so any of these fields is read: feature, feature_name,
 * featureKey, or a directory (feature_directory, feature_dir, directory)
 * whose last segment is the feature.
 */
export function featureFromPointer(json: string): string | null {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object') return null;
  const fields = data as Record<string, unknown>;
  for (const key of [
    'feature',
    'feature_name',
    'featureKey',
    'feature_directory',
    'feature_dir',
    'directory',
  ]) {
    const value = fields[key];
    if (typeof value !== 'string') continue;
    const name = value.replace(/\/+$/, '').split('/').at(-1) ?? '';
    if (FEATURE_KEY.test(name) && !name.includes('..')) return name;
  }
  return null;
}

async function listFeatures(octokit: Octokit, repo: Repo, ref: string, specsDir: string): Promise<string[]> {
  try {
    const response = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
      ...repoParams(repo),
      path: specsDir,
      ref,
    });
    const entries = Array.isArray(response.data) ? response.data : [];
    return entries
      .filter((entry) => entry.type === 'dir' && FEATURE_KEY.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
