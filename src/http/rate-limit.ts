/**
 * Two rate-limit layers on /mcp, built on @fastify/rate-limit's limiter:
 * per client IP before authentication (so token guessing is throttled too) and per principal
 * after it (so one agent cannot starve others behind the same proxy).
 *
 * Guarantees: a request over either limit is answered 429 with Retry-After (seconds) and
 * RATE_LIMITED; X-RateLimit-* headers report the last layer that ran. Probes never reach these
 * hooks. Client IPs honour server.trust_proxy (fastify's request.ip); IPv6 clients are grouped
 * by /64.
 * Does not: share counters between replicas (the store is in-process; each replica enforces
 * its own share), or limit by anything but request count.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { requestState } from './context.js';
import { HttpError } from './errors.js';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Upper bound on distinct keys each layer remembers (LRU). */
const STORE_SIZE = 10_000;

function layerHook(limiter: Limiter, scope: 'ip' | 'principal'): Hook {
  return async function rateLimitHook(request, reply) {
    const r = await limiter(request);
    if (r.isAllowed) return;
    reply.header('x-ratelimit-limit', r.max);
    reply.header('x-ratelimit-remaining', r.remaining);
    reply.header('x-ratelimit-reset', r.ttlInSeconds);
    if (!r.isExceeded) return;
    const retryAfter = Math.max(1, r.ttlInSeconds);
    request.log.warn({ scope, limit: r.max }, 'rate limited');
    throw new HttpError('RATE_LIMITED', {
      message: `Too many requests for this ${scope === 'ip' ? 'client address' : 'principal'}; retry in ${retryAfter} s.`,
      headers: { 'retry-after': String(retryAfter) },
      data: { scope, retryAfterSeconds: retryAfter },
    });
  };
}

export interface RateLimitHooks {
  perIp: Hook;
  perPrincipal: Hook;
}

/** Register the plugin (no global hook) and build the two layer hooks. */
export async function registerRateLimits(app: FastifyInstance, cfg: ServerConfig['rate_limit']): Promise<RateLimitHooks> {
  await app.register(rateLimit, { global: false, cache: STORE_SIZE });
  const perIp = app.createRateLimit({ max: cfg.per_ip, timeWindow: cfg.window_ms });
  const perPrincipal = app.createRateLimit({
    max: cfg.per_principal,
    timeWindow: cfg.window_ms,
    keyGenerator: (req) => `principal:${requestState(req).principal ?? ''}`,
  });
  return { perIp: layerHook(perIp, 'ip'), perPrincipal: layerHook(perPrincipal, 'principal') };
}
