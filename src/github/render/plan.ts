import type { ParseWarning, Phase, Task } from '../../spec-kit/types.ts';

export function renderPlan(plan: {
  featureKey: string;
  path: string;
  branch: string;
  next: Phase | undefined;
  tasks: readonly Task[];
  remaining: number;
  warnings: readonly ParseWarning[];
}): string {
  const lines = [
    `### Spec Kit plan · \`${plan.featureKey}\``,
    '',
    `From \`${plan.path}\` on \`${plan.branch}\`.`,
    '',
  ];
  if (!plan.next) {
    lines.push('No remaining phases: every task is done.');
  } else {
    const label = plan.next.number ? `Phase ${plan.next.number}: ${plan.next.title}` : plan.next.title;
    lines.push(
      `**Next: ${label}** — ${plan.tasks.length} pending task${plan.tasks.length === 1 ? '' : 's'}; ${plan.remaining} phase${plan.remaining === 1 ? '' : 's'} with pending work in all.`,
    );
    lines.push('');
    for (const task of plan.tasks) {
      const flags = [task.parallel ? '[P]' : '', task.story ? `[${task.story}]` : '']
        .filter(Boolean)
        .join(' ');
      lines.push(`- [ ] ${task.id}${flags ? ` ${flags}` : ''} ${task.description} (line ${task.line})`);
    }
    lines.push('', `Comment \`/speckit run ${plan.featureKey}\` to implement it.`);
  }
  if (plan.warnings.length > 0) {
    lines.push('', '**Warnings**', ...plan.warnings.map((w) => `- line ${w.line}: ${w.message}`));
  }
  return lines.join('\n');
}
