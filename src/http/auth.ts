/**
 * Bearer authentication for /mcp.
 *
 * Guarantees: a request reaches the per-principal limiter and the MCP handler only after the
 * Authenticator accepted its Authorization header; otherwise it is answered 401 with
 * `WWW-Authenticate: Bearer realm="pgwarden"` (plus `error="invalid_token"` when a credential
 * was presented, RFC 6750 §3) and UNAUTHENTICATED / INVALID_TOKEN. The raw header is never
 * logged, stored on the request, or passed on: only the principal and the token id are.
 * The audit hook (onAuthFailure) gets the reason and request metadata, never the credential.
 * Does not: compare tokens (the Authenticator does, in constant time) or throttle guessing
 * (the per-IP limiter in front of this hook does).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestState } from './context.js';
import { HttpError } from './errors.js';
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

export function authHook(authenticator: Authenticator, onAuthFailure: ((info: AuthFailureInfo) => void) | undefined) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const result = authenticator.authenticate(typeof header === 'string' ? header : undefined);
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
    request.log.warn({ reason: result.reason }, 'authentication failed');
    try {
      onAuthFailure?.(info);
    } catch (err) {
      request.log.error({ err }, 'onAuthFailure hook threw');
    }
    const reason = result.reason;
    throw new HttpError(reason === 'missing' ? 'UNAUTHENTICATED' : 'INVALID_TOKEN', {
      ...(reason === 'missing' ? {} : { message: DESCRIPTIONS[reason] }),
      headers: { 'www-authenticate': wwwAuthenticate(reason) },
      data: { reason },
    });
  };
}
