/**
 * Socket limits of the HTTP listener: what a client that never authenticates can hold.
 *
 * Guarantees:
 * - a client must send its headers within server.headers_timeout_ms and its whole request within
 *   server.receive_timeout_ms (Node answers 408 and closes); idle keep-alive sockets close after
 *   server.keep_alive_timeout_ms. Node checks these every CHECK_INTERVAL_MS (its default is 30 s,
 *   which let trickling sockets live 68–128 s).
 * - at most server.max_connections client sockets are open at once, and never more than the
 *   process's file-descriptor limit minus FD_RESERVE (read from /proc/self/limits where it
 *   exists; the cap is lowered with a warning). Past the cap Node closes new sockets at once;
 *   that is logged (warn, at most once per DROP_LOG_INTERVAL_MS, with the number dropped).
 * Does not: limit per client address (the per-IP rate limit counts requests, not sockets) or
 *   bound the time a handler runs (server.request_timeout_ms aborts the call's signal).
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { ServerConfig } from '../config/schema.js';

/** How often Node checks header/request timeouts. */
const CHECK_INTERVAL_MS = 1_000;
/** Descriptors kept free for the database pools, the audit file, logs and the admin listener. */
export const FD_RESERVE = 128;
const DROP_LOG_INTERVAL_MS = 10_000;

type SocketServerOptions = Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout'> & {
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
};

/** The fastify/Node server options for the timeouts (headers ≤ request, as Node requires). */
export function socketOptions(server: ServerConfig): SocketServerOptions {
  const requestTimeout = server.receive_timeout_ms;
  const headersTimeout = Math.min(server.headers_timeout_ms, requestTimeout);
  return {
    requestTimeout,
    keepAliveTimeout: server.keep_alive_timeout_ms,
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, headersTimeout) },
  };
}

/** The soft RLIMIT_NOFILE of this process, when the platform says (Linux /proc). */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (m === null || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/** The connection cap to apply: the configured one, lowered below the descriptor limit. */
export function connectionCap(configured: number, fileLimit: number | undefined): { cap: number; lowered: boolean } {
  if (fileLimit === undefined) return { cap: configured, lowered: false };
  const ceiling = Math.max(16, fileLimit - FD_RESERVE);
  return configured > ceiling ? { cap: ceiling, lowered: true } : { cap: configured, lowered: false };
}

/** Set maxConnections on the app's listener and log when it drops connections. */
export function applyConnectionCap(app: FastifyInstance, server: ServerConfig): void {
  const fileLimit = openFileLimit();
  const { cap, lowered } = connectionCap(server.max_connections, fileLimit);
  if (lowered) {
    app.log.warn(
      { configured: server.max_connections, applied: cap, openFileLimit: fileLimit },
      'server.max_connections is above the file-descriptor limit less a reserve: lowered (raise the limit with ulimit -n, or lower server.max_connections)',
    );
  }
  app.server.maxConnections = cap;
  let dropped = 0;
  let lastLog = 0;
  app.server.on('drop', () => {
    dropped += 1;
    const now = Date.now();
    if (now - lastLog < DROP_LOG_INTERVAL_MS) return;
    lastLog = now;
    app.log.warn(
      { maxConnections: cap, dropped },
      'connection cap reached: new connections are closed (server.max_connections; idle sockets close after server.keep_alive_timeout_ms)',
    );
    dropped = 0;
  });
}
