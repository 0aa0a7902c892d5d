export * from './branch-name.ts';
export * from './git-error.ts';
export * from './run-git.ts';
export * from './workspace.ts';
