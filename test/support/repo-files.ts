// Reading a bare repository's files the way GitHub's contents API shows them.
import type { BareRepo } from './git-fixtures.ts';

export function repoFileReaders(repo: BareRepo) {
  const tree = (ref: string) => repo.readTree(ref).catch(() => ({}) as Record<string, string>);
  return {
    readFile: async (ref: string, path: string) => (await tree(ref))[path] ?? null,
    listDir: async (ref: string, dir: string) => {
      const entries = new Map<string, 'file' | 'dir'>();
      for (const file of Object.keys(await tree(ref))) {
        if (!file.startsWith(`${dir}/`)) continue;
        const [name, ...rest] = file.slice(dir.length + 1).split('/');
        if (name) entries.set(name, rest.length > 0 ? 'dir' : 'file');
      }
      return entries.size === 0 ? null : [...entries].map(([name, type]) => ({ name, type }));
    },
  };
}
