/** What the HTTP layer answers to bad requests before MCP sees them: JSON-RPC-shaped bodies, never HTML. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMcp, startTestServer, type TestServer } from './harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ body_limit_bytes: 4096 });
});
afterAll(async () => {
  await t.close();
});

type ErrBody = { jsonrpc: string; id: null; error: { code: number; message: string; data: { code: string } } };

describe('malformed requests', () => {
  it('invalid JSON → 400 JSON-RPC parse error -32700', async () => {
    const res = await postMcp(t.mcpUrl, null, { raw: '{"jsonrpc":"2.0","id":1,"method":' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrBody;
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700, data: { code: 'INVALID_JSON' } } });
  });

  it('empty JSON body → 400 invalid request', async () => {
    const res = await postMcp(t.mcpUrl, null, { raw: '' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32600 } });
  });

  it('prototype poisoning → 400 parse error', async () => {
    const res = await postMcp(t.mcpUrl, null, { raw: '{"jsonrpc":"2.0","id":1,"method":"tools/list","__proto__":{"x":1}}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32700 } });
  });

  it('valid JSON that is not JSON-RPC → a JSON-RPC error from the SDK', async () => {
    const res = await postMcp(t.mcpUrl, { hello: 'world' }, { headers: { 'mcp-protocol-version': '2025-06-18' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    const body = (await res.json()) as ErrBody;
    expect(body.jsonrpc).toBe('2.0');
    expect(typeof body.error.code).toBe('number');
  });

  it('unknown JSON-RPC method → method not found', async () => {
    const res = await postMcp(t.mcpUrl, { jsonrpc: '2.0', id: 5, method: 'no/such' }, { headers: { 'mcp-protocol-version': '2025-06-18' } });
    const text = await res.text();
    expect(text).toContain('-32601');
  });

  it('wrong content type → 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await postMcp(t.mcpUrl, null, { raw: '{"jsonrpc":"2.0"}', headers: { 'content-type': type } });
      expect(res.status, type).toBe(415);
      expect(await res.json()).toMatchObject({ error: { data: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    }
  });

  it('oversized body → 413 with a JSON-RPC error', async () => {
    const big = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(8192) } } };
    const res = await postMcp(t.mcpUrl, big);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('a body under the limit passes', async () => {
    const ok = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(1024) } } };
    const res = await postMcp(t.mcpUrl, ok, { headers: { 'mcp-protocol-version': '2025-06-18' } });
    expect(res.status).toBe(200);
  });

  it('without the MCP Accept header the SDK answers 406', async () => {
    const res = await postMcp(t.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { headers: { accept: 'text/html', 'mcp-protocol-version': '2025-06-18' } });
    expect(res.status).toBe(406);
  });
});
