// The floor of the webhook-ack benchmark, as its own process: the app's HTTP
// server (src/http-server.ts) with the webhook route answered at once — the
// body is read and 200 returned, no signature check, no database, no app.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../../src/http-server.ts';

const server = createHttpServer({
  webhooks: (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  },
  checkDatabase: async () => {},
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ msg: 'bench web ready', url: `http://127.0.0.1:${port}` })}\n`);
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
