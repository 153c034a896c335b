/**
 * Hostile-input fuzz of the HTTP layer (issue #10 item 3): 10,000+ generated bodies and header
 * sets, authenticated and not, through the real app (fastify inject: the full hook chain, the JSON
 * parser and the MCP SDK) plus a few hundred raw requests over real sockets (Node's HTTP parser).
 * Expectation: no answer is 5xx and the process keeps serving (a crash fails the run).
 * Seeded (FUZZ_SEED to vary it); runs in about 10–20 s on a loaded 2-core machine.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_ACCEPT, postMcp, rpcJson, startTestServer, TOKENS, type TestServer } from './harness.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1009);
const CASES = 10_000;
const RAW_CASES = 300;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ body_limit_bytes: 65_536, rate_limit: { per_ip: 1_000_000, per_principal: 1_000_000 } });
});
afterAll(async () => {
  await t.close();
});

/** mulberry32: small, seeded, good enough to spread cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;

const STRINGS = ['', 'x', '\u0000', '\ud800', '\udfff', '💥', '__proto__', 'constructor', 'prototype', '%00', '\\', '"', '${x}', 'A'.repeat(5_000), 'SELECT 1', 'tools/call', '\u2028'];
const METHODS = ['initialize', 'tools/list', 'tools/call', 'server/discover', 'ping', 'resources/list', 'notifications/initialized', '', 'x'.repeat(300), '__proto__', 'tools/call\u0000'];

function scalar(): unknown {
  switch (int(8)) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick([0, -0, 1e308, -1e308, 2 ** 53 + 1, 1e-320, 0.1, -1]);
    case 3:
      return pick(STRINGS);
    case 4:
      return int(1_000_000);
    default:
      return pick(STRINGS) + String(int(100));
  }
}

function value(depth: number): unknown {
  if (depth <= 0 || rand() < 0.35) return scalar();
  if (rand() < 0.5) return Array.from({ length: int(4) }, () => value(depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = int(4); i > 0; i--) o[pick(STRINGS.filter((s) => s.length < 50)) + (rand() < 0.5 ? '' : String(i))] = value(depth - 1);
  return o;
}

function deep(levels: number, open: string, close: string, inner = '1'): string {
  return open.repeat(levels) + inner + close.repeat(levels);
}

/** One hostile body as text. */
function body(): string {
  switch (int(12)) {
    case 0:
      return deep(int(20_000) + 65, '[', ']');
    case 1:
      return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","a":${deep(int(6_000) + 60, '{"a":', '}')}}}}`;
    case 2:
      return JSON.stringify(value(6)).slice(0, int(200) + 1); // truncated
    case 3:
      return String.fromCharCode(...Array.from({ length: int(300) }, () => int(0x10000)));
    case 4:
      return JSON.stringify(Array.from({ length: int(5) + 1 }, () => ({ jsonrpc: '2.0', id: value(1), method: pick(METHODS), params: value(3) })));
    case 5:
      return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"__proto__":{"admin":true},"name":"echo","arguments":{"text":"x"}}}`;
    case 6:
      return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"constructor":{"prototype":{"x":1}},"text":"y"}}}`;
    case 7:
      return JSON.stringify({ jsonrpc: pick(['2.0', '1.0', 2, null]), id: value(2), method: pick(METHODS), params: value(4) });
    case 8:
      return JSON.stringify({ jsonrpc: '2.0', id: int(1e6), method: 'tools/call', params: { name: pick(['echo', 'slow', 'nope', '']), arguments: value(5) } });
    case 9:
      return 'x'.repeat(int(70_000)); // around the body limit
    case 10:
      return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: pick(['2025-06-18', '2026-07-28', 'x', '']), capabilities: value(4), clientInfo: value(2) } });
    default:
      return JSON.stringify(value(8));
  }
}

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json, text/plain', 'multipart/form-data; boundary=x', 'APPLICATION/JSON'];
const ACCEPTS = [MCP_ACCEPT, 'application/json', 'text/event-stream', '*/*', '', 'x/y'];

