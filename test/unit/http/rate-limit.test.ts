/**
 * The synchronous rate-limit layers (issue #13) count exactly as @fastify/rate-limit's own
 * limiter (createRateLimit) does: same store, same figures per request, same IP keys (each layer remembers STORE_SIZE keys, where
 * the plugin's limiter kept 5,000: src/http/rate-limit.ts).
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ipKey, layerCounter } from '../../../src/http/rate-limit.js';

describe('rate-limit layers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives the figures of the plugin limiter, request after request, window after window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const app = Fastify();
    await app.register(rateLimit, { global: false, cache: 100 });
    await app.ready();
    const limiter = app.createRateLimit({ max: 3, timeWindow: 10_000 });
    const ours = layerCounter(3, 10_000);
    const req = { ip: '10.0.0.1', routeOptions: { config: {} } } as unknown as FastifyRequest;
    for (let i = 0; i < 12; i++) {
      const theirs = await limiter(req);
      if (theirs.isAllowed) throw new Error('no allow list here');
      expect(ours('10.0.0.1')).toEqual({ max: theirs.max, remaining: theirs.remaining, ttlInSeconds: theirs.ttlInSeconds, isExceeded: theirs.isExceeded });
      vi.advanceTimersByTime(1_700);
    }
    await app.close();
  });

  it('keys IPv4 addresses as they are and IPv6 clients by /64, as the plugin does', () => {
    expect(ipKey({ ip: '127.0.0.1' })).toBe('127.0.0.1');
    expect(ipKey({ ip: '2001:db8::1' })).toBe(ipKey({ ip: '2001:db8::ffff:1' }));
    expect(ipKey({ ip: '2001:db8::1' })).not.toBe(ipKey({ ip: '2001:db8:0:1::1' }));
    expect(ipKey({ ip: '::ffff:10.0.0.1' })).toBe('10.0.0.1');
    expect(ipKey({ ip: 'FE80::1' })).toBe(ipKey({ ip: 'fe80::1' }));
  });
});
