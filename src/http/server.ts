/**
 * startHttpServer: listen, warn about exposure, and stop with a graceful drain.
 *
 * Guarantees of stop():
 *   1. readiness answers 503 and new /mcp calls 503 SHUTTING_DOWN at once;
 *   2. in-flight calls get up to server.drain_timeout_ms to finish;
 *   3. leftovers have their AbortSignal aborted (reason "shutdown"), the `onCancel` hook runs
 *      (e.g. cancel database statements), and they get `cancelGraceMs` more;
 *   4. the listener closes; connections still open CLOSE_FLUSH_MS later are destroyed.
 * Does not: install signal handlers (the CLI maps SIGTERM/SIGINT to stop()).
 */
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { hostPolicy, isLoopbackBind } from './host-check.js';

/** After the listener closes, how long open connections may finish writing before they are destroyed. */
const CLOSE_FLUSH_MS = 1_000;

export interface StopOptions {
  /** Overrides server.drain_timeout_ms. */
  drainTimeoutMs?: number;
  /** After cancelling leftovers, how long they may take to wind down (default 2000 ms). */
  cancelGraceMs?: number;
  /** Called after leftovers' signals were aborted (e.g. pool.cancelAll()). Errors are logged. */
  onCancel?: () => void | Promise<void>;
}

export interface StopReport {
  /** True when every in-flight call finished within the drain timeout. */
  drained: boolean;
  /** Calls whose signal was aborted by shutdown. */
  cancelled: number;
}

export interface HttpServerHandle {
  app: FastifyInstance;
  /** Bound address and port (port resolved when 0 was configured). */
  host: string;
  port: number;
  url: string;
  /** Graceful stop; idempotent (a second call returns the first call's promise). */
  stop(options?: StopOptions): Promise<StopReport>;
}

export async function startHttpServer(app: FastifyInstance, server: ServerConfig): Promise<HttpServerHandle> {
  warnAboutExposure(app, server);
  await app.listen({ host: server.host, port: server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : server.port;
  const host = server.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let stopping: Promise<StopReport> | undefined;
  return {
    app,
    host,
    port,
    url,
    stop(options = {}) {
      stopping ??= stopHttpServer(app, { drainTimeoutMs: server.drain_timeout_ms, ...options });
      return stopping;
    },
  };
}

export async function stopHttpServer(app: FastifyInstance, options: StopOptions & { drainTimeoutMs: number }): Promise<StopReport> {
  const lifecycle = app.pgwardenLifecycle;
  lifecycle.beginShutdown();
  app.log.info({ inFlight: lifecycle.inFlight, drainTimeoutMs: options.drainTimeoutMs }, 'shutting down: draining in-flight calls');
  const drained = await lifecycle.waitForIdle(options.drainTimeoutMs);
  let cancelled = 0;
  if (!drained) {
    cancelled = lifecycle.cancelAll('shutdown');
    app.log.warn({ cancelled }, 'drain timeout reached: cancelling in-flight calls');
    try {
      await options.onCancel?.();
    } catch (err) {
      app.log.error({ err }, 'onCancel hook failed');
    }
    const settled = await lifecycle.waitForIdle(options.cancelGraceMs ?? 2_000);
    if (!settled) app.log.warn({ inFlight: lifecycle.inFlight }, 'calls still running after cancellation: closing their connections');
  }
  // Idle keep-alive sockets close at once (forceCloseConnections: 'idle'); responses still being
  // flushed get CLOSE_FLUSH_MS, then whatever is left is abandoned work and is destroyed.
  const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_FLUSH_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
  app.log.info({ drained, cancelled }, 'http server stopped');
  return { drained, cancelled };
}

/** Warnings to log at start for a server reachable beyond this machine (empty on loopback). */
export function exposureWarnings(server: ServerConfig): string[] {
  if (isLoopbackBind(server.host)) return [];
  const out = [
    `binding to ${server.host}: pgwarden is reachable from the network; put it behind an HTTPS reverse proxy and restrict who can reach it`,
  ];
  const policy = hostPolicy(server);
  if (policy.hosts === undefined) {
    out.push('server.allowed_hosts is empty: any Host header is accepted on /mcp (no DNS-rebinding protection); list the public host names');
  }
  if (policy.origins.length === 0) {
    out.push('server.allowed_origins and server.allowed_hosts are empty: requests carrying an Origin header (browsers) are refused');
  }
  return out;
}

function warnAboutExposure(app: FastifyInstance, server: ServerConfig): void {
  for (const msg of exposureWarnings(server)) app.log.warn({ host: server.host, port: server.port }, msg);
}
