// Artifacts are files for people (logs, patches) kept under ARTIFACTS_DIR,
// one directory per run and attempt so that retries never overwrite them.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PrismaClient } from '../db/prisma.ts';
import type { Step } from './chain.ts';
import type { ArtifactWriter } from './step-context.ts';

export async function createArtifactWriter(
  prisma: PrismaClient,
  root: string,
  runId: string,
  step: Step,
  attempt: number,
): Promise<ArtifactWriter> {
  const dir = path.join(root, runId, `${step}-${attempt}`);
  await mkdir(dir, { recursive: true });
  return {
    dir,
    async record(artifactType, absolutePath) {
      const relative = path.relative(root, absolutePath);
      if (relative.startsWith('..') || path.isAbsolute(relative)) {
        throw new Error(`artifact ${absolutePath} is outside the artifact root ${root}`);
      }
      const { size } = await stat(absolutePath);
      await prisma.workflowArtifact.upsert({
        where: { runId_artifactType_path: { runId, artifactType, path: relative } },
        create: { runId, step, attempt, artifactType, path: relative, sizeBytes: BigInt(size) },
        update: { sizeBytes: BigInt(size) },
      });
    },
  };
}
