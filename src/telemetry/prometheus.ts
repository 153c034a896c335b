/**
 * The Prometheus scrape endpoint: a separate, minimal HTTP listener (default 127.0.0.1:9464)
 * that answers GET /metrics and nothing else.
 *
 * Guarantees: it is separate from the MCP listener, so no token, rate limit or MCP route is
 * shared with it; it binds to telemetry.prometheus.host (loopback by default); it serves only
 * metric text, whose labels are bounded codes and names (never SQL, tokens or DSNs).
 * Does not: authenticate. Expose it beyond loopback only on a private network (a Kubernetes
 * pod port scraped in-cluster), never publicly.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => void;

export async function startMetricsServer(options: { host: string; port: number }, handler: MetricsHandler): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    try {
      handler(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics collection failed\n');
    }
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: options.host,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
