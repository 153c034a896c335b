/**
 * POST /mcp: MCP Streamable HTTP through the official SDK v2, both protocol eras.
 *
 * `createMcpHandler(factory)` serves 2026-07-28 requests (server/discover, Mcp-Method /
 * Mcp-Name checked against the body by the SDK) and, through its default stateless legacy
 * fallback, 2025-era clients (initialize, tools/list, tools/call) from the same factory. It is
 * mounted with `toNodeHandler` inside a fastify route that hijacks the reply.
 *
 * Guarantees: by the time the SDK sees a request, the Host/Origin check, the per-IP limit,
 * bearer authentication, the per-principal limit and fastify's body limit / JSON parsing have
 * passed; headers set by those hooks (rate limit, request id) are copied to the raw response.
 * Every request is tracked by the Lifecycle and owns an AbortSignal (see context.ts) that
 * fires on client disconnect, after server.request_timeout_ms, or when shutdown cancels.
 * A request sent with `Connection: close` gets `Connection: close` and a closed socket, whatever
 * the SDK's response headers say.
 * GET and DELETE /mcp (2025 session operations) are 405 — this server is stateless.
 * Does not: force-close a response whose handler ignores its signal.
 */
import type { Telemetry } from '../telemetry/types.js';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type AuthInfo, type McpServerFactory } from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { resultBudget } from '../db/budget.js';
import { buildAuthInfo, requestState, type HttpRequestContext } from './context.js';
import { errorBody, HttpError } from './errors.js';
import { RequestCancelledError, type Lifecycle } from './lifecycle.js';

export interface McpRouteOptions {
  server: ServerConfig;
  mcpFactory: McpServerFactory;
  lifecycle: Lifecycle;
  /** onRequest hooks before authentication (per-IP limit). */
  preAuth: onRequestHookHandler[];
  /** Authentication then per-principal limit. */
  auth: onRequestHookHandler[];
  /** Tracing of the HTTP request (no-op unless telemetry is configured). */
  telemetry?: Pick<Telemetry, 'httpRequest'>;
}

/** JSON-RPC method (and tool name) of a single message, for logs. */
function rpcSummary(body: unknown): Record<string, string> | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { method, params } = body as { method?: unknown; params?: { name?: unknown } };
  if (typeof method !== 'string') return undefined;
  const name = method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
  return { method: method.slice(0, 100), ...(name === undefined ? {} : { tool: name.slice(0, 100) }) };
}

export function registerMcpRoute(app: FastifyInstance, opts: McpRouteOptions): void {
  const { server, lifecycle } = opts;
  const handler = createMcpHandler(opts.mcpFactory, {
    maxRequestBodySize: server.body_limit_bytes,
    onerror: (err) => app.log.warn({ err: { name: err.name, message: err.message } }, 'mcp handler reported an error'),
  });
  const nodeHandler = toNodeHandler(handler, {
    maxRequestBodySize: server.body_limit_bytes,
    onerror: (err) => app.log.error({ err }, 'mcp adapter failed'),
  });
  app.addHook('onClose', async () => {
    await handler.close();
  });

  const shutdownGate: onRequestHookHandler = async () => {
    if (lifecycle.shuttingDown) throw new HttpError('SHUTTING_DOWN', { headers: { connection: 'close' } });
  };

  app.post('/mcp', { onRequest: [shutdownGate, ...opts.preAuth, ...opts.auth] }, async (request, reply) => {
    await serveMcp(request, reply);
  });

  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply): Promise<never> => {
    reply.header('allow', 'POST');
    throw new HttpError('METHOD_NOT_ALLOWED');
  };
  app.route({ method: ['GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'], url: '/mcp', onRequest: opts.preAuth, handler: notAllowed });

  async function serveMcp(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const state = requestState(request);
    if (state.principal === undefined || state.tokenId === undefined) throw new HttpError('INTERNAL_ERROR'); // auth hook did not run
    if (lifecycle.shuttingDown) throw new HttpError('SHUTTING_DOWN', { headers: { connection: 'close' } });

    const rpc = rpcSummary(request.body);
    if (rpc !== undefined) reply.log = request.log = request.log.child({ rpc });

    const raw = reply.raw;
    const controller = new AbortController();
    const release = lifecycle.track(controller);
    const deadline = setTimeout(() => controller.abort(new RequestCancelledError('timeout')), server.request_timeout_ms);
    deadline.unref();
    raw.once('close', () => {
      if (!raw.writableFinished && !controller.signal.aborted) controller.abort(new RequestCancelledError('client_disconnected'));
    });
    controller.signal.addEventListener('abort', () => {
      const reason: unknown = controller.signal.reason;
      request.log.info({ cancel: reason instanceof RequestCancelledError ? reason.reason : 'unknown' }, 'request signal aborted');
    });

    const ctx: HttpRequestContext = {
      principal: state.principal,
      tokenId: state.tokenId,
      requestId: String(request.id),
      signal: controller.signal,
      clientAddress: request.ip,
    };
    (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = buildAuthInfo(ctx);

    // Headers set by hooks (rate limit, request id) live on the fastify reply until it sends;
    // a hijacked reply never sends, so copy them to the raw response first.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) raw.setHeader(name, value);
    }
    if (wantsClose(request.raw)) honourConnectionClose(raw);
    // Result rows read for this request stay charged to the byte budget until its response is
    // over (written or abandoned): the serialized answer is part of what the budget bounds.
    const budgetScope = resultBudget.scope();
    raw.once('close', () => budgetScope.end());
    reply.hijack();
    try {
      if (opts.telemetry) {
        await opts.telemetry.httpRequest(
          { method: request.method, route: '/mcp', headers: request.headers, scheme: request.protocol, clientAddress: request.ip },
          async (span) => {
            await budgetScope.run(() => nodeHandler(request.raw, raw, request.body));
            span.setStatusCode(raw.statusCode);
          },
        );
      } else {
        await budgetScope.run(() => nodeHandler(request.raw, raw, request.body));
      }
    } catch (err) {
      request.log.error({ err }, 'mcp request failed');
      if (!raw.headersSent) {
        raw.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        raw.end(JSON.stringify(errorBody('INTERNAL_ERROR', ctx.requestId)));
      } else {
        raw.destroy();
      }
    } finally {
      if (raw.destroyed || raw.writableFinished) budgetScope.end();
      clearTimeout(deadline);
      release();
    }
  }
}

/** Whether the client asked to close the connection after this request (`Connection: close`). */
function wantsClose(req: IncomingMessage): boolean {
  const value = req.headers.connection;
  return typeof value === 'string' && value.split(',').some((t) => t.trim().toLowerCase() === 'close');
}

/**
 * The SDK answers event streams with an explicit `Connection: keep-alive`, which makes Node keep
 * the socket open even when the request said `Connection: close`. Replace that header by
 * `close` on this response, so Node closes the socket once the answer is written.
 */
function honourConnectionClose(raw: ServerResponse): void {
  const writeHead = raw.writeHead.bind(raw) as (status: number, ...rest: unknown[]) => ServerResponse;
  raw.writeHead = ((status: number, ...rest: unknown[]) => {
    for (const arg of rest) {
      if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
        const headers = arg as OutgoingHttpHeaders;
        for (const name of Object.keys(headers)) if (name.toLowerCase() === 'connection') delete headers[name];
      }
    }
    raw.setHeader('connection', 'close');
    return writeHead(status, ...rest);
  }) as ServerResponse['writeHead'];
}
