// app.yml, the GitHub App manifest: its events are exactly the ones src/app.ts
// subscribes to, and its permissions exactly the ones the REST routes the code
// calls (and git over HTTPS) need — no more, no less.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const manifest = parse(readFileSync(path.join(root, 'app.yml'), 'utf8')) as {
  name: string;
  description: string;
  default_events: string[];
  default_permissions: Record<string, 'read' | 'write'>;
  public?: boolean;
  hook_attributes: { url: string };
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (name === 'generated') return [];
    return statSync(file).isDirectory() ? sourceFiles(file) : file.endsWith('.ts') ? [file] : [];
  });
}

/** The REST routes the code calls: every `'METHOD /path'` literal under src/. */
function calledRoutes(): string[] {
  const routes = new Set<string>();
  for (const file of sourceFiles(path.join(root, 'src'))) {
    // GitHub's API only (src/api has routes of its own, e.g. POST /session).
    for (const match of readFileSync(file, 'utf8').matchAll(
      /['`](GET|POST|PATCH|PUT|DELETE) (\/[^'`\s]+)['`]/g,
    ))
      if (/^\/(repos|app|app-manifests|orgs|installation|user|teams)\//.test(match[2] ?? ''))
        routes.add(`${match[1]} ${match[2]}`);
  }
  return [...routes].sort();
}

/** Which App permission a route needs (GitHub's "Permissions required for GitHub Apps" pages). */
const ROUTE_PERMISSIONS: [RegExp, string | null][] = [
  [/^\/app\//, null], // the App's own JWT: no repository permission
  [/^\/app-manifests\//, null], // the setup flow, unauthenticated
  [/^\/repos\/\{owner\}\/\{repo\}\/installation$/, null],
  [/^\/repos\/\{owner\}\/\{repo\}\/(check-runs|check-suites|commits\/\{ref\}\/check-runs)/, 'checks'],
  [/^\/repos\/\{owner\}\/\{repo\}\/(contents|branches|git|commits|compare)/, 'contents'],
  [/^\/repos\/\{owner\}\/\{repo\}\/pulls/, 'pull_requests'],
  [/^\/repos\/\{owner\}\/\{repo\}\/issues/, 'issues'],
  [/^\/repos\/\{owner\}\/\{repo\}(\/collaborators\/.*)?$/, 'metadata'],
  [/^\/orgs\/\{org\}\/teams\/.*\/memberships/, 'members'],
];

function requiredPermissions(): Record<string, 'read' | 'write'> {
  // git clone/fetch/push over HTTPS with the installation token.
  const required: Record<string, 'read' | 'write'> = { contents: 'write', metadata: 'read' };
  for (const route of calledRoutes()) {
    const [method, url] = route.split(' ') as [string, string];
    const entry = ROUTE_PERMISSIONS.find(([pattern]) => pattern.test(url));
    if (!entry) throw new Error(`no permission known for ${route}: add it to ROUTE_PERMISSIONS`);
    const permission = entry[1];
    if (!permission) continue;
    // GET needs read; adding a label goes through issues; metadata is read-only.
    const level = method === 'GET' || permission === 'metadata' ? 'read' : 'write';
    if (required[permission] !== 'write') required[permission] = level;
  }
  // Documented opt-ins (README): only `org/team` entries in allowed_runners need
  // Members: read, and only allow_workflow_changes needs Workflows: write.
  for (const optIn of ['members', 'workflows']) delete required[optIn];
  return required;
}

/** Events src/app.ts subscribes to: the event part of every `app.on(...)` name. */
function subscribedEvents(): string[] {
  const source = readFileSync(path.join(root, 'src/app.ts'), 'utf8');
  const events = new Set<string>();
  for (const call of source.matchAll(/app\.on\(\s*(\[[^\]]*\]|'[^']*')/g)) {
    for (const name of call[1]?.matchAll(/'([a-z_]+)(?:\.[a-z_]+)?'/g) ?? []) events.add(name[1] ?? '');
  }
  // GitHub delivers these to every App whatever app.yml says; they cannot be subscribed to.
  for (const always of ['installation', 'installation_repositories']) events.delete(always);
  return [...events].sort();
}

describe('app.yml', () => {
  it('names and describes the App and keeps it private', () => {
    expect(manifest.name).toBe('speckit-bot');
    expect(manifest.description).toMatch(/Spec Kit/);
    expect(manifest.public).toBe(false);
    expect(manifest.hook_attributes.url).toMatch(/\/api\/github\/webhooks$/);
  });

  it('subscribes to exactly the events src/app.ts handles', () => {
    expect(subscribedEvents()).toContain('issue_comment');
    expect([...manifest.default_events].sort()).toEqual(subscribedEvents());
  });

  it('asks for exactly the permissions the REST routes the code calls need', () => {
    expect(calledRoutes().length).toBeGreaterThan(5);
    expect(manifest.default_permissions).toEqual(requiredPermissions());
  });

  it('leaves workflows and members out: they are documented opt-ins', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(manifest.default_permissions).not.toHaveProperty('workflows');
    expect(manifest.default_permissions).not.toHaveProperty('members');
    expect(readme).toMatch(/allow_workflow_changes[\s\S]*Workflows: read & write/);
    expect(readme).toMatch(/org\/team[\s\S]*Members: read/);
  });
});
