// The commit a run makes, described completely (message, identity, trailers,
// date), so that publish can rebuild the very same commit — same sha — from
// the stored patch on any machine. That is what makes "commit in apply, push
// in publish" safe across workers: nothing lives only in a local directory.
import { z } from 'zod';
import type { Identity } from '../../git/workspace.ts';

export const BOT_IDENTITY: Identity = {
  name: 'speckit-bot[bot]',
  email: 'speckit-bot[bot]@users.noreply.github.com',
};

/** The trailer naming the run: how a pushed commit is recognised after a crash or a rebase. */
export const RUN_TRAILER = 'Speckit-Run';

const task = z.object({ id: z.string(), description: z.string() });

export const applyOutput = z.object({
  parentSha: z.string(),
  commitSha: z.string(),
  /** The commit's tree: tells a content difference from a metadata one if a rebuild differs. */
  treeSha: z.string().optional(),
  commitDate: z.string(),
  message: z.string(),
  trailers: z.record(z.string(), z.string()),
  branch: z.string(),
  verified: z.array(task),
  unverified: z.array(task),
  binaryFiles: z.array(z.string()).default([]),
  phases: z
    .array(z.object({ label: z.string(), state: z.enum(['done', 'this run', 'remaining']) }))
    .default([]),
});
export type ApplyOutput = z.infer<typeof applyOutput>;

export function commitMessage(
  featureKey: string,
  phase: { number: string | null; title: string },
  tasks: readonly { id: string; description: string }[],
): string {
  const subject = phase.number
    ? `feat(${featureKey}): phase ${phase.number} – ${phase.title}`
    : `feat(${featureKey}): ${phase.title}`;
  return [subject, '', ...tasks.map((t) => `- ${t.id} ${t.description}`)].join('\n');
}

/**
 * The run trailer, and a Co-authored-by for the person who asked for the run:
 * GitHub's noreply address `<id>+<login>@users.noreply.github.com` when their
 * account id is known (it credits the account even after a rename), else the
 * older `<login>@users.noreply.github.com`.
 */
export function commitTrailers(
  runId: string,
  actor: { login: string; id?: number | null },
): Record<string, string> {
  const trailers: Record<string, string> = { [RUN_TRAILER]: runId };
  const { login, id } = actor;
  if (login && login !== 'api' && !login.endsWith('[bot]')) {
    const local = typeof id === 'number' && Number.isInteger(id) && id > 0 ? `${id}+${login}` : login;
    trailers['Co-authored-by'] = `${login} <${local}@users.noreply.github.com>`;
  }
  return trailers;
}
