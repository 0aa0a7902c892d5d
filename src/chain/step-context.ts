// The narrow set of ports a step receives. Steps never import singletons, so
// tests can hand them exactly what they need.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { PrismaClient } from '../db/prisma.ts';
import type { GitHubAuth } from '../github/octokit.ts';
import type { Run, StepOutcome } from './runs.ts';

export interface StepContext {
  prisma: PrismaClient;
  github: GitHubAuth;
  config: Config;
  log: Logger;
  /** Aborted when the job is cancelled or the worker shuts down. */
  signal: AbortSignal;
  attempt: number;
  /** This attempt's fresh working directory (removed when the attempt succeeds). */
  workspaceDir: string;
  /** This attempt's artifact directory and how to record a file in it. */
  artifacts: ArtifactWriter;
}

export interface ArtifactWriter {
  dir: string;
  /** Records a file already written inside `dir`. */
  record(artifactType: string, absolutePath: string): Promise<void>;
}

export type StepHandler = (run: Run, ctx: StepContext) => Promise<StepOutcome>;
