// The commit a run makes, described completely (message, identity, date), so
// that publish can rebuild the very same commit — same sha — from the stored
// patch on any machine. That is what makes "commit in apply, push in
// publish" safe across workers: nothing lives only in a local directory.
import { z } from 'zod';

export const BOT_IDENTITY = { name: 'speckit-bot[bot]', email: 'speckit-bot[bot]@users.noreply.github.com' };

export const RUN_TRAILER = 'Speckit-Run-Id';

export const applyOutput = z.object({
  parentSha: z.string(),
  commitSha: z.string(),
  commitDate: z.string(),
  message: z.string(),
  branch: z.string(),
  verified: z.array(z.object({ id: z.string(), description: z.string() })),
  unverified: z.array(z.object({ id: z.string(), description: z.string() })),
});
export type ApplyOutput = z.infer<typeof applyOutput>;

export function commitMessage(
  featureKey: string,
  phase: string,
  tasks: readonly { id: string; description: string }[],
): string {
  const lines = [
    `speckit(${featureKey}): ${phase}`,
    '',
    ...tasks.map((task) => `- ${task.id} ${task.description}`),
  ];
  return lines.join('\n');
}
