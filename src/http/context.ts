/**
 * The per-request context the HTTP layer hands to MCP tool handlers, via the SDK's AuthInfo.
 *
 * Guarantees: an authenticated /mcp request reaches the McpServerFactory (`ctx.authInfo`) and
 * every tool callback (`ctx.http.authInfo`) with
 *   authInfo = { token: <tokenId>, clientId: <principal>, scopes: [],
 *                extra: { principal, tokenId, requestId, signal, clientAddress, budgetScope } }
 * `token` is the token's label, never the raw bearer token. `signal` aborts (reason: a
 * RequestCancelledError) when the HTTP client disconnects, the request outlives
 * server.request_timeout_ms, or shutdown cancels in-flight calls after the drain timeout.
 * Does not: merge the SDK's own `ctx.mcpReq.signal` (MCP-level cancellation); use
 * `callSignal()` to get one signal that covers both.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { FastifyRequest } from 'fastify';
import { linkSignals } from '../core/signals.js';
import { BudgetScope } from '../shared/budget.js';

/** What tool handlers learn about the HTTP request they serve. */
export interface HttpRequestContext {
  principal: string;
  tokenId: string;
  requestId: string;
  /** Fires on client disconnect, request timeout, or shutdown cancellation. */
  signal: AbortSignal;
  clientAddress: string;
  /** The response's result-budget scope: leases of the call's reads are released with the response. */
  budgetScope?: BudgetScope;
}

/** Per-request state kept on the fastify request. */
export interface RequestState {
  principal?: string;
  tokenId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    pgwarden: RequestState | null;
  }
}

export function requestState(request: FastifyRequest): RequestState {
  if (request.pgwarden === null) request.pgwarden = {};
  return request.pgwarden;
}

export function buildAuthInfo(ctx: HttpRequestContext): AuthInfo {
  return {
    token: ctx.tokenId,
    clientId: ctx.principal,
    scopes: [],
    extra: { ...ctx },
  };
}

/**
 * The HTTP request context inside a tool callback or the server factory:
 *   `httpRequestContext(ctx.http?.authInfo)` (tool) / `httpRequestContext(ctx.authInfo)` (factory).
 * Undefined when the request did not come through this HTTP layer (stdio, tests).
 */
export function httpRequestContext(authInfo: AuthInfo | undefined): HttpRequestContext | undefined {
  const x = authInfo?.extra;
  if (x === undefined) return undefined;
  const { principal, tokenId, requestId, signal, clientAddress, budgetScope } = x;
  if (
    typeof principal !== 'string' ||
    typeof tokenId !== 'string' ||
    typeof requestId !== 'string' ||
    typeof clientAddress !== 'string' ||
    !(signal instanceof AbortSignal)
  ) {
    return undefined;
  }
  return { principal, tokenId, requestId, signal, clientAddress, ...(budgetScope instanceof BudgetScope ? { budgetScope } : {}) };
}

/**
 * One signal for a tool call: the HTTP request's (disconnect / timeout / shutdown) combined with
 * the SDK's MCP-level cancellation signal (`ctx.mcpReq.signal`).
 */
export function callSignal(authInfo: AuthInfo | undefined, mcpSignal?: AbortSignal): AbortSignal | undefined {
  const http = httpRequestContext(authInfo)?.signal;
  if (http === undefined) return mcpSignal;
  if (mcpSignal === undefined) return http;
  // Both signals live as long as the request: the links need no disposal (see core/signals.ts).
  return linkSignals(http, mcpSignal).signal;
}
