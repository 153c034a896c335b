/** Two rate-limit layers: per IP before auth, per principal after; probes exempt. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMcp, startTestServer, TOKENS, type TestServer } from './harness.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const headers = { 'mcp-protocol-version': '2025-06-18' };

describe('per-principal limit', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ rate_limit: { per_principal: 3, per_ip: 100, window_ms: 60_000 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('429 with Retry-After and RATE_LIMITED after the limit; other principals unaffected', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await postMcp(t.mcpUrl, list, { headers });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit')).toBe('3');
      expect(ok.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
    }
    const res = await postMcp(t.mcpUrl, list, { headers });
    expect(res.status).toBe(429);
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(await res.json()).toMatchObject({
      jsonrpc: '2.0',
      error: { data: { code: 'RATE_LIMITED', scope: 'principal', retryAfterSeconds: retry } },
    });

    const bob = await postMcp(t.mcpUrl, list, { token: TOKENS.bob, headers });
    expect(bob.status).toBe(200);
  });

  it('the MCP client sees the refusal as an error', async () => {
    const { connectClient } = await import('./harness.js');
    await expect(connectClient(t.mcpUrl, 'legacy')).rejects.toThrow();
  });
});

describe('per-IP limit', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ rate_limit: { per_principal: 100, per_ip: 4, window_ms: 60_000 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('throttles unauthenticated guessing before the authenticator runs', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await postMcp(t.mcpUrl, list, { token: `pgw_guess_${i}_0123456789abcdefghijklmnopqrstu` });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(await res.json()).toMatchObject({ error: { data: { code: 'RATE_LIMITED', scope: 'ip' } } });
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    expect(t.authFailures).toHaveLength(4);
    // A valid token does not lift the per-IP limit.
    expect((await postMcp(t.mcpUrl, list, { headers })).status).toBe(429);
  });

  it('probes are never rate limited', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${t.url}/health`)).status).toBe(200);
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    }
  });
});

describe('client address behind a proxy', () => {
  it('without trust_proxy, X-Forwarded-For cannot dodge the per-IP limit', async () => {
    const t = await startTestServer({ rate_limit: { per_principal: 100, per_ip: 2, window_ms: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await postMcp(t.mcpUrl, list, { headers: { ...headers, 'x-forwarded-for': `203.0.113.${i}` } });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await t.close();
    }
  });

  it('with trust_proxy set to the proxy address, each forwarded client has its own budget', async () => {
    const t = await startTestServer({ trust_proxy: '127.0.0.1', rate_limit: { per_principal: 100, per_ip: 2, window_ms: 60_000 } });
    try {
      const a = { ...headers, 'x-forwarded-for': '203.0.113.7' };
      expect((await postMcp(t.mcpUrl, list, { headers: a })).status).toBe(200);
      expect((await postMcp(t.mcpUrl, list, { headers: a })).status).toBe(200);
      expect((await postMcp(t.mcpUrl, list, { headers: a })).status).toBe(429);
      expect((await postMcp(t.mcpUrl, list, { headers: { ...headers, 'x-forwarded-for': '203.0.113.8' } })).status).toBe(200);
      await postMcp(t.mcpUrl, list, { token: null, headers: { 'x-forwarded-for': '198.51.100.9' } });
      expect(t.authFailures.at(-1)?.clientAddress).toBe('198.51.100.9');
    } finally {
      await t.close();
    }
  });
});
