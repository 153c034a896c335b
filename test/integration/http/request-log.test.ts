/**
 * fastify's per-request log lines ("incoming request", "request completed") are not written for
 * /mcp, whose every call is an audit record (issue #13: two info lines per call doubled the log
 * I/O of a busy gateway); other routes keep them, and refusals are still logged.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callTool, startE2eGateway, type E2eGateway } from '../../support/gateway.js';

let gw: E2eGateway;

beforeAll(async () => {
  gw = await startE2eGateway();
});

afterAll(async () => {
  await gw?.stop();
});

describe('request logging', () => {
  it('a tool call over /mcp writes no per-request lines, an unknown route does, a refusal is logged', async () => {
    const client = await gw.connect('legacy');
    expect((await callTool(client, 'query', { sql: 'SELECT 1 AS one' })).isError).toBe(false);
    const mcpLines = gw
      .logs()
      .split('\n')
      .filter((l) => l.includes('"/mcp"') && /incoming request|request completed/.test(l));
    expect(mcpLines).toEqual([]);
    await vi.waitFor(() => expect(gw.auditRecords().some((r) => r.tool === 'query')).toBe(true), { timeout: 5000 });

    expect((await fetch(new URL('/nope', gw.url))).status).toBe(404);
    expect((await fetch(gw.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const logs = gw.logs();
    expect(logs).toMatch(/"path":"\/nope".*"msg":"incoming request"/);
    expect(logs).toContain('authentication failed');
  });
});
