/**
 * Two rate-limit layers on /mcp, counted by @fastify/rate-limit's own in-process store and IP
 * normalization: per client IP before authentication (so token guessing is throttled too) and
 * per principal after it (so one agent cannot starve others behind the same proxy).
 *
 * Guarantees: a request over either limit is answered 429 with Retry-After (seconds) and
 * RATE_LIMITED; X-RateLimit-* headers report the last layer that ran. Probes never reach these
 * hooks. Client IPs honour server.trust_proxy (fastify's request.ip); IPv6 clients are grouped
 * by /64 (the plugin's normalizeIP). Counting is the plugin's LocalStore (an LRU of STORE_SIZE
 * keys per layer, fixed windows), called the way the plugin's `createRateLimit` limiter calls it
 * (issue #13: that limiter is an async function awaiting a promise around the store's synchronous
 * callback — three promises and microtask turns per layer and request; the checks here are
 * synchronous hooks, hooks.ts). The figures and headers are the ones that limiter returns, with one
 * difference: each layer now remembers STORE_SIZE keys, where the plugin's limiter built its store
 * through LocalStore.child(), which drops the cache option (5,000 keys): a key over its limit is
 * remembered longer under many other keys, never forgotten sooner.
 * Does not: share counters between replicas (the store is in-process; each replica enforces
 * its own share), or limit by anything but request count.
 */
import { createRequire } from 'node:module';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { requestState } from './context.js';
import { HttpError } from './errors.js';
import { syncHook } from './hooks.js';

/** The plugin's store (store/LocalStore.js): `incr` answers through its callback synchronously. */
interface Store {
  incr(key: string, cb: (err: Error | null, res: { current: number; ttl: number }) => void, timeWindow: number, max: number): void;
}
interface RateLimitModule {
  normalizeIP(ip: string, ipv6Subnet?: number): string;
}
const require = createRequire(import.meta.url);
const { normalizeIP } = require('@fastify/rate-limit') as RateLimitModule;
const LocalStore = require('@fastify/rate-limit/store/LocalStore') as new (continueExceeding: boolean, exponentialBackoff: boolean, cache: number) => Store;

/** Upper bound on distinct keys each layer remembers (LRU). */
const STORE_SIZE = 10_000;
/** IPv6 clients are counted per /64, as the plugin's default key generator does. */
const IPV6_SUBNET = 64;

/** One layer's verdict for a request, as the plugin's limiter computes it. */
export interface LayerCount {
  max: number;
  remaining: number;
  ttlInSeconds: number;
  isExceeded: boolean;
}

/** A counter of requests per key in fixed windows of `timeWindow` ms (the plugin's LocalStore). */
export function layerCounter(max: number, timeWindow: number): (key: string) => LayerCount {
  const store = new LocalStore(false, false, STORE_SIZE);
  // the plugin truncates finite, non-negative figures (mergeParams)
  const limit = Math.trunc(max);
  const window = Math.trunc(timeWindow);
  return (key) => {
    let current = 0;
    let ttl = 0;
    let failure: Error | null = null;
    store.incr(
      key,
      (err, res) => {
        failure = err;
        if (err === null) ({ current, ttl } = res);
      },
      window,
      limit,
    );
    if (failure !== null) throw failure;
    return { max: limit, remaining: Math.max(0, limit - current), ttlInSeconds: Math.ceil(ttl / 1000), isExceeded: current > limit };
  };
}

function layerHook(count: (key: string) => LayerCount, keyOf: (request: FastifyRequest) => string, scope: 'ip' | 'principal'): onRequestHookHandler {
  return syncHook(function rateLimitHook(request: FastifyRequest, reply: FastifyReply): void {
    const r = count(keyOf(request));
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
  });
}

/**
 * The per-IP key: the plugin's normalizeIP. An address without a colon is not IPv6, and for
 * those normalizeIP is `ip.toLowerCase()`: answered without Node's isIPv6 regular expression
 * (≈ 1 % of a call's CPU at one client, issue #13).
 */
export function ipKey(request: { ip: string }): string {
  const ip = request.ip;
  return ip.includes(':') ? normalizeIP(ip, IPV6_SUBNET) : ip.toLowerCase();
}

export interface RateLimitHooks {
  perIp: onRequestHookHandler;
  perPrincipal: onRequestHookHandler;
}

/** Build the two layer hooks (each with its own store). */
export function rateLimitHooks(cfg: ServerConfig['rate_limit']): RateLimitHooks {
  return {
    perIp: layerHook(layerCounter(cfg.per_ip, cfg.window_ms), ipKey, 'ip'),
    perPrincipal: layerHook(layerCounter(cfg.per_principal, cfg.window_ms), (req) => `principal:${requestState(req).principal ?? ''}`, 'principal'),
  };
}
