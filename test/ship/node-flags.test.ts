// The app's processes run with the same V8 settings however they are
// started: `npm start`, `npm run worker` and the image (NODE_OPTIONS).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const scripts = (
  JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** The `--…` flags of an npm script's `node` command, .env loading aside. */
function nodeFlags(script: string | undefined): string[] {
  const words = (script ?? '').split(/\s+/);
  return words
    .slice(words.indexOf('node') + 1)
    .filter((w) => w.startsWith('--') && !w.startsWith('--env-file') && w !== '--worker');
}

describe('the V8 settings', () => {
  it('are the same for npm start, npm run worker and the image', () => {
    const start = nodeFlags(scripts.start);
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    const image = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1]?.split(/\s+/);
    expect(start).toContain('--max-semi-space-size=4');
    expect(nodeFlags(scripts.worker)).toEqual(start);
    expect(image).toEqual(start);
  });
});
