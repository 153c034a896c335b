/**
 * The HTTP tools/call fast path (issue #13, src/http/fast-call.ts, src/mcp/tool-call.ts) answers
 * exactly what the SDK route answers. Two apps over one runtime (same gateway, database, audit):
 * one with the fast path (`toolCall`), one without (every request through the SDK, as before).
 * The same requests go to both; status, headers and body must match byte for byte once the
 * per-call values (ids, timings, timestamps) are blanked — and the audit records of each pair
 * must match too. A spy on the fast path proves which requests it served and which it left to
 * the SDK (unknown tool, a tool the principal does not have, the 2026-07-28 era, batches, _meta,
 * unsupported headers…).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import pino from 'pino';
import { buildHttpApp, startHttpServer, type FastToolCall, type HttpServerHandle } from '../../../src/http/index.js';
import { CancelLatch } from '../../../src/core/signals.js';
import { Lifecycle } from '../../../src/http/lifecycle.js';
import { resultBudget, type BudgetScope } from '../../../src/shared/budget.js';
import { startE2eGateway, type E2eGateway, type Era } from '../../support/gateway.js';
import { surfaceConfig, SURFACE_TOKENS } from '../../support/surface.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const { analyst: ANALYST, narrow: NARROW, operator: OPERATOR } = SURFACE_TOKENS;
const WRITER = 'pgw_fpwriter_e2e_0123456789abcdefghijklmnopq';

let w: WriteTestDb;
let gw: E2eGateway;
let fast: HttpServerHandle;
let sdk: HttpServerHandle;
/** What the fast path was asked to serve: 'fast' when it served, 'sdk' when it declined (no such tool). */
const served: string[] = [];

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  gw = await startE2eGateway({
    configInput: (auditPath) => {
      const c = surfaceConfig(w.scratch.gatewayUrl, auditPath, { analyst: ANALYST, narrow: NARROW, operator: OPERATOR });
      const writerDb = {
        mode: 'read-write',
        schemas: ['app'],
        tables: { deny: ['internal.*'] },
        limits: { max_rows: 3 },
        masks: { 'app.customers.email': { mask: 'email' } },
        writes: { confirm_above_rows: 1, block_above_rows: 100 },
      };
      return {
        ...c,
        principals: { ...(c.principals as object), writer: { policy: 'writer', tokens: [{ token: WRITER }] } },
        policies: { ...(c.policies as object), writer: { databases: { shop: writerDb } } },
      };
    },
  });
  const { runtime } = gw;
  const config = runtime.gateway.config;
  const spy: FastToolCall = (caller, call) => {
    // one AbortController per call (the plumbing's): the request's cancellation comes as a latch, not a second signal
    if (!(caller.cancelLatch instanceof CancelLatch) || 'signal' in caller) throw new Error('the fast path must hand a CancelLatch and no signal');
    const answer = runtime.httpToolCall(caller, call);
    served.push(answer === undefined ? 'sdk' : 'fast');
    return answer;
  };
  const common = {
    server: config.server,
    authenticator: runtime.tokens,
    mcpFactory: runtime.httpFactory,
    readiness: () => runtime.gateway.ready(),
    logger: pino({ level: 'silent' }),
    onAuthFailure: runtime.onAuthFailure,
    telemetry: runtime.telemetry,
  };
  fast = await startHttpServer(await buildHttpApp({ ...common, lifecycle: new Lifecycle(), toolCall: spy }), config.server);
  sdk = await startHttpServer(await buildHttpApp({ ...common, lifecycle: new Lifecycle() }), config.server);
}, 120_000);

afterAll(async () => {
  await fast?.stop();
  await sdk?.stop();
  await gw?.stop();
  await w?.end();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  requestId: string;
}

/** Headers that differ per response or by framing only (chunked on the SDK route, a length on fastify's). */
const VOLATILE_HEADERS = new Set(['date', 'x-request-id', 'content-length', 'transfer-encoding', 'x-ratelimit-reset', 'x-ratelimit-remaining']);
/** Values that differ per call: ids minted per call, timings, timestamps, the audit counters status reports. */
const VOLATILE = /(\\?"(?:elapsedMs|approvalId|requestId|expiresAt|undoId|confirmationId|createdAt|written|lastSeq|lastHash|queued)\\?":)(\\?"[^"\\]*\\?"|-?[0-9.e+]+)/g;
const blank = (body: string): string => body.replace(VOLATILE, '$1"…"');

async function post(base: string, body: unknown, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!VOLATILE_HEADERS.has(name)) out[name] = value;
  });
  return { status: res.status, headers: out, body: await res.text(), requestId: res.headers.get('x-request-id') ?? '' };
}

