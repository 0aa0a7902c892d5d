// The webhook path refuses a body GitHub would never send before reading it:
// over GitHub's 25 MB cap (413) or of unknown length (411). Raw sockets, and
// no nock in this file: nock's interceptor would buffer a declared body
// before the server saw the request.
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, MAX_WEBHOOK_BYTES, WEBHOOK_PATH } from '../src/http-server.ts';

describe('an oversized webhook body', () => {
  let url: URL;
  let reached = 0;
  let close: () => void;

  beforeAll(async () => {
    const server = createHttpServer({
      // Stands in for Probot's middleware: counts what gets past the guard.
      webhooks: (_req, res) => {
        reached += 1;
        res.writeHead(202).end();
      },
      checkDatabase: async () => {},
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}${WEBHOOK_PATH}`);
    close = () => server.close();
  });

  afterAll(() => close());

  /** A raw HTTP/1.1 request; resolves with the status and the JSON answer when the server closes. */
  function post(headers: Record<string, string | number>, body = '') {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      socket.on('error', reject);
      socket.on('close', () => {
        const [head = '', ...rest] = text.split('\r\n\r\n');
        const status = Number(head.split(' ')[1]);
        // The answers are chunked JSON: keep the JSON line.
        const json =
          rest
            .join('\r\n\r\n')
            .split('\r\n')
            .find((line) => line.startsWith('{')) ?? '';
        resolve({ status, body: json });
      });
      const lines = [`POST ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      // Only the headers go for the oversized case: the server must answer without the body.
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    });
  }

  it('refuses a declared length over GitHub’s 25 MB cap unread (413)', async () => {
    const answer = await post({
      'content-type': 'application/json',
      'content-length': MAX_WEBHOOK_BYTES + 1,
    });
    console.log(
      `injected: Content-Length ${MAX_WEBHOOK_BYTES + 1}, no body sent; observed: ${answer.status} ${answer.body}`,
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'payload_too_large' });
    expect(JSON.parse(answer.body).message).toContain('25 MB');
    expect(reached).toBe(0);
  });

  it('refuses a body of unknown length (411) and lets a normal one through', async () => {
    const chunked = await post(
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      '2\r\n{}\r\n0\r\n\r\n',
    );
    const normal = await post({ 'content-type': 'application/json', 'content-length': 2 }, '{}');
    console.log(
      `injected: a chunked body, then a 2-byte one; observed: ${chunked.status}, then ${normal.status}`,
    );
    expect(chunked.status).toBe(411);
    expect(normal.status).toBe(202);
    expect(reached).toBe(1);
  });
});
