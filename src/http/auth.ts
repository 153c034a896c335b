/**
 * Bearer authentication for /mcp.
 *
 * Guarantees: a request reaches the per-principal limiter and the MCP handler only after the
 * Authenticator accepted its Authorization header; otherwise it is answered 401 with
 * `WWW-Authenticate: Bearer realm="pgwarden"` (plus `error="invalid_token"` when a credential
 * was presented, RFC 6750 §3) and UNAUTHENTICATED / INVALID_TOKEN. The raw header is never
 * logged, stored on the request, or passed on: only the principal and the token id are.
 * A request with more than one Authorization header is refused the same way (reason
 * `malformed`), whatever the headers hold: the first one no longer wins.
 * The audit hook (onAuthFailure) gets the reason and request metadata, never the credential.
 * Does not: compare tokens (the Authenticator does, in constant time) or throttle guessing
 * (the per-IP limiter in front of this hook does).
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { requestState } from './context.js';
import { HttpError } from './errors.js';
import { syncHook } from './hooks.js';
import { pathOf } from './logging.js';
import type { AuthFailureInfo, AuthFailureReason, Authenticator } from './types.js';

export const REALM = 'pgwarden';

const DESCRIPTIONS: Record<Exclude<AuthFailureReason, 'missing'>, string> = {
  malformed: 'The Authorization header must be "Bearer <token>".',
  invalid: 'The bearer token is not valid.',
  expired: 'The bearer token has expired.',
};

export function wwwAuthenticate(reason: AuthFailureReason): string {
  if (reason === 'missing') return `Bearer realm="${REALM}"`;
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${DESCRIPTIONS[reason]}"`;
}

/**
 * The request's one Authorization header value; `duplicate` when it carries more than one (Node
 * keeps only the first in `headers.authorization`, so which credential counts would depend on
 * the order an intermediary wrote them: refuse instead).
 */
export function authorizationHeader(request: FastifyRequest): string | undefined | { duplicate: true } {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'authorization') count += 1;
  if (count > 1) return { duplicate: true };
  const header = request.headers.authorization;
  return typeof header === 'string' ? header : undefined;
}

/** Message of the refusal of a request with several Authorization headers. */
export const DUPLICATE_AUTHORIZATION = 'The request carries more than one Authorization header; send exactly one.';

export function authHook(authenticator: Authenticator, onAuthFailure: ((info: AuthFailureInfo) => void) | undefined): onRequestHookHandler {
  return syncHook(function authenticate(request: FastifyRequest, reply: FastifyReply): void {
    const header = authorizationHeader(request);
    const result: ReturnType<Authenticator['authenticate']> =
      typeof header === 'object' ? { ok: false, reason: 'malformed' } : authenticator.authenticate(header);
    if (result.ok) {
      const state = requestState(request);
      state.principal = result.principal;
      state.tokenId = result.tokenId;
      // Every later line of this request (including fastify's "request completed") names them.
      request.log = request.log.child({ principal: result.principal, tokenId: result.tokenId });
      reply.log = request.log;
      return;
    }
    const info: AuthFailureInfo = {
      reason: result.reason,
      requestId: String(request.id),
      clientAddress: request.ip,
      method: request.method,
      path: pathOf(request.url),
      ...(typeof request.headers['user-agent'] === 'string' ? { userAgent: request.headers['user-agent'].slice(0, 200) } : {}),
    };
    const duplicate = typeof header === 'object';
    request.log.warn({ reason: result.reason, ...(duplicate ? { duplicateAuthorization: true } : {}) }, 'authentication failed');
    try {
      onAuthFailure?.(info);
    } catch (err) {
      request.log.error({ err }, 'onAuthFailure hook threw');
    }
    const reason = result.reason;
    throw new HttpError(reason === 'missing' ? 'UNAUTHENTICATED' : 'INVALID_TOKEN', {
      ...(reason === 'missing' ? {} : { message: duplicate ? DUPLICATE_AUTHORIZATION : DESCRIPTIONS[reason] }),
      // No keep-alive for a client without a valid token: it cannot park idle sockets.
      headers: { 'www-authenticate': wwwAuthenticate(reason), connection: 'close' },
      data: { reason },
    });
  });
}
