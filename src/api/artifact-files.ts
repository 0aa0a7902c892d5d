// Artifact files, read only from inside ARTIFACTS_DIR. A stored path is
// resolved against the root and refused when it leaves it: `..` segments,
// absolute paths, and symbolic links whose target lies outside the root (the
// real path is checked, and the file is opened without following a final
// symlink so that it cannot be swapped between the check and the open).
import { constants, type ReadStream } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { codexActivityFromLines } from './codex-activity.ts';
import type { CodexActivity } from './schemas.ts';

export type ArtifactOpenResult =
  | { kind: 'ok'; stream: ReadStream; size: number; fileName: string }
  | { kind: 'outside_root'; message: string }
  | { kind: 'missing'; message: string };

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative !== '' &&
    !relative.startsWith(`..${path.sep}`) &&
    relative !== '..' &&
    !path.isAbsolute(relative)
  );
}

export async function openArtifactFile(root: string, storedPath: string): Promise<ArtifactOpenResult> {
  const outside = {
    kind: 'outside_root',
    message: 'The artifact path lies outside the artifact root; it is not served.',
  } as const;
  if (storedPath.includes('\0') || path.isAbsolute(storedPath)) return outside;
  const resolvedRoot = path.resolve(root);
  const candidate = path.resolve(resolvedRoot, storedPath);
  if (!isInside(resolvedRoot, candidate)) return outside;
  let realRoot: string;
  let realFile: string;
  try {
    realRoot = await realpath(resolvedRoot);
    realFile = await realpath(candidate);
  } catch {
    return { kind: 'missing', message: 'The artifact file no longer exists.' };
  }
  if (!isInside(realRoot, realFile)) return outside;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(realFile, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return outside;
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    return { kind: 'missing', message: 'The artifact is not a regular file.' };
  }
  return {
    kind: 'ok',
    stream: handle.createReadStream({ autoClose: true }),
    size: info.size,
    fileName: path.basename(realFile),
  };
}

export function contentTypeFor(fileName: string): string {
  if (fileName.endsWith('.jsonl')) return 'application/x-ndjson; charset=utf-8';
  if (fileName.endsWith('.json')) return 'application/json; charset=utf-8';
  if (fileName.endsWith('.patch') || fileName.endsWith('.diff')) return 'text/x-diff; charset=utf-8';
  if (fileName.endsWith('.log') || fileName.endsWith('.txt')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

/** Most bytes of one Codex log read for the activity view. */
export const ACTIVITY_MAX_BYTES = 4 * 1024 * 1024;

/** The Codex activity of one codex_logs artifact (or null when it cannot be read safely). */
export async function readCodexActivity(
  root: string,
  artifact: { id: string; path: string; attempt: number },
): Promise<{ items: CodexActivity[]; truncated: boolean } | null> {
  const opened = await openArtifactFile(root, artifact.path);
  if (opened.kind !== 'ok') return null;
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  for await (const chunk of opened.stream) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    total += buffer.length;
    if (total >= ACTIVITY_MAX_BYTES) {
      truncated = true;
      opened.stream.destroy();
      break;
    }
  }
  let text = Buffer.concat(chunks).toString('utf8');
  if (truncated) text = text.slice(0, text.lastIndexOf('\n') + 1);
  return {
    items: codexActivityFromLines(text.split('\n'), { attempt: artifact.attempt, artifactId: artifact.id }),
    truncated,
  };
}
