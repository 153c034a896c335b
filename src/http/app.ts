/**
 * buildHttpApp: the fastify application serving MCP on POST /mcp and the probes.
 *
 * Request pipeline for /mcp (each step can refuse with a JSON-RPC-shaped error, errors.ts):
 *   request id → Host/Origin allow-lists (403) → shutdown gate (503) → per-IP limit (429)
 *   → bearer auth (401; several Authorization headers are refused too) → per-principal limit
 *   (429) → body limit (413) / content type (415) / JSON nested deeper than 64 levels (400,
 *   -32600, depth.ts) / JSON parse (400, -32700) → MCP SDK (both eras) with principal +
 *   AbortSignal in authInfo.
 * Sockets (sockets.ts): header, whole-request and keep-alive timeouts, a connection cap below the
 * file-descriptor limit (logged when hit).
 * Probes (/health, /livez, /ready, /readyz) skip Host checks, limits and auth.
 * /admin/* (operators only, admin.ts) exists when opts.admin is given.
 *
 * Guarantees: the Authorization header is never logged (serializers log no headers; pino
 * redaction as a second line); unknown routes and framework errors answer JSON, never HTML.
 * Does not: listen (startHttpServer does) or terminate TLS (run behind a proxy for HTTPS).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { resultBudget } from '../shared/budget.js';
import { registerAdminRoutes, sendAdminHttpError } from './admin.js';
import { authHook } from './auth.js';
import { errorHandler, HttpError, refusalOf, sendError } from './errors.js';
import { hostCheckHook, hostPolicy } from './host-check.js';
import { syncHook } from './hooks.js';
import { Lifecycle } from './lifecycle.js';
import { genRequestId, httpLogger, lazyChildLogger, REQUEST_ID_HEADER, skipRequestLog } from './logging.js';
import { registerMcpRoute } from './mcp-route.js';
import { registerProbes } from './probes.js';
import { rateLimitHooks } from './rate-limit.js';
import { applyConnectionCap, socketOptions } from './sockets.js';
import { registerJsonParser } from './depth.js';
import type { BuildHttpAppOptions } from './types.js';
import type { ServerConfig } from '../config/schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Shutdown state and in-flight tracking of this app (used by startHttpServer().stop()). */
    pgwardenLifecycle: Lifecycle;
  }
}

/**
 * server.trust_proxy → fastify trustProxy. A hop count n trusts the n nearest hops, the classic
 * proxy-addr meaning (fastify 5 treats a bare number as "trust nothing"): only use it when
 * clients cannot reach pgwarden except through those proxies; prefer addresses/CIDRs.
 */
export function trustProxyOption(tp: ServerConfig['trust_proxy']): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof tp === 'number') return (_address, hop) => hop < tp;
  return tp;
}

function noSchemaCompiler(): never {
  throw new Error('pgwarden routes declare no fastify schemas; validate in the handler instead');
}
/** fastify's schemaController option for an app without route schemas (see buildHttpApp). */
export const NO_SCHEMA_CONTROLLER = { compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler } };

export async function buildHttpApp(opts: BuildHttpAppOptions): Promise<FastifyInstance> {
  const { server } = opts;
  const lifecycle = opts.lifecycle ?? new Lifecycle();
  // One byte budget for the process's result rows (db/budget.ts).
  resultBudget.configure({ capacity: server.result_budget_bytes, waitMs: server.result_budget_wait_ms });

  const app = Fastify({
    loggerInstance: httpLogger(opts.logger) as FastifyBaseLogger,
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: (req) => skipRequestLog(req.url) }),
    genReqId: genRequestId,
    // per-request loggers are built on their first line (logging.ts): most requests write none
    childLoggerFactory: (logger, bindings, options) => lazyChildLogger(logger as Logger, bindings, options as Record<string, unknown>) as FastifyBaseLogger,
    requestIdHeader: false,
    trustProxy: trustProxyOption(server.trust_proxy),
    bodyLimit: server.body_limit_bytes,
    // Socket limits (sockets.ts): slow headers, slow bodies and idle keep-alive sockets are
    // closed; the connection cap is applied on the listener below.
    ...socketOptions(server),
    // Closing: keep-alive sockets that are idle are closed at once; busy ones finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // No route declares a schema: fastify's default compilers (@fastify/ajv-compiler with its own
    // Ajv, JTD and standalone modules; fast-json-stringify) would be loaded for nothing at every
    // start (issue #13: start-up and idle RSS). A route with a schema fails to register, loudly.
    schemaController: NO_SCHEMA_CONTROLLER,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Router errors (an over-long path parameter, a malformed URL) in the project's error shape:
    // fastify's own bodies would echo the path back.
    frameworkErrors: (err, request, reply) => {
      const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long.' : 'The request path is not valid.';
      const refusal = new HttpError('INVALID_REQUEST', { message });
      void (request.url.startsWith('/admin/') && opts.admin !== undefined ? sendAdminHttpError(reply, refusal) : sendError(reply, refusal));
    },
  });
  app.decorate('pgwardenLifecycle', lifecycle);
  app.decorateRequest('pgwarden', null);

  // Only JSON bodies: drop fastify's text/plain parser so anything else is 415.
  app.removeContentTypeParser('text/plain');
  // Deeply nested JSON is refused before it is parsed (or the SDK's JSON.stringify walks it).
  registerJsonParser(app);

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => sendError(reply, new HttpError('NOT_FOUND')));

  app.addHook(
    'onRequest',
    syncHook((request, reply) => {
      reply.header(REQUEST_ID_HEADER, String(request.id));
      if (lifecycle.shuttingDown) reply.header('connection', 'close');
    }),
  );
  app.addHook('onRequest', hostCheckHook(hostPolicy(server)));
  applyConnectionCap(app, server);

  // Request metrics on every route (probes, /mcp, /admin, unmatched): duration by method, route
  // pattern and status, and the refusal, auth-failure and 429 counters. Labels never carry a
  // token, principal or raw URL.
  const telemetry = opts.telemetry;
  if (telemetry?.enabled === true) {
    app.addHook('onResponse', (request, reply, done) => {
      telemetry.metrics.httpResponse({
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        durationS: reply.elapsedTime / 1000,
        refusal: refusalOf(request),
      });
      done();
    });
  }

  registerProbes(app, opts.readiness, lifecycle);

  const limits = rateLimitHooks(server.rate_limit);
  registerMcpRoute(app, {
    server,
    mcpFactory: opts.mcpFactory,
    ...(opts.toolCall ? { toolCall: opts.toolCall } : {}),
    lifecycle,
    preAuth: [limits.perIp],
    auth: [authHook(opts.authenticator, opts.onAuthFailure), limits.perPrincipal],
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  });
  if (opts.admin !== undefined) {
    await registerAdminRoutes(app, { ...opts.admin, lifecycle, perIp: limits.perIp, perPrincipal: limits.perPrincipal });
  }

  await app.ready();
  return app;
}