function headers(): Record<string, string> {
  const h: Record<string, string> = {};
  const ct = pick(CONTENT_TYPES);
  if (ct !== '') h['content-type'] = ct;
  const accept = pick(ACCEPTS);
  if (accept !== '') h.accept = accept;
  switch (int(8)) {
    case 0:
      break; // no token
    case 1:
      h.authorization = `Bearer ${'A'.repeat(int(5_000))}`;
      break;
    case 2:
      h.authorization = pick(['Bearer', 'Bearer ', 'Basic x', `bearer  ${TOKENS.alice}`, `Bearer ${TOKENS.alice}x`, `Bearer ${TOKENS.expired}`]);
      break;
    default:
      h.authorization = `Bearer ${TOKENS.alice}`;
  }
  if (rand() < 0.5) h['mcp-protocol-version'] = pick(['2025-06-18', '2026-07-28', '1999-01-01', 'x', '']);
  if (rand() < 0.2) h['mcp-method'] = pick(METHODS).replace(/[^\x20-\x7e]/g, '');
  if (rand() < 0.2) h['mcp-name'] = pick(['echo', 'slow', '', 'x'.repeat(200)]);
  if (rand() < 0.1) h['mcp-session-id'] = pick(['x', '', '0'.repeat(100)]);
  if (rand() < 0.1) h.origin = pick(['http://evil.example', 'null', 'http://127.0.0.1']);
  if (rand() < 0.05) h.host = pick(['evil.example', '127.0.0.1:1', '']);
  return h;
}

describe('hostile bodies and headers', () => {
  it(`${CASES} injected requests: no 5xx`, async () => {
    const statuses = new Map<number, number>();
    const fivexx: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const method = rand() < 0.93 ? 'POST' : pick(['GET', 'DELETE', 'PUT', 'OPTIONS', 'PATCH']);
      const url = rand() < 0.95 ? '/mcp' : pick(['/mcp/', '/mcp?x=1', '//mcp', '/health', '/readyz', '/admin/approvals', '/%2e%2e/mcp']);
      const payload = body();
      const hs = headers();
      const res = await t.handle.app.inject({ method: method as 'POST', url, headers: hs, ...(method === 'GET' ? {} : { payload }) });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) fivexx.push(`#${i} ${method} ${url} ${res.statusCode} ${JSON.stringify(hs).slice(0, 200)} ${payload.slice(0, 120)}`);
    }
    expect(fivexx).toEqual([]);
    // The cases reached every stage: refusals of several kinds and successful calls.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(20);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(100);
    expect(t.logs()).not.toContain('unhandled error');
  }, 180_000);

  it(`${RAW_CASES} raw requests over sockets (Node's parser): no 5xx, the server still answers`, async () => {
    const { hostname, port } = new URL(t.url);
    const junkHeader = (): string =>
      pick([
        `authorization: Bearer ${TOKENS.alice}\r\nauthorization: Bearer ${TOKENS.bob}`,
        `x-long: ${'a'.repeat(int(20_000))}`,
        'bad header line',
        'content-length: -1',
        'content-length: 10\r\ncontent-length: 20',
        'transfer-encoding: chunked\r\ncontent-length: 3',
        'transfer-encoding: gzip',
        `authorization: Bearer ${TOKENS.alice}\u0000`,
        'host: a\r\nhost: b',
        `${'x'.repeat(int(100))}:${'y'.repeat(int(100))}`,
      ]);
    const statuses: number[] = [];
    for (let i = 0; i < RAW_CASES; i++) {
      const payload = body().slice(0, 2_000);
      const head = [`POST /mcp HTTP/1.1`, `host: ${hostname}`, `content-type: application/json`, `accept: ${MCP_ACCEPT}`, junkHeader(), `content-length: ${Buffer.byteLength(payload)}`, 'connection: close', '', ''].join('\r\n');
      const answer = await new Promise<string>((resolve) => {
        const s = connect({ host: hostname, port: Number(port) });
        let data = '';
        s.setEncoding('latin1');
        s.on('data', (c: string) => (data += c));
        s.on('error', () => resolve(data));
        s.on('close', () => resolve(data));
        s.setTimeout(5_000, () => s.destroy());
        s.write(head + payload);
      });
      statuses.push(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0));
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const ok = await postMcp(t.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { headers: { 'mcp-protocol-version': '2025-06-18' } });
    expect(ok.status).toBe(200);
    expect(await rpcJson(ok)).toHaveProperty('result');
  }, 120_000);
});
