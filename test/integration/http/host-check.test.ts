/** DNS-rebinding defense: Host and Origin allow-lists on /mcp; probes exempt. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_ACCEPT, rawRequest, startTestServer, TOKENS, type TestServer } from './harness.js';

const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const mcpHeaders = (extra: Record<string, string>): Record<string, string> => ({
  'content-type': 'application/json',
  accept: MCP_ACCEPT,
  authorization: `Bearer ${TOKENS.alice}`,
  'mcp-protocol-version': '2025-06-18',
  ...extra,
});

describe('loopback bind with default allow-lists', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts loopback Host names', async () => {
    for (const host of ['127.0.0.1', `127.0.0.1:${t.handle.port}`, 'localhost', 'LOCALHOST:1']) {
      const res = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: mcpHeaders({ host }), body: list });
      expect(res.status, host).toBe(200);
    }
  });

  it('refuses a foreign Host with 403, without echoing it', async () => {
    const res = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: mcpHeaders({ host: 'evil.example:80' }), body: list });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'FORBIDDEN_HOST' } } });
    expect(res.body).not.toContain('evil.example');
  });

  it('refuses before authenticating (no token needed to be refused, none leaks)', async () => {
    const res = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' }, body: list });
    expect(res.status).toBe(403);
  });

  it('refuses a foreign Origin, accepts a loopback one and none', async () => {
    const bad = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: mcpHeaders({ origin: 'https://evil.example' }), body: list });
    expect(bad.status).toBe(403);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { data: { code: 'FORBIDDEN_ORIGIN' } } });
    const nul = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: mcpHeaders({ origin: 'null' }), body: list });
    expect(nul.status).toBe(403);
    const good = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: mcpHeaders({ origin: 'http://localhost:6274' }), body: list });
    expect(good.status).toBe(200);
  });

  it('probes answer whatever the Host (kubelets probe by pod IP)', async () => {
    for (const path of ['/health', '/readyz']) {
      const res = await rawRequest(`${t.url}${path}`, { headers: { host: '10.1.2.3:8420', origin: 'https://evil.example' } });
      expect(res.status, path).toBe(200);
    }
  });
});

describe('explicit allow-lists', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ allowed_hosts: ['GW.example.com:443'], allowed_origins: ['https://console.example.com'] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('only the listed host names pass (port-agnostic, case-insensitive)', async () => {
    const ok = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: mcpHeaders({ host: 'gw.example.com:8443' }), body: list });
    expect(ok.status).toBe(200);
    const loop = await rawRequest(`${t.url}/mcp`, { method: 'POST', headers: mcpHeaders({ host: '127.0.0.1' }), body: list });
    expect(loop.status).toBe(403);
  });

  it('only the listed origins pass', async () => {
    const ok = await rawRequest(`${t.url}/mcp`, {
      method: 'POST',
      headers: mcpHeaders({ host: 'gw.example.com', origin: 'https://console.example.com' }),
      body: list,
    });
    expect(ok.status).toBe(200);
    const bad = await rawRequest(`${t.url}/mcp`, {
      method: 'POST',
      headers: mcpHeaders({ host: 'gw.example.com', origin: 'http://localhost:3000' }),
      body: list,
    });
    expect(bad.status).toBe(403);
  });
});
