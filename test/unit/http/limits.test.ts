/** Pure helpers of the HTTP limits: JSON depth scan, descriptor limit, connection cap, timeouts. */
import { describe, expect, it } from 'vitest';
import { serverSchema } from '../../../src/config/schema.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../../src/http/depth.js';
import { connectionCap, FD_RESERVE, openFileLimit, socketOptions } from '../../../src/http/sockets.js';

describe('exceedsJsonDepth', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(exceedsJsonDepth('[[1]]', 2)).toBe(false);
    expect(exceedsJsonDepth('[[[1]]]', 2)).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(exceedsJsonDepth('{"a":{"b":[1]}}', 2)).toBe(true);
    expect(exceedsJsonDepth(JSON.stringify({ s: '[[[[{{{{' }), 1)).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify({ s: 'a\\"[[[[' }), 1)).toBe(false);
    expect(exceedsJsonDepth('['.repeat(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(exceedsJsonDepth('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
  });
  it('is linear: a 1 MB body scans in well under 100 ms', () => {
    const text = JSON.stringify({ rows: Array.from({ length: 50_000 }, (_, i) => ({ a: i, b: 'x"[' })) });
    const started = performance.now();
    exceedsJsonDepth(text, MAX_JSON_DEPTH);
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('socket limits', () => {
  it('reads the soft open-file limit from /proc/self/limits text', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n';
    expect(openFileLimit(text)).toBe(1024);
    expect(openFileLimit('Max open files            unlimited            unlimited            files\n')).toBeUndefined();
    expect(openFileLimit('nothing')).toBeUndefined();
  });
  it('keeps the connection cap below the descriptor limit', () => {
    expect(connectionCap(512, 1024)).toEqual({ cap: 512, lowered: false });
    expect(connectionCap(2000, 1024)).toEqual({ cap: 1024 - FD_RESERVE, lowered: true });
    expect(connectionCap(2000, undefined)).toEqual({ cap: 2000, lowered: false });
  });
  it('defaults: 10 s headers, 30 s request, 72 s keep-alive, checked every second; headers never above request', () => {
    const server = serverSchema.parse({});
    expect(socketOptions(server)).toEqual({
      requestTimeout: 30_000,
      keepAliveTimeout: 72_000,
      http: { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 },
    });
    expect(server.max_connections).toBe(512);
    expect(socketOptions(serverSchema.parse({ headers_timeout_ms: 60_000, receive_timeout_ms: 20_000 })).http.headersTimeout).toBe(20_000);
    expect(() => serverSchema.parse({ max_connections: 1_000_000 })).toThrow();
    expect(() => serverSchema.parse({ keep_alive_timeout_ms: 600_001 })).toThrow();
  });
  it('a call deadline (request_timeout_ms) is at most an hour: past 2^31 - 1 ms a timer fires at once and the deadline queue re-armed a 1 ms timer in a loop', () => {
    expect(serverSchema.parse({}).request_timeout_ms).toBe(120_000);
    expect(serverSchema.parse({ request_timeout_ms: 3_600_000 }).request_timeout_ms).toBe(3_600_000);
    expect(() => serverSchema.parse({ request_timeout_ms: 3_600_001 })).toThrow();
    expect(() => serverSchema.parse({ request_timeout_ms: 1e10 })).toThrow();
  });
});
