/**
 * POST /mcp: MCP Streamable HTTP through the official SDK v2, both protocol eras.
 *
 * `createMcpHandler(factory, { legacy: 'reject' })` serves 2026-07-28 requests (server/discover,
 * Mcp-Method / Mcp-Name checked against the body by the SDK; a single JSON body unless a related
 * message comes first). 2025-era requests — routed by the SDK's own classifier
 * (`isLegacyRequest`, the code createMcpHandler routes with) — are served like the SDK's stateless
 * legacy fallback (a fresh server from the same factory on a fresh stateless transport) except
 * that the transport answers with one JSON body (`enableJsonResponse`) instead of an SSE stream:
 * pgwarden sends no message before a result (no progress, logging or server→client request on
 * the stateless leg), so the bytes a client reads are the same result, without the SSE framing
 * and the two web streams per call the profile charged ~10% of a call's CPU to
 * (docs/benchmarks.md). Mounted with `toNodeHandler` inside a fastify route that hijacks the reply.
 *
 * Guarantees: by the time the SDK sees a request, the Host/Origin check, the per-IP limit,
 * bearer authentication, the per-principal limit and fastify's body limit / JSON parsing have
 * passed; headers set by those hooks (rate limit, request id) are copied to the raw response.
 * Every request is tracked by the Lifecycle and owns an AbortSignal (see context.ts) that
 * fires on client disconnect, after server.request_timeout_ms, or when shutdown cancels.
 * A request sent with `Connection: close` gets `Connection: close` and a closed socket, whatever
 * the SDK's response headers say.
 * GET and DELETE /mcp (2025 session operations) are 405 — this server is stateless.
 *
 * The tools/call fast path (issue #13, when `toolCall` is given): a single 2025-era tools/call
 * that the SDK's JSON leg would hand to McpServer unchanged (fast-call.ts decides, conservatively)
 * is served by `toolCall` (src/mcp/tool-call.ts: the same tool definitions and handlers) and
 * answered on the hijacked reply with the status, headers and body the SDK writes
 * (`{"result":…,"jsonrpc":"2.0","id":…}`, content-type application/json; a content-length
 * instead of chunks) — without a per-request McpServer, transport, web Request/Response and the
 * SDK's zod passes over our own message. Everything around it is the same: lifecycle tracking,
 * signal, deadline, byte budget scope, the HTTP span (the tool's spans inside it), Connection:
 * close. A tool the principal does not have, and every other request, goes to the SDK as before.
 * test/integration/e2e/fast-path.test.ts compares both routes byte for byte.
 * Does not: force-close a response whose handler ignores its signal.
 */
import type { Telemetry } from '../telemetry/types.js';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { NodeMcpRequestHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type McpHandlerRequestOptions,
  type McpServerFactory,
} from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { resultBudget } from '../shared/budget.js';
import { buildAuthInfo, requestState, type HttpRequestContext } from './context.js';
import { DeadlineQueue } from './deadlines.js';
import { errorBody, HttpError } from './errors.js';
import { fastToolCallOf } from './fast-call.js';
import { writeFast } from './fast-answer.js';
import { syncHook } from './hooks.js';
import { RequestCancelledError, type Lifecycle } from './lifecycle.js';
import { CancelLatch } from '../core/signals.js';
import type { FastToolCall } from './types.js';

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
  /** The tools/call fast path (see the header); absent: the SDK serves every request. */
  toolCall?: FastToolCall;
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
  const onerror = (err: Error): void => app.log.warn({ err: { name: err.name, message: err.message } }, 'mcp handler reported an error');
  const maxRequestBodySize = server.body_limit_bytes;
  const handler = createMcpHandler(opts.mcpFactory, { legacy: 'reject', maxRequestBodySize, onerror });
  const legacy = jsonLegacyLeg(opts.mcpFactory, onerror, maxRequestBodySize);
  const composed = {
    fetch: async (request: Request, options?: McpHandlerRequestOptions): Promise<Response> =>
      (await isLegacyRequest(request, options?.parsedBody, { maxRequestBodySize })) ? await legacy(request, options) : await handler.fetch(request, options),
  };
  // The SDK's Node adapter (and hono's request conversion under it) is loaded by the first
  // request the fast path does not take, not at start: a tools/call answered by the fast path
  // never needs it (issue #13, start-up). A failed load answers that request 500, and the next
  // request tries again.
  let nodeHandler: Promise<NodeMcpRequestHandler> | undefined;
  const loadNodeHandler = (): Promise<NodeMcpRequestHandler> => {
    nodeHandler ??= import('@modelcontextprotocol/node').then(
      ({ toNodeHandler }) => toNodeHandler(composed, { maxRequestBodySize: server.body_limit_bytes, onerror: (err) => app.log.error({ err }, 'mcp adapter failed') }),
      (err: unknown) => {
        nodeHandler = undefined;
        throw err;
      },
    );
    return nodeHandler;
  };
  app.addHook('onClose', async () => {
    await handler.close();
  });

  const deadlines = new DeadlineQueue(server.request_timeout_ms);

  const shutdownGate = syncHook(() => {
    if (lifecycle.shuttingDown) throw new HttpError('SHUTTING_DOWN', { headers: { connection: 'close' } });
  });

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
    const cancel = new RequestCancel(request);
    const release = lifecycle.track(cancel);
    const deadline = deadlines.add(() => cancel.abort(new RequestCancelledError('timeout')));
    // Result rows read for this request stay charged to the byte budget until its response is
    // over (written or abandoned): the serialized answer is part of what the budget bounds. The
    // scope travels with the call (authInfo on the SDK route, the caller on the fast path).
    const budgetScope = resultBudget.scope();
    raw.once('close', () => {
      if (!raw.writableFinished && !cancel.aborted) cancel.abort(new RequestCancelledError('client_disconnected'));
      budgetScope.end();
    });
    const { principal, tokenId } = state;
    const requestId = String(request.id);
    const clientAddress = request.ip;

    if (wantsClose(request.raw)) honourConnectionClose(raw);
    const fast = opts.toolCall === undefined ? undefined : fastToolCallOf(request.headers, request.body);
    // Headers set by hooks (rate limit, request id) live on the fastify reply until it sends;
    // a hijacked reply never sends, so copy them to the raw response first.
    const hookHeaders = reply.getHeaders();
    for (const name in hookHeaders) {
      const value = hookHeaders[name];
      if (value !== undefined) raw.setHeader(name, value);
    }
    reply.hijack();
    /** The fast path when it takes the call, else the SDK; the status written. */
    const serve = async (): Promise<number> => {
      // the fast path's call is cancelled through the latch (one AbortController per call: the plumbing's)
      const answer = fast === undefined ? undefined : opts.toolCall?.({ principal, requestId, clientAddress, cancelLatch: cancel.latch, budgetScope }, fast);
      if (fast !== undefined && answer !== undefined) return writeFast(raw, fast.id, answer);
      const ctx: HttpRequestContext = { principal, tokenId, requestId, signal: cancel.signal, clientAddress, budgetScope };
      (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = buildAuthInfo(ctx);
      await (await loadNodeHandler())(request.raw, raw, request.body);
      return raw.statusCode;
    };
    try {
      if (opts.telemetry) {
        await opts.telemetry.httpRequest(
          { method: request.method, route: '/mcp', headers: request.headers, scheme: request.protocol, clientAddress: request.ip },
          async (span) => {
            span.setStatusCode(await serve());
          },
        );
      } else {
        await serve();
      }
    } catch (err) {
      request.log.error({ err }, 'mcp request failed');
      if (!raw.headersSent) {
        raw.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        raw.end(JSON.stringify(errorBody('INTERNAL_ERROR', requestId)));
      } else {
        raw.destroy();
      }
    } finally {
      if (raw.destroyed || raw.writableFinished) budgetScope.end();
      deadlines.remove(deadline);
      release();
    }
  }
}

