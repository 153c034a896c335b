/** /mcp over real HTTP: both protocol eras, principal propagation, raw 2025 wire, method/header checks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, MCP_ACCEPT, postMcp, rpcJson, startTestServer, TOKENS, type Era, type TestServer } from './harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe.each<Era>(['legacy', 'modern'])('MCP client, %s era', (era) => {
  it('negotiates the era it asked for', async () => {
    const client = await connectClient(t.mcpUrl, era);
    try {
      expect(client.getProtocolEra()).toBe(era);
      expect(client.getNegotiatedProtocolVersion()).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
    } finally {
      await client.close();
    }
  });

  it('lists and calls tools; the tool sees the principal and token id, never the token', async () => {
    const client = await connectClient(t.mcpUrl, era);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((x) => x.name).sort()).toEqual(['echo', 'slow']);
      const res = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      const seen = res.structuredContent as Record<string, unknown>;
      expect(seen).toMatchObject({
        text: 'hi',
        era,
        principal: 'alice',
        tokenId: 'alice-laptop',
        authToken: 'alice-laptop',
        clientId: 'alice',
        factoryPrincipal: 'alice',
        hasSignal: true,
      });
      expect(JSON.stringify(res)).not.toContain(TOKENS.alice);
    } finally {
      await client.close();
    }
  });

  it('keeps principals apart', async () => {
    const client = await connectClient(t.mcpUrl, era, TOKENS.bob);
    try {
      const res = await client.callTool({ name: 'echo', arguments: { text: 'x' } });
      expect(res.structuredContent).toMatchObject({ principal: 'bob', tokenId: 'bob-ci' });
    } finally {
      await client.close();
    }
  });
});

describe('raw 2025-era wire (fetch)', () => {
  const v = '2025-06-18';
  it('initialize, tools/list, tools/call', async () => {
    const init = await postMcp(t.mcpUrl, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: v, capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
    });
    expect(init.status).toBe(200);
    expect(init.headers.get('x-request-id')).toMatch(/.+/);
    const initBody = await rpcJson(init);
    expect(initBody).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: v, serverInfo: { name: 'pgwarden-test' } } });

    const headers = { 'mcp-protocol-version': v };
    const list = await rpcJson(await postMcp(t.mcpUrl, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { headers }));
    expect((list.result as { tools: { name: string }[] }).tools.map((x) => x.name)).toContain('echo');

    const call = await postMcp(t.mcpUrl, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'raw' } } }, { headers });
    expect(call.status).toBe(200);
    // one JSON body, not an SSE stream (issue #13: no message precedes a result on this leg)
    expect(call.headers.get('content-type')).toMatch(/^application\/json/);
    const callBody = await rpcJson(call);
    expect(callBody).toMatchObject({ id: 3, result: { structuredContent: { text: 'raw', principal: 'alice', era: 'legacy' } } });
  });

  it('a notification is accepted with 202', async () => {
    const res = await postMcp(t.mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' }, { headers: { 'mcp-protocol-version': v } });
    expect(res.status).toBe(202);
  });
});

describe('2026-07-28 headers', () => {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const modernHeaders = (method: string, name?: string): Record<string, string> => ({
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
  });

  it('a consistent modern tools/call succeeds', async () => {
    const res = await postMcp(
      t.mcpUrl,
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'm' }, _meta: meta } },
      { headers: modernHeaders('tools/call', 'echo') },
    );
    expect(res.status).toBe(200);
    expect(await rpcJson(res)).toMatchObject({ id: 7, result: { structuredContent: { era: 'modern', principal: 'alice' } } });
  });

  it('Mcp-Name that disagrees with the body is refused by the SDK', async () => {
    const res = await postMcp(
      t.mcpUrl,
      { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'echo', arguments: { text: 'm' }, _meta: meta } },
      { headers: modernHeaders('tools/call', 'slow') },
    );
    expect(res.status).toBe(400);
    const body = await rpcJson(res);
    expect(body).toMatchObject({ jsonrpc: '2.0', error: { code: expect.any(Number) } });
    expect(t.slow.started).toBe(0);
  });

  it('Mcp-Method that disagrees with the body is refused by the SDK', async () => {
    const res = await postMcp(
      t.mcpUrl,
      { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'm' }, _meta: meta } },
      { headers: modernHeaders('tools/list') },
    );
    expect(res.status).toBe(400);
    expect(await rpcJson(res)).toMatchObject({ error: { code: expect.any(Number) } });
  });
});

describe('methods other than POST', () => {
  it.each(['GET', 'DELETE'])('%s /mcp is 405 with a JSON-RPC error', async (method) => {
    const res = await fetch(t.mcpUrl, { method, headers: { authorization: `Bearer ${TOKENS.alice}`, accept: MCP_ACCEPT } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { data: { code: 'METHOD_NOT_ALLOWED' } } });
  });

  it('unknown paths are JSON 404s', async () => {
    const res = await fetch(`${t.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ error: { data: { code: 'NOT_FOUND' } } });
  });
});
