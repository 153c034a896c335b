/**
 * Issue #10 items 3, 4, 14: deeply nested JSON, socket limits, duplicate Authorization headers.
 * Each case failed on 344cc74: a 4,500-level body was answered 500; a second Authorization header
 * was ignored (the first won); sockets trickling headers or idling stayed open for 68–128 s; no
 * connection cap; a 200 answer kept the socket open despite `Connection: close`.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MCP_ACCEPT, startTestServer, TOKENS, type TestServer } from './harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: hostname, port: Number(port) }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with what the socket received and how long it stayed open (ms), once the server closes it. */
function untilClosed(s: Socket, timeoutMs: number): Promise<{ data: string; closedAfterMs: number | undefined }> {
  const started = Date.now();
  let data = '';
  s.setEncoding('utf8');
  s.on('data', (c: string) => (data += c));
  s.on('error', () => undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, closedAfterMs: undefined });
    }, timeoutMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ data, closedAfterMs: Date.now() - started });
    });
  });
}

function post(body: string, extraHeaders: string[] = [`authorization: Bearer ${TOKENS.alice}`]): string {
  return [
    'POST /mcp HTTP/1.1',
    'host: 127.0.0.1',
    'content-type: application/json',
    `accept: ${MCP_ACCEPT}`,
    'mcp-protocol-version: 2025-06-18',
    ...extraHeaders,
    `content-length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

describe('deeply nested JSON (item 3)', () => {
  it('a body nested 4,500 levels is a JSON-RPC invalid request (400), not a 500', async () => {
    t = await startTestServer();
    const depth = 4_500;
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","deep":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
    const res = await fetch(t.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, authorization: `Bearer ${TOKENS.alice}`, 'mcp-protocol-version': '2025-06-18' },
      body,
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: number; data: { code: string } } };
    expect(json.error.code).toBe(-32600);
    expect(json.error.data.code).toBe('INVALID_REQUEST');
    expect(t.logs()).not.toContain('unhandled error');
  });

  it('nesting within the limit (and brackets inside strings) still works', async () => {
    t = await startTestServer();
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: '[[[[{{{{'.repeat(100) } } });
    const res = await fetch(t.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, authorization: `Bearer ${TOKENS.alice}`, 'mcp-protocol-version': '2025-06-18' },
      body,
    });
    expect(res.status).toBe(200);
  });
});

describe('duplicate Authorization headers (item 14)', () => {
  it('two Authorization headers (the first one valid) are refused 401', async () => {
    t = await startTestServer();
    const s = await open(t.url);
    const closed = untilClosed(s, 5_000);
    s.write(post(list, [`authorization: Bearer ${TOKENS.alice}`, `authorization: Bearer ${TOKENS.bob}`]).replace('\r\n\r\n', '\r\nconnection: close\r\n\r\n'));
    const { data } = await closed;
    expect(statusOf(data)).toBe(401);
    expect(data).toContain('"code":"INVALID_TOKEN"');
    expect(data).toContain('more than one Authorization header');
    expect(t.authFailures.at(-1)?.reason).toBe('malformed');
  });

  it('a 401 answer closes the connection (no idle sockets without a valid token)', async () => {
    t = await startTestServer();
    const s = await open(t.url);
    const closed = untilClosed(s, 5_000);
    s.write(post(list, ['authorization: Bearer pgw_wrong_0123456789abcdefghijklmnopqrstuvwx']));
    const { data, closedAfterMs } = await closed;
    expect(statusOf(data)).toBe(401);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs!).toBeLessThan(2_000);
  });

  it('one valid Authorization header still passes', async () => {
    t = await startTestServer();
    const s = await open(t.url);
    const closed = untilClosed(s, 5_000);
    s.write(post(list, [`authorization: Bearer ${TOKENS.alice}`, 'connection: close']));
    expect(statusOf((await closed).data)).toBe(200);
  });
});

describe('socket limits (item 4)', () => {
  it('a 200 answer honours Connection: close', async () => {
    t = await startTestServer();
    const s = await open(t.url);
    const closed = untilClosed(s, 4_000);
    s.write(post(list, [`authorization: Bearer ${TOKENS.alice}`, 'connection: close']));
    const { data, closedAfterMs } = await closed;
    expect(statusOf(data)).toBe(200);
    expect(data.toLowerCase()).toContain('connection: close');
    expect(closedAfterMs).toBeDefined();
  });

  it('a client trickling its headers is cut off after headers_timeout_ms', async () => {
    t = await startTestServer({ headers_timeout_ms: 1_000, receive_timeout_ms: 5_000 });
    const s = await open(t.url);
    const closed = untilClosed(s, 8_000);
    s.write('POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    const trickle = setInterval(() => s.write('x-slow: 1\r\n'), 200);
    const { closedAfterMs } = await closed;
    clearInterval(trickle);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs!).toBeLessThan(3_500);
  });

  it('a client trickling its body is cut off after receive_timeout_ms', async () => {
    t = await startTestServer({ headers_timeout_ms: 1_000, receive_timeout_ms: 1_500 });
    const s = await open(t.url);
    const closed = untilClosed(s, 8_000);
    s.write(post('', [`authorization: Bearer ${TOKENS.alice}`]).replace(/content-length: 0/, 'content-length: 1000'));
    const trickle = setInterval(() => s.write(' '), 200);
    const { closedAfterMs } = await closed;
    clearInterval(trickle);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs!).toBeLessThan(4_000);
  });

  it('an idle keep-alive socket is closed after keep_alive_timeout_ms', async () => {
    t = await startTestServer({ keep_alive_timeout_ms: 500 });
    const s = await open(t.url);
    const closed = untilClosed(s, 6_000);
    s.write(post(list));
    const { data, closedAfterMs } = await closed;
    expect(statusOf(data)).toBe(200);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs!).toBeLessThan(3_000);
  });

  it('past max_connections new sockets are closed at once, and that is logged', async () => {
    t = await startTestServer({ max_connections: 3 });
    const held = await Promise.all([open(t.url), open(t.url), open(t.url)]);
    const extra = await open(t.url);
    const { closedAfterMs } = await untilClosed(extra, 3_000);
    expect(closedAfterMs).toBeDefined();
    expect(t.logs()).toContain('connection cap reached');
    for (const s of held) s.destroy();
    // Once the held sockets are gone, new connections are served again.
    await new Promise((r) => setTimeout(r, 100));
    const again = await open(t.url);
    const closed = untilClosed(again, 4_000);
    again.write(post(list, [`authorization: Bearer ${TOKENS.alice}`, 'connection: close']));
    expect(statusOf((await closed).data)).toBe(200);
  });
});
