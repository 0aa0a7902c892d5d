// Reading a bare repository's files the way GitHub's contents API shows them,
// at a branch name or a commit sha.
import type { BareRepo } from './git-fixtures.ts';
import { fixtureGit } from './git-fixtures.ts';

const revision = (ref: string) => (/^[0-9a-f]{40}$/.test(ref) ? ref : `refs/heads/${ref}`);

export function repoFileReaders(repo: BareRepo) {
  return {
    readFile: async (ref: string, path: string): Promise<string | null> => {
      try {
        const type = await fixtureGit(['cat-file', '-t', `${revision(ref)}:${path}`], repo.bareDir);
        if (type.trim() !== 'blob') return null;
        // fixtureGit trims its output; files here end with one newline.
        return `${await fixtureGit(['show', `${revision(ref)}:${path}`], repo.bareDir)}\n`;
      } catch {
        return null;
      }
    },
    listDir: async (ref: string, dir: string) => {
      try {
        const listing = await fixtureGit(['ls-tree', `${revision(ref)}:${dir}`], repo.bareDir);
        const entries = listing
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [meta = '', name = ''] = line.split('\t');
            return { name, type: meta.split(' ')[1] === 'tree' ? ('dir' as const) : ('file' as const) };
          });
        return entries.length > 0 ? entries : null;
      } catch {
        return null;
      }
    },
  };
}
