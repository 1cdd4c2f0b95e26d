// A tiny round-robin HTTP proxy for the scale benchmark, run as its own process: each request goes
// to the next of the target URLs given as arguments (keep-alive connections to each), the answer is
// streamed back unchanged. Prints `listening on <url>` once ready.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

const targets = process.argv.slice(2).map((u) => new URL(u));
if (targets.length === 0) throw new Error('usage: roundRobin.ts <target url>...');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let next = 0;

const server = http.createServer((req, res) => {
  const target = targets[next++ % targets.length] as URL;
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
