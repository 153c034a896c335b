/** Bearer authentication on /mcp and what reaches the logs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, postMcp, startTestServer, TOKENS, type TestServer } from './harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const v = { 'mcp-protocol-version': '2025-06-18' };

async function refused(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toContain('application/json');
  return { www: res.headers.get('www-authenticate'), body: (await res.json()) as { error: { code: number; data: Record<string, unknown> } } };
}

describe('bearer authentication', () => {
  it('no Authorization header → 401, challenge without error', async () => {
    const { www, body } = await refused(await postMcp(t.mcpUrl, list, { token: null }));
    expect(www).toBe('Bearer realm="pgwarden"');
    expect(body.error.data).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'missing' });
  });

  it('wrong token → 401 invalid_token', async () => {
    const { www, body } = await refused(await postMcp(t.mcpUrl, list, { token: 'pgw_wrong_0123456789abcdefghijklmnopqrstuvwx' }));
    expect(www).toMatch(/^Bearer realm="pgwarden", error="invalid_token"/);
    expect(body.error.data).toMatchObject({ code: 'INVALID_TOKEN', reason: 'invalid' });
  });

  it('expired token → 401 invalid_token, reason expired', async () => {
    const { www, body } = await refused(await postMcp(t.mcpUrl, list, { token: TOKENS.expired }));
    expect(www).toContain('error="invalid_token"');
    expect(body.error.data).toMatchObject({ code: 'INVALID_TOKEN', reason: 'expired' });
  });

  it('another scheme → 401 malformed', async () => {
    const res = await postMcp(t.mcpUrl, list, { token: null, headers: { authorization: `Basic ${TOKENS.alice}` } });
    const { www, body } = await refused(res);
    expect(www).toContain('error="invalid_token"');
    expect(body.error.data).toMatchObject({ reason: 'malformed' });
  });

  it('lowercase "bearer" is accepted (the scheme is case-insensitive, RFC 7235)', async () => {
    const res = await postMcp(t.mcpUrl, list, { token: null, headers: { authorization: `bearer ${TOKENS.alice}`, ...v } });
    expect(res.status).toBe(200);
  });

  it('the MCP client surfaces a 401 as a connection error', async () => {
    await expect(connectClient(t.mcpUrl, 'legacy', 'pgw_wrong_0123456789abcdefghijklmnopqrstuvwx')).rejects.toThrow();
    await expect(connectClient(t.mcpUrl, 'modern', 'pgw_wrong_0123456789abcdefghijklmnopqrstuvwx')).rejects.toThrow();
  });

  it('the audit hook hears about failures, without the credential', () => {
    expect(t.authFailures.length).toBeGreaterThanOrEqual(4);
    expect(t.authFailures.map((f) => f.reason)).toEqual(expect.arrayContaining(['missing', 'invalid', 'expired', 'malformed']));
    const f = t.authFailures[0];
    expect(f).toMatchObject({ method: 'POST', path: '/mcp', clientAddress: '127.0.0.1' });
    expect(f?.requestId).toMatch(/.+/);
    expect(JSON.stringify(t.authFailures)).not.toMatch(/pgw_/);
  });
});

describe('logs', () => {
  it('never contain a token (valid, wrong or expired), but do carry request ids', async () => {
    const client = await connectClient(t.mcpUrl, 'modern');
    await client.callTool({ name: 'echo', arguments: { text: 'log me' } });
    await client.close();
    await postMcp(t.mcpUrl, list, { token: 'pgw_wrong_0123456789abcdefghijklmnopqrstuvwx' });
    await postMcp(t.mcpUrl, list, { token: null, headers: { authorization: `Bearer ${TOKENS.bob}`, ...v } });
    const logs = t.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(TOKENS), 'pgw_wrong_0123456789abcdefghijklmnopqrstuvwx']) {
      expect(logs).not.toContain(secret);
    }
    expect(logs.toLowerCase()).not.toContain('bearer ');
    expect(logs).toContain('"requestId"');
    // A successful /mcp call writes no request log lines (its audit record names the principal);
    // the refused ones are logged with their request id.
    expect(logs).not.toContain('"principal":"alice"');
    expect(logs).toContain('"authentication failed"');
  });

  it('redaction catches an Authorization header logged by mistake', () => {
    const before = t.logs().length;
    t.handle.app.log.info({ req: { headers: { authorization: `Bearer ${TOKENS.alice}` } }, headers: { authorization: 'x' } }, 'oops');
    const line = t.logs().slice(before);
    expect(line).toContain('oops');
    expect(line).not.toContain(TOKENS.alice);
  });
});

describe('request ids', () => {
  it('a sane X-Request-Id is kept and echoed; an insane one is replaced', async () => {
    const kept = await fetch(`${t.url}/health`, { headers: { 'x-request-id': 'abc-123.DEF' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123.DEF');
    const replaced = await fetch(`${t.url}/health`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the MCP response carries the request id, and error bodies name it', async () => {
    const res = await postMcp(t.mcpUrl, list, { token: null, headers: { 'x-request-id': 'rid-42' } });
    expect(res.headers.get('x-request-id')).toBe('rid-42');
    expect(await res.json()).toMatchObject({ error: { data: { requestId: 'rid-42' } } });
    const ok = await postMcp(t.mcpUrl, list, { headers: { 'x-request-id': 'rid-43', ...v } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('rid-43');
  });
});
