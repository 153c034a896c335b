/**
 * Request ids and request logging for the HTTP layer.
 *
 * Guarantees: every request gets an id (a sane inbound X-Request-Id is kept, anything else is
 * replaced by a random UUID), returned in the X-Request-Id response header and bound to every
 * log line of the request as `requestId`. Request log lines carry method, path (never the
 * query string), client address and user agent — never headers; and the logger is wrapped
 * with redaction of every `authorization` / `cookie` field we know of, as a second line of
 * defense.
 * Does not: redact secrets that callers put in free-text messages.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** fastify genReqId: keep a sane inbound id, otherwise mint one. */
export function genRequestId(raw: IncomingMessage): string {
  const inbound = raw.headers[REQUEST_ID_HEADER];
  if (typeof inbound === 'string' && SANE_REQUEST_ID.test(inbound)) return inbound;
  return randomUUID();
}

/** Paths pino must censor wherever a request or its headers get logged. */
export const LOG_REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'raw.headers.authorization',
  'req.raw.headers.authorization',
  'res.headers["set-cookie"]',
  'authInfo.token',
  '*.authorization',
];

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Serializers: what of a request/response appears in logs. */
export const logSerializers = {
  req(req: FastifyRequest | IncomingMessage): Record<string, unknown> {
    const r = req as FastifyRequest & IncomingMessage;
    const ua = r.headers?.['user-agent'];
    return {
      method: r.method,
      path: pathOf(r.url),
      clientAddress: typeof r.ip === 'string' ? r.ip : r.socket?.remoteAddress,
      ...(typeof ua === 'string' ? { userAgent: ua.slice(0, 200) } : {}),
    };
  },
  res(res: FastifyReply | { statusCode?: number }): Record<string, unknown> {
    return { statusCode: res.statusCode };
  },
};

/** The logger the HTTP app uses: the caller's, with our serializers and redaction on top. */
export function httpLogger(base: Logger): Logger {
  return base.child({ component: 'http' }, { redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' }, serializers: logSerializers });
}

/** Probe paths: not request-logged (kubelets call them every few seconds). */
export const PROBE_PATHS = new Set(['/health', '/livez', '/ready', '/readyz']);
export function isProbe(url: string | undefined): boolean {
  return PROBE_PATHS.has(pathOf(url));
}

/**
 * Requests fastify does not log with its two info lines ("incoming request", "request
 * completed"): probes, and /mcp, whose every tool call is an audit record (and a span and metric
 * sample when telemetry is on) — two log lines per call would double the I/O of a busy gateway.
 * /admin and unknown routes are still request-logged; refusals and errors are logged everywhere.
 */
export function skipRequestLog(url: string | undefined): boolean {
  const path = pathOf(url);
  return path === '/mcp' || PROBE_PATHS.has(path);
}
export { pathOf };

const LOG_METHODS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/**
 * fastify childLoggerFactory: the per-request logger (bound to `requestId`), and every child taken
 * from it (auth binds principal and token id, /mcp the JSON-RPC method), is only built when it
 * first writes a line at an enabled level, or when anything else of it is read. pino builds a child
 * eagerly — serializing and redacting its bindings — and a /mcp request took three of them, to
 * write no line at all in the common case (≈ 4% of a call's CPU in the 16-client profile,
 * docs/benchmarks.md). When it is built, it is exactly the child pino would have built (same
 * bindings, options, serializers and redaction), so the lines are unchanged.
 */
export function lazyChildLogger(parent: Logger, bindings: Record<string, unknown>, options?: Record<string, unknown>): Logger {
  return lazyLogger(new LazyState(parent, parent, bindings, options));
}

const STATE = Symbol('lazyLoggerState');

/**
 * One lazy logger's state; the logger is a Proxy over it with one shared handler, and its log
 * methods and `child` are shared functions that find the state through `this` (issue #13: a
 * request takes three of these, most of them never written to; per-instance closures and a method
 * cache were ≈ 3 KB per call). Like pino's own methods they are called on the logger.
 */
class LazyState {
  real: Logger | undefined = undefined;
  constructor(
    /** The logger this one is a child of: built, or another lazy one (built on demand). */
    readonly parent: Logger | LazyState,
    /** A built ancestor to ask for enabled levels until this one is built. */
    readonly levels: Logger,
    readonly bindings: Record<string, unknown>,
    readonly options: Record<string, unknown> | undefined,
  ) {}

  build(): Logger {
    if (this.real !== undefined) return this.real;
    const parent = this.parent instanceof LazyState ? this.parent.build() : this.parent;
    this.real = this.options === undefined ? parent.child(this.bindings) : parent.child(this.bindings, this.options);
    return this.real;
  }

  /** A child's own level option decides for it; otherwise the built ancestor's level (pino children inherit it). */
  enabled(method: string): boolean {
    if (this.real !== undefined) return this.real.isLevelEnabled(method);
    const own = this.options?.level;
    if (typeof own === 'string') {
      const values = this.levels.levels.values;
      return values[method] !== undefined && (values[method] as number) >= (values[own] ?? 0);
    }
    return this.levels.isLevelEnabled(method);
  }
}

function stateOf(logger: unknown): LazyState {
  const state = (logger as { [STATE]?: unknown } | undefined)?.[STATE];
  if (!(state instanceof LazyState)) throw new TypeError('a lazy logger method was called without its logger');
  return state;
}

const LAZY_METHODS = new Map<string, (this: unknown, ...args: unknown[]) => unknown>();
for (const method of LOG_METHODS) {
  LAZY_METHODS.set(method, function (this: unknown, ...args: unknown[]): void {
    const state = stateOf(this);
    if (!state.enabled(method)) return;
    (state.build()[method as 'info'] as (...a: unknown[]) => void)(...args);
  });
}
LAZY_METHODS.set('child', function (this: unknown, childBindings: unknown, childOptions?: unknown): Logger {
  const state = stateOf(this);
  return lazyLogger(new LazyState(state, state.real ?? state.levels, childBindings as Record<string, unknown>, childOptions as Record<string, unknown> | undefined));
});

const LAZY_HANDLER: ProxyHandler<LazyState> = {
  get(state, prop) {
    if (prop === STATE) return state;
    if (typeof prop === 'string') {
      const shared = LAZY_METHODS.get(prop);
      if (shared !== undefined) return shared;
    }
    const target = state.build();
    const value = Reflect.get(target, prop, target) as unknown;
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  },
  set(state, prop, value) {
    return Reflect.set(state.build(), prop, value);
  },
  has(state, prop) {
    return Reflect.has(state.build(), prop);
  },
};

function lazyLogger(state: LazyState): Logger {
  return new Proxy(state, LAZY_HANDLER) as unknown as Logger;
}
