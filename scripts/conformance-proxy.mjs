// A header-adding HTTP proxy for the MCP conformance suite, which sends no bearer token:
// listens on 127.0.0.1:<port>, forwards every request to <target> with `Authorization: Bearer
// <token>` added, and keeps the Host header as the client sent it (so the suite's DNS-rebinding
// scenario still tests pgwarden's Host check). Usage: node conformance-proxy.mjs <target-origin> <port>
// with the token in PGWARDEN_CONFORMANCE_TOKEN. Prints "proxy listening <port>" when ready.
import http from 'node:http';
import process from 'node:process';
import { URL } from 'node:url';

const [target, portArg] = process.argv.slice(2);
const token = process.env.PGWARDEN_CONFORMANCE_TOKEN;
if (!target || !token) {
  process.stderr.write('usage: PGWARDEN_CONFORMANCE_TOKEN=… node conformance-proxy.mjs http://127.0.0.1:PORT [listen-port]\n');
  process.exit(2);
}
const upstream = new URL(target);
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`proxy listening ${typeof address === 'object' && address ? address.port : '?'}\n`);
});