/**
 * A request's cancellation — deadline, client gone, or shutdown (Lifecycle) — logged with why on
 * its first abort. The fast path's call listens to its latch (the call plumbing's own controller
 * aborts with the same reason); an AbortSignal is made only when the SDK serves the request
 * (authInfo needs one) and then aborts with it. Issue #13: on Node 20 an AbortSignal costs
 * several µs to create, and a linked pair (request, call) was two of them per call.
 */
class RequestCancel {
  readonly latch = new CancelLatch();
  readonly #request: FastifyRequest;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  constructor(request: FastifyRequest) {
    this.#request = request;
  }
  get aborted(): boolean {
    return this.#aborted;
  }
  /** The request's AbortSignal (made on first use; already aborted when the request was). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#request.log.info({ cancel: reason instanceof RequestCancelledError ? reason.reason : 'unknown' }, 'request signal aborted');
    this.#aborted = true;
    this.#reason = reason;
    this.latch.raise(reason);
    this.#controller?.abort(reason);
  }
}

/**
 * The 2025-era leg: the SDK's stateless legacy fallback (createLegacyStatelessFallback: a fresh
 * instance from the factory, era 'legacy', on a fresh transport with no session id, torn down
 * when the answer is out or the request is aborted), with `enableJsonResponse` on the transport.
 */
function jsonLegacyLeg(factory: McpServerFactory, onerror: (err: Error) => void, maxRequestBodySize: number) {
  return async (request: Request, options?: McpHandlerRequestOptions): Promise<Response> => {
    if (request.method.toUpperCase() !== 'POST') return jsonRpcError(405, -32000, 'Method not allowed.');
    try {
      const product = await factory({ era: 'legacy', ...(options?.authInfo !== undefined ? { authInfo: options.authInfo } : {}), requestInfo: request });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize });
      await product.connect(transport);
      const teardown = (): void => {
        transport.close().catch(() => undefined);
        product.close().catch(() => undefined);
      };
      // A JSON-mode transport closed before its result never settles handleRequest(): an aborted
      // request (the client went away) is answered here instead; nobody reads that answer.
      let onAbort = (): void => undefined;
      const aborted = new Promise<Response>((resolve) => {
        onAbort = () => resolve(jsonRpcError(503, -32000, 'Request aborted.'));
      });
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const answer = transport.handleRequest(request, {
          ...(options?.authInfo !== undefined ? { authInfo: options.authInfo } : {}),
          ...(options?.parsedBody !== undefined ? { parsedBody: options.parsedBody } : {}),
        });
        return await Promise.race([answer, aborted]);
      } finally {
        request.signal.removeEventListener('abort', onAbort);
        teardown();
      }
    } catch (err) {
      try {
        onerror(err instanceof Error ? err : new Error(String(err)));
      } catch {
        // reporting only
      }
      return jsonRpcError(500, -32603, 'Internal server error');
    }
  };
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'content-type': 'application/json' } });
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
