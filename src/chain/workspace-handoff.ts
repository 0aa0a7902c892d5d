// Handing a step's workspace to the next step when both run on this machine.
//
// discover's clone is exactly the tree Codex starts from, and apply's commit
// is exactly what publish pushes; cloning them again (pack, index, checkout)
// was two of a run's four clones and most of publish's git work. A step whose
// outcome says `handOffWorkspace` leaves its workspace at
// WORK_DIR/<run>/handoff-<step> (moved there before its transition commits, so
// the next step, which may start a few milliseconds later, finds it). The next
// step takes it only when git confirms it holds what that step would have
// cloned — the expected commit checked out on the expected branch, nothing
// changed or untracked — and clones as before otherwise (another machine ran
// the earlier step, an attempt was retried, anything looks off). Only steps
// that never let Codex touch their workspace hand one off.
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { workspaceStatus } from '../git/workspace.ts';
import type { Step } from './chain.ts';

/** Where `step` of `runId` leaves its workspace for the next step. */
export function handOffDir(workDir: string, runId: string, step: Step): string {
  return path.join(workDir, runId, `handoff-${step}`);
}

/** Moves a finished step's workspace to its hand-off place (replacing an earlier attempt's). */
export async function handOffWorkspace(workspaceDir: string, target: string): Promise<void> {
  await rm(target, { recursive: true, force: true });
  await rename(workspaceDir, target);
}

/** The two log levels a hand-off uses (a pino logger has them). */
export interface HandOffLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface HandOffExpectation {
  /** The branch the step would have checked out. */
  branch: string;
  /** The commit it would have checked out. */
  head: string;
}

/**
 * Moves the workspace `from` left into `workspaceDir` (absent) when it holds
 * exactly `expect`; true when it did. False — and `workspaceDir` absent again —
 * when there is none here or it differs: the caller clones instead.
 */
export async function takeWorkspace(
  handOff: string,
  workspaceDir: string,
  expect: HandOffExpectation,
  log: HandOffLog,
): Promise<boolean> {
  try {
    await rename(handOff, workspaceDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') log.warn({ err: error, handOff }, 'could not take the handed-off workspace');
    return false;
  }
  try {
    const status = await workspaceStatus(workspaceDir);
    if (status.clean && status.head === expect.head && status.branch === expect.branch) return true;
    log.info({ status, expect }, 'the handed-off workspace is not what this step needs; cloning instead');
  } catch (error) {
    log.warn({ err: error }, 'the handed-off workspace could not be checked; cloning instead');
  }
  await rm(workspaceDir, { recursive: true, force: true });
  return false;
}