const call = (name: string, args?: Record<string, unknown>, id: string | number = 7): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, ...(args === undefined ? {} : { arguments: args }) },
});

const pairs: { fast: string; sdk: string; label: string }[] = [];

/** Send to both routes; assert equal answers and which route the fast-path app used. */
async function same(label: string, body: unknown, token: string, expected: 'fast' | 'sdk' | 'none', headers: Record<string, string> = {}): Promise<Answer> {
  const before = served.length;
  const a = await post(fast.url, body, token, headers);
  const took = served.slice(before);
  const b = await post(sdk.url, body, token, headers);
  expect({ status: a.status, headers: a.headers }, label).toEqual({ status: b.status, headers: b.headers });
  expect(blank(a.body), label).toBe(blank(b.body));
  expect(took, label).toEqual(expected === 'none' ? [] : [expected]);
  pairs.push({ fast: a.requestId, sdk: b.requestId, label });
  return a;
}

const V = { 'mcp-protocol-version': '2025-11-25' };

describe('tools/call: the fast path answers byte for byte what the SDK answers (2025 era)', () => {
  it('a read, a capped read, a masked read, status, describe and check', async () => {
    const ok = await same('read', call('query', { sql: 'SELECT id, status FROM app.orders WHERE id = 1' }), ANALYST, 'fast', V);
    expect(ok.body.startsWith('{"result":{"content":[{"type":"text","text":"{')).toBe(true);
    expect(JSON.parse(ok.body)).toMatchObject({ jsonrpc: '2.0', id: 7, result: { structuredContent: { rowCount: 1 } } });
    const capped = await same('capped read', call('query', { sql: 'SELECT id FROM app.orders ORDER BY id' }), WRITER, 'fast', V);
    expect(JSON.parse(capped.body)).toMatchObject({ result: { structuredContent: { truncated: true, rowCount: 3 } } });
    const masked = await same('masked read', call('query', { sql: 'SELECT id, email FROM app.customers ORDER BY id LIMIT 2' }), WRITER, 'fast', V);
    expect(JSON.parse(masked.body)).toMatchObject({ result: { structuredContent: { masked: ['app.customers.email'] } } });
    await same('status', call('status'), ANALYST, 'fast', V);
    await same('status with empty arguments', call('status', {}), WRITER, 'fast', V);
    await same('describe', call('describe', { table: 'app.orders' }), ANALYST, 'fast', V);
    await same('check', call('check', { sql: 'DELETE FROM app.orders' }), ANALYST, 'fast', V);
    await same('explain', call('explain', { sql: 'SELECT 1' }), ANALYST, 'fast', V);
  });

  it('refusals: guard blocks, invalid and missing arguments, unknown argument names', async () => {
    const blocked = await same('write refused to a reader', call('query', { sql: 'DELETE FROM app.orders' }), ANALYST, 'fast', V);
    expect(JSON.parse(blocked.body)).toMatchObject({ result: { isError: true, structuredContent: { decision: 'block' } } });
    await same('multi statement', call('query', { sql: 'SELECT 1; SELECT 2' }), ANALYST, 'fast', V);
    await same('denied table', call('query', { sql: 'SELECT * FROM internal.api_keys' }), ANALYST, 'fast', V);
    const invalid = await same('invalid arguments', call('query', { sql: 42 }), ANALYST, 'fast', V);
    expect(invalid.body).toContain('INVALID_ARGUMENTS');
    await same('missing arguments', call('query'), ANALYST, 'fast', V);
    await same('database not reachable', call('query', { sql: 'SELECT 1', database: 'other' }), ANALYST, 'fast', V);
    await same('a database error', call('query', { sql: 'SELECT 1/0' }), ANALYST, 'fast', V);
  });

  it('predefined tools: bound parameters, bad parameters, a masked one, a held write', async () => {
    await same('predefined read', call('orders_by_status', { status: 'paid' }), ANALYST, 'fast', V);
    await same('predefined bad parameter', call('orders_by_status', { status: 'lost' }), ANALYST, 'fast', V);
    await same('predefined masked', call('customer_contacts', { ids: [1, 2] }), NARROW, 'fast', V);
    const customer = Number(
      (await w.admin<{ c: string }>('SELECT customer_id::text AS c FROM app.support_tickets WHERE closed_at IS NULL GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1'))[0]?.c,
    );
    const held = await same('predefined held write', call('close_tickets', { customer_id: customer }), NARROW, 'fast', V);
    expect(JSON.parse(held.body)).toMatchObject({ result: { isError: true, structuredContent: { decision: 'hold' } } });
  });

  it('execute: a held write, a write that runs (with an undo id), a blocked one', async () => {
    const held = await same('execute held', call('execute', { sql: 'UPDATE app.support_tickets SET priority = priority WHERE id <= 3' }), WRITER, 'fast', V);
    expect(JSON.parse(held.body)).toMatchObject({ result: { isError: true, structuredContent: { decision: 'hold' } } });
    const ran = await same('execute runs', call('execute', { sql: 'UPDATE app.support_tickets SET priority = priority WHERE id = 1' }), WRITER, 'fast', V);
    expect(JSON.parse(ran.body)).toMatchObject({ result: { structuredContent: { undoId: expect.any(String) } } });
    await same('execute unscoped', call('execute', { sql: 'DELETE FROM app.support_tickets' }), WRITER, 'fast', V);
  });

  it('unknown tools and tools the principal does not have are left to the SDK (same error)', async () => {
    const unknown = await same('unknown tool', call('nope', {}), ANALYST, 'sdk', V);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: -32602 } });
    await same('execute for a reader', call('execute', { sql: 'DELETE FROM app.orders WHERE id = 1' }), ANALYST, 'sdk', V);
    await same('query for a principal given predefined tools only', call('query', { sql: 'SELECT 1' }), NARROW, 'sdk', V);
    await same('another principal’s predefined tool', call('customer_contacts', { ids: [1] }), ANALYST, 'sdk', V);
  });

  it('ids, protocol-version headers and content types the SDK accepts', async () => {
    await same('string id', call('status', undefined, 'abc'), ANALYST, 'fast', V);
    await same('id 0', call('status', undefined, 0), ANALYST, 'fast', V);
    await same('no version header', call('status'), ANALYST, 'fast');
    for (const v of ['2025-06-18', '2025-03-26', '2024-11-05']) await same(`version ${v}`, call('status'), ANALYST, 'fast', { 'mcp-protocol-version': v });
    await same('json with charset', call('status'), ANALYST, 'fast', { ...V, 'content-type': 'application/json; charset=utf-8' });
  });

  it('anything unusual goes to the SDK as before', async () => {
    await same('unsupported version header', call('status'), ANALYST, 'none', { 'mcp-protocol-version': '2099-01-01' });
    await same('modern version header without envelope', call('status'), ANALYST, 'none', { 'mcp-protocol-version': '2026-07-28' });
    await same('accept without event-stream', call('status'), ANALYST, 'none', { ...V, accept: 'application/json' });
    await same('_meta progress token', { ...call('status'), params: { name: 'status', _meta: { progressToken: 1 } } }, ANALYST, 'none', V);
    await same('batch', [call('status')], ANALYST, 'none', V);
    await same('fractional id', call('status', undefined, 1.5), ANALYST, 'none', V);
    await same('null id', call('status', undefined, null as unknown as number), ANALYST, 'none', V);
    await same('array arguments', { ...call('status'), params: { name: 'status', arguments: [] } }, ANALYST, 'none', V);
    await same('name not a string', { ...call('status'), params: { name: 1 } }, ANALYST, 'none', V);
    await same('extra member', { ...call('status'), extra: true }, ANALYST, 'none', V);
    await same('wrong jsonrpc version', { ...call('status'), jsonrpc: '1.0' }, ANALYST, 'none', V);
    await same('tools/list', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, ANALYST, 'none', V);
    await same('notification', { jsonrpc: '2.0', method: 'notifications/initialized' }, ANALYST, 'none', V);
    await same('Mcp-Method header', call('status'), ANALYST, 'none', { ...V, 'mcp-method': 'tools/call' });
  });

  it('Connection: close is honoured the same way (header and a closed socket)', async () => {
    const closeCall = (base: string): Promise<{ status: number; connection: string | undefined; body: string; socketClosed: boolean }> =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify(call('status'));
        const req = httpRequest(`${base}/mcp`, {
          method: 'POST',
          agent: false,
          headers: { authorization: `Bearer ${ANALYST}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', connection: 'close', ...V },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const socket = res.socket;
            const done = (): void => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: blank(text), socketClosed: true });
            if (socket.destroyed) done();
            else socket.once('close', done);
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    const before = served.length;
    const a = await closeCall(fast.url);
    expect(served.slice(before)).toEqual(['fast']);
    expect(a).toEqual(await closeCall(sdk.url));
    expect(a.connection).toBe('close');
  });

  it('the audit records of each pair match (decision, tool, reasons, rows, protocol version…)', async () => {
    // the audit writer records reads in coalesced batches after the answer: wait until each pair
    // is in the file on both sides or on neither (calls the SDK answers itself, such as an
    // unknown tool, record nothing), and most pairs are in (the comparison below checks them)
    await vi.waitFor(
      () => {
        const ids = new Set(gw.auditRecords().map((r) => r.request_id));
        expect(pairs.filter((p) => ids.has(p.fast) !== ids.has(p.sdk)).map((p) => p.label)).toEqual([]);
        expect(pairs.filter((p) => ids.has(p.fast)).length).toBeGreaterThan(10);
      },
      { timeout: 10_000, interval: 20 },
    );
    const records = gw.auditRecords();
    const volatile = new Set(['ts', 'time', 'request_id', 'duration_ms', 'elapsed_ms', 'approval_id', 'undo_id', 'confirmation_id', 'seq', 'prev', 'hash', 'id']);
    const strip = (r: Record<string, unknown> | undefined): Record<string, unknown> | undefined =>
      r === undefined ? undefined : Object.fromEntries(Object.entries(r).filter(([k]) => !volatile.has(k)));
    let compared = 0;
    for (const p of pairs) {
      const a = records.filter((r) => r.request_id === p.fast).map(strip);
      const b = records.filter((r) => r.request_id === p.sdk).map(strip);
      expect(a, p.label).toEqual(b);
      compared += a.length;
    }
    expect(compared).toBeGreaterThan(20);
  });
});

describe('the result byte budget: a read\'s lease belongs to the HTTP response that carries its rows', () => {
  it('on the fast path, on the SDK route and in the 2026-07-28 era (the scope is handed down, no AsyncLocalStorage)', async () => {
    const scopes: (BudgetScope | undefined)[] = [];
    const lease = resultBudget.lease.bind(resultBudget);
    const spy = vi.spyOn(resultBudget, 'lease').mockImplementation((scope?: BudgetScope) => {
      scopes.push(scope);
      return lease(scope);
    });
    try {
      const read = call('query', { sql: 'SELECT id FROM app.orders WHERE id = 3' });
      const before = served.length;
      await post(fast.url, read, ANALYST, V);
      expect(served.slice(before)).toEqual(['fast']);
      await post(sdk.url, read, ANALYST, V);
      await post(fast.url, call('describe', { table: 'app.orders' }), ANALYST, V); // its sample rows are a read too
      const modern = new Client({ name: 'pgwarden-budget', version: '0.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await modern.connect(new StreamableHTTPClientTransport(new URL(`${fast.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${ANALYST}` } } }));
      await modern.callTool({ name: 'query', arguments: { sql: 'SELECT id FROM app.orders WHERE id = 4' } });
      await modern.close();
    } finally {
      spy.mockRestore();
    }
    // four responses, one read each, each lease adopted by its own response's scope
    expect(scopes.length).toBe(4);
    expect(scopes.map((s) => s !== undefined)).toEqual([true, true, true, true]);
    expect(new Set(scopes).size).toBe(4);
    // every response is over: its scope ended and gave the bytes back
    await vi.waitFor(() => expect(resultBudget.used).toBe(0));
  });
});

describe.each<Era>(['legacy', 'modern'])('real SDK clients get the same results through both routes (%s era)', (era) => {
  const connect = async (url: string, token: string): Promise<Client> => {
    const client = new Client({ name: 'pgwarden-fast-path', version: '0.0.0' }, era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return client;
  };

  it('query, a refusal, a predefined tool and an unknown tool', async () => {
    const [a, b] = [await connect(fast.url, ANALYST), await connect(sdk.url, ANALYST)];
    const before = served.length;
    const run = async (c: Client): Promise<string[]> => [
      JSON.stringify(await c.callTool({ name: 'query', arguments: { sql: 'SELECT id, status FROM app.orders WHERE id = 2' } })),
      JSON.stringify(await c.callTool({ name: 'query', arguments: { sql: 'DROP TABLE app.orders' } })),
      JSON.stringify(await c.callTool({ name: 'orders_by_status', arguments: { status: 'paid', limit: 2 } })),
      await c.callTool({ name: 'nope', arguments: {} }).then(
        (r) => JSON.stringify(r),
        (err: unknown) => String(err),
      ),
    ];
    const [ra, rb] = [await run(a), await run(b)];
    expect(ra.map(blank)).toEqual(rb.map(blank));
    // 2025-era clients take the fast path for the three known tools; 2026-07-28 clients never do.
    expect(served.slice(before)).toEqual(era === 'legacy' ? ['fast', 'fast', 'fast', 'sdk'] : []);
    await a.close();
    await b.close();
  });
});
