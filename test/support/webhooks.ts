// Real webhook payloads (from @octokit/webhooks-examples) and signed delivery.
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ExampleGroup {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as ExampleGroup[];

/** A deep copy of GitHub's example payload for `event.action` (one with `installation` when there is one). */
export function examplePayload(event: string, action: string): Record<string, any> {
  const group = examples.find((g) => g.name === event);
  const candidates = group?.examples.filter((e) => e.action === action) ?? [];
  const example = candidates.find((e) => 'installation' in e) ?? candidates[0];
  if (!example) throw new Error(`no example payload for ${event}.${action}`);
  return structuredClone(example) as Record<string, any>;
}

/** An issue_comment.created payload with this body, on a repository cloned from `cloneUrl`. */
export function commentPayload(options: {
  body: string;
  cloneUrl: string;
  installationId: number;
  sender?: { login: string; type?: 'User' | 'Bot' };
}): Record<string, any> {
  const payload = examplePayload('issue_comment', 'created');
  payload.comment.body = options.body;
  payload.repository.clone_url = options.cloneUrl;
  payload.installation = { id: options.installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' };
  if (options.sender) {
    payload.sender.login = options.sender.login;
    payload.sender.type = options.sender.type ?? 'User';
    payload.comment.user.login = options.sender.login;
  }
  return payload;
}

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs a signed delivery the way GitHub does; returns the response. */
export async function deliverWebhook(
  url: string,
  options: { secret: string; event: string; payload: unknown; deliveryId?: string },
): Promise<Response> {
  const body = JSON.stringify(options.payload);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': options.event,
      'x-github-delivery': options.deliveryId ?? randomUUID(),
      'x-hub-signature-256': sign(options.secret, body),
    },
    body,
  });
}
