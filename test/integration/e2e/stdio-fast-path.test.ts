/**
 * The stdio tools/call fast path (issue #13, src/mcp/stdio.ts) answers exactly what the SDK's own
 * stdio transport answers. Two runtimes over one database, each with its own audit file: one
 * served through FastStdioTransport, one through the SDK's StdioServerTransport (as before), both
 * by the SDK's serveStdio over in-process pipes. The same raw lines go to both, one pair at a
 * time; the answer lines must match byte for byte once the per-call values (request ids,
 * timings) are blanked, and the two audit files must hold the same records in the same order. A
 * spy on the fast path proves which lines it served and which it left to the SDK (before
 * initialize, a tool the principal does not have, execute, _meta, ids in flight, lists, the
 * 2026-07-28 era…); cancellation and a closed stdin leave a call unanswered on both, and a
 * cancelled read's backend is gone from pg_stat_activity (the connection discarded) on both.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, ReadBuffer, serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import { StdioServerTransport, serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import pino from 'pino';
import { createRuntime, type Runtime } from '../../../src/app/runtime.js';
import { FastStdioTransport } from '../../../src/mcp/stdio.js';
import { directToolCaller, type DirectToolCaller } from '../../../src/mcp/tool-call.js';
import { buildConfig, type Era } from '../../support/gateway.js';
import { surfaceConfig, SURFACE_TOKENS } from '../../support/surface.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

let w: WriteTestDb;
const runtimes: { fast?: Runtime; sdk?: Runtime } = {};
const auditPaths = { fast: '', sdk: '' };
/** What the fast path was asked to serve: 'fast' when it served, 'sdk' when it declined (no such tool). */
const served: string[] = [];
const handles: StdioServerHandle[] = [];

function config(auditPath: string): Record<string, unknown> {
  const c = surfaceConfig(w.scratch.gatewayUrl, auditPath, SURFACE_TOKENS);
  const writerDb = {
    mode: 'read-write',
    schemas: ['app'],
    tables: { deny: ['internal.*'] },
    limits: { max_rows: 3 },
    masks: { 'app.customers.email': { mask: 'email' } },
    writes: { confirm_above_rows: 1, block_above_rows: 100 },
  };
  const sleeperDb = { mode: 'read-only', schemas: ['app'], functions: { allow: ['pg_sleep'] }, limits: { statement_timeout_ms: 5000 } };
  return {
    ...c,
    principals: {
      ...(c.principals as object),
      writer: { policy: 'writer', tokens: [{ token: 'pgw_sfwriter_e2e_0123456789abcdefghijklmnopq' }] },
      sleeper: { policy: 'sleeper', tokens: [{ token: 'pgw_sfsleeper_e2e_0123456789abcdefghijklmnop' }] },
    },
    policies: { ...(c.policies as object), writer: { databases: { shop: writerDb } }, sleeper: { databases: { shop: sleeperDb } } },
  };
}

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-stdio-fast-'));
  for (const route of ['fast', 'sdk'] as const) {
    auditPaths[route] = path.join(dir, `${route}.ndjson`);
    runtimes[route] = await createRuntime(buildConfig(config(auditPaths[route])), pino({ level: 'silent' }));
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  for (const r of [runtimes.fast, runtimes.sdk]) await r?.gateway.shutdown(0);
  await w?.end();
});

/** One end of an in-process stdio connection: lines in, answer lines out. */
class Pipe {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly lines: string[] = [];
  private rest = '';
  private waiters: (() => void)[] = [];
  constructor() {
    this.stdout.setEncoding('utf8');
    this.stdout.on('data', (text: string) => {
      const parts = (this.rest + text).split('\n');
      this.rest = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }
  send(line: string): void {
    this.stdin.write(`${line}\n`);
  }
  /** The answer line carrying this id (each id is answered at most once in these tests). */
  async answer(id: string | number): Promise<string> {
    for (;;) {
      const line = this.lines.find((l) => (JSON.parse(l) as { id?: unknown }).id === id);
      if (line !== undefined) return line;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

function spy(runtime: Runtime): DirectToolCaller {
  const inner = directToolCaller(runtime.gateway);
  return (caller, call) => {
    const answer = inner(caller, call);
    served.push(answer === undefined ? 'sdk' : 'fast');
    return answer;
  };
}

function connect(route: 'fast' | 'sdk', principal: string): Pipe {
  const runtime = runtimes[route] as Runtime;
  const pipe = new Pipe();
  const transport =
    route === 'fast'
      ? new FastStdioTransport({ principal, toolCall: spy(runtime), stdin: pipe.stdin, stdout: pipe.stdout })
      : new StdioServerTransport(pipe.stdin, pipe.stdout);
  handles.push(serveStdio(runtime.stdioFactory(principal), { transport }));
  return pipe;
}

/** Values that differ per call: ids minted per call, timings, timestamps, the audit counters status reports. */
const VOLATILE = /(\\?"(?:elapsedMs|approvalId|requestId|expiresAt|undoId|confirmationId|createdAt|written|lastSeq|lastHash|queued)\\?":)(\\?"[^"\\]*\\?"|-?[0-9.e+]+)/g;
const blank = (line: string): string => line.replace(VOLATILE, '$1"…"');

interface Pair {
  fast: Pipe;
  sdk: Pipe;
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-lines', version: '0' } },
});

/** A connection pair for one principal, opened with `opening` (null: no opening message). */
async function pairFor(principal: string, opening: string | null = INITIALIZE): Promise<Pair> {
  const p = { fast: connect('fast', principal), sdk: connect('sdk', principal) };
  if (opening !== null) {
    await same(p, `initialize (${principal})`, opening, 0, 'none');
    for (const pipe of [p.fast, p.sdk]) pipe.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  }
  return p;
}

/** Send one line to both routes (fast first, then the SDK); equal answers, and which route served it. */
async function same(p: Pair, label: string, line: string, id: string | number, expected: 'fast' | 'sdk' | 'none'): Promise<string> {
  const before = served.length;
  p.fast.send(line);
  const a = await p.fast.answer(id);
  const took = served.slice(before);
  p.sdk.send(line);
  const b = await p.sdk.answer(id);
  expect(blank(a), label).toBe(blank(b));
  expect(took, label).toEqual(expected === 'none' ? [] : [expected]);
  return a;
}

const call = (name: string, args?: unknown, id: string | number = 7, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, ...(args === undefined ? {} : { arguments: args }) }, ...extra });

/** No answer for `id` on either route: a later ping is answered, and nothing with `id` came before it. */
async function unanswered(p: Pair, id: string | number, ping: string): Promise<void> {
  for (const pipe of [p.fast, p.sdk]) {
    pipe.send(JSON.stringify({ jsonrpc: '2.0', id: ping, method: 'ping' }));
    await pipe.answer(ping);
    expect(pipe.lines.filter((l) => (JSON.parse(l) as { id?: unknown }).id === id)).toEqual([]);
  }
}

describe('stdio tools/call: the fast path answers byte for byte what the SDK answers (2025 era)', () => {
  it('reads, a capped and a masked read, status, describe, check, explain', async () => {
    const analyst = await pairFor('analyst');
    const ok = await same(analyst, 'read', call('query', { sql: 'SELECT id, status FROM app.orders WHERE id = 1' }), 7, 'fast');
    expect(ok.startsWith('{"result":{"content":[{"type":"text","text":"{')).toBe(true);
    expect(JSON.parse(ok)).toMatchObject({ jsonrpc: '2.0', id: 7, result: { structuredContent: { rowCount: 1 } } });
    await same(analyst, 'status', call('status', undefined, 8), 8, 'fast');
    await same(analyst, 'status with empty arguments', call('status', {}, 9), 9, 'fast');
    await same(analyst, 'describe', call('describe', { table: 'app.orders' }, 10), 10, 'fast');
    await same(analyst, 'check', call('check', { sql: 'DELETE FROM app.orders' }, 11), 11, 'fast');
    await same(analyst, 'explain', call('explain', { sql: 'SELECT 1' }, 12), 12, 'fast');
    await same(analyst, 'string id', call('status', undefined, 'abc'), 'abc', 'fast');
    await same(analyst, 'id 0', call('status', undefined, 0), 0, 'fast');
    await same(analyst, 'a CRLF line', `${call('status', undefined, 13)}\r`, 13, 'fast');
    const writer = await pairFor('writer');
    const capped = await same(writer, 'capped read', call('query', { sql: 'SELECT id FROM app.orders ORDER BY id' }, 20), 20, 'fast');
    expect(JSON.parse(capped)).toMatchObject({ result: { structuredContent: { truncated: true, rowCount: 3 } } });
    const masked = await same(writer, 'masked read', call('query', { sql: 'SELECT id, email FROM app.customers ORDER BY id LIMIT 2' }, 21), 21, 'fast');
    expect(JSON.parse(masked)).toMatchObject({ result: { structuredContent: { masked: ['app.customers.email'] } } });
  });

  it('refusals: guard blocks, invalid and missing arguments, a database error', async () => {
    const p = await pairFor('analyst');
    const blocked = await same(p, 'write refused to a reader', call('query', { sql: 'DELETE FROM app.orders' }, 1), 1, 'fast');
    expect(JSON.parse(blocked)).toMatchObject({ result: { isError: true, structuredContent: { decision: 'block' } } });
    await same(p, 'multi statement', call('query', { sql: 'SELECT 1; SELECT 2' }, 2), 2, 'fast');
    await same(p, 'denied table', call('query', { sql: 'SELECT * FROM internal.api_keys' }, 3), 3, 'fast');
    const invalid = await same(p, 'invalid arguments', call('query', { sql: 42 }, 4), 4, 'fast');
    expect(invalid).toContain('INVALID_ARGUMENTS');
    await same(p, 'missing arguments', call('query', undefined, 5), 5, 'fast');
    await same(p, 'unknown argument name', call('status', { nope: true }, 6), 6, 'fast');
    await same(p, 'database not reachable', call('query', { sql: 'SELECT 1', database: 'other' }, 7), 7, 'fast');
    await same(p, 'a database error', call('query', { sql: 'SELECT 1/0' }, 8), 8, 'fast');
  });

  it('predefined tools: bound parameters, bad parameters, a masked one, a held write', async () => {
    const analyst = await pairFor('analyst');
    await same(analyst, 'predefined read', call('orders_by_status', { status: 'paid' }, 1), 1, 'fast');
    await same(analyst, 'predefined bad parameter', call('orders_by_status', { status: 'lost' }, 2), 2, 'fast');
    const narrow = await pairFor('narrow');
    await same(narrow, 'predefined masked', call('customer_contacts', { ids: [1, 2] }, 3), 3, 'fast');
    const customer = Number(
      (await w.admin<{ c: string }>('SELECT customer_id::text AS c FROM app.support_tickets WHERE closed_at IS NULL GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1'))[0]?.c,
    );
    const held = await same(narrow, 'predefined held write', call('close_tickets', { customer_id: customer }, 4), 4, 'fast');
    expect(JSON.parse(held)).toMatchObject({ result: { isError: true, structuredContent: { decision: 'hold' } } });
  });

  it('execute, unknown tools and tools the principal does not have are left to the SDK', async () => {
    const writer = await pairFor('writer');
    const held = await same(writer, 'execute held', call('execute', { sql: 'UPDATE app.support_tickets SET priority = priority WHERE id <= 3' }, 1), 1, 'none');
    expect(JSON.parse(held)).toMatchObject({ result: { isError: true, structuredContent: { decision: 'hold' } } });
    await same(writer, 'execute runs', call('execute', { sql: 'UPDATE app.support_tickets SET priority = priority WHERE id = 1' }, 2), 2, 'none');
    const analyst = await pairFor('analyst');
    const unknown = await same(analyst, 'unknown tool', call('nope', {}, 3), 3, 'sdk');
    expect(JSON.parse(unknown)).toMatchObject({ error: { code: -32602 } });
    await same(analyst, 'execute for a reader', call('execute', { sql: 'DELETE FROM app.orders WHERE id = 1' }, 4), 4, 'none');
    await same(analyst, 'another principal’s predefined tool', call('customer_contacts', { ids: [1] }, 5), 5, 'sdk');
    const narrow = await pairFor('narrow');
    await same(narrow, 'query for a principal given predefined tools only', call('query', { sql: 'SELECT 1' }, 6), 6, 'sdk');
  });

  it('anything unusual goes to the SDK as before', async () => {
    const p = await pairFor('analyst');
    await same(p, '_meta progress token', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'status', _meta: { progressToken: 1 } } }), 1, 'none');
    await same(p, 'array arguments', call('status', [], 2), 2, 'none');
    await same(p, 'name not a string', JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 1 } }), 3, 'none');
    await same(p, '__proto__ argument', `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"status","arguments":{"__proto__":{"x":1}}}}`, 4, 'none');
    await same(p, 'tools/list', JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }), 5, 'none');
    await same(p, 'ping', JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping' }), 6, 'none');
    // invalid messages are not answered on either route (the SDK reports them through onerror)
    for (const [label, line] of [
      ['not JSON', '{"jsonrpc":"2.0","id":8,'],
      ['extra member', call('status', undefined, 8, { extra: true })],
      ['fractional id', call('status', undefined, 8.5)],
      ['null id', call('status', undefined, null as unknown as number)],
      ['wrong jsonrpc version', call('status', undefined, 8, { jsonrpc: '1.0' })],
    ] as const) {
      const before = served.length;
      for (const pipe of [p.fast, p.sdk]) pipe.send(line);
      await unanswered(p, 8, `after ${label}`);
      expect(served.slice(before), label).toEqual([]);
    }
  });

  it('no fast path before initialize, after a modern opening, or after a second initialize', async () => {
    const early = await pairFor('analyst', null);
    await same(early, 'tools/call before initialize', call('status', undefined, 1), 1, 'none');
    await same(early, 'initialize after a call', INITIALIZE.replace('"id":0', '"id":2'), 2, 'none');
    await same(early, 'tools/call on a connection opened without initialize', call('status', undefined, 3), 3, 'none');
    const again = await pairFor('analyst');
    await same(again, 'served before the second initialize', call('status', undefined, 1), 1, 'fast');
    await same(again, 'second initialize', INITIALIZE.replace('"id":0', '"id":2'), 2, 'none');
    await same(again, 'after a second initialize', call('status', undefined, 3), 3, 'none');
  });

  it('a cancelled call is not answered on either route, and later calls are', async () => {
    const p = await pairFor('sleeper');
    const before = served.length;
    for (const pipe of [p.fast, p.sdk]) {
      pipe.send(call('query', { sql: 'SELECT pg_sleep(0.4)' }, 'slow'));
      await new Promise((r) => setTimeout(r, 100));
      pipe.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow', reason: 'test' } }));
    }
    await new Promise((r) => setTimeout(r, 600));
    await unanswered(p, 'slow', 'after cancel');
    expect(served.slice(before)).toEqual(['fast']);
    // an id in flight is never taken twice: the second goes to the SDK, which serves both
    const twice = served.length;
    for (const pipe of [p.fast, p.sdk]) {
      pipe.send(call('query', { sql: 'SELECT pg_sleep(0.2)' }, 'dup'));
      pipe.send(call('status', undefined, 'dup'));
    }
    for (const pipe of [p.fast, p.sdk]) await vi.waitFor(() => expect(pipe.lines.filter((l) => l.includes('"id":"dup"'))).toHaveLength(2), { timeout: 5000 });
    expect(served.slice(twice)).toEqual(['fast']);
    await same(p, 'after a cancelled call', call('status', undefined, 'next'), 'next', 'fast');
  });

  it("a cancelled read's backend is gone from pg_stat_activity on both routes, well before its statement timeout", async () => {
    const p = await pairFor('sleeper');
    for (const route of ['fast', 'sdk'] as const) {
      // 10 s of sleep against the sleeper's 5 s statement timeout: only the cancellation ends it within 3 s;
      // the same text on both routes (one after the other), so their audit files stay equal
      const marker = 'stdio_cancel';
      p[route].send(call('query', { sql: `SELECT pg_sleep(10) AS ${marker}` }, marker));
      const running = async (): Promise<number[]> =>
        (await w.admin<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker}%' AND pid <> pg_backend_pid()`)).map((r) => r.pid);
      await vi.waitFor(async () => expect(await running(), `${route}: the read reached the database`).toHaveLength(1), { timeout: 5000, interval: 25 });
      const [pid] = await running();
      const cancelled = Date.now();
      p[route].send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: marker, reason: 'test' } }));
      await vi.waitFor(
        async () => expect(await w.admin('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]), `${route}: the backend is gone`).toEqual([]),
        { timeout: 3000, interval: 25 },
      );
      expect(Date.now() - cancelled).toBeLessThan(3000);
      expect(await running(), `${route}: no backend still runs the read`).toEqual([]);
      await unanswered(p, marker, `after ${marker} (${route})`);
    }
  });

  it('a call in flight when stdin ends is aborted and not answered', async () => {
    const p = await pairFor('sleeper');
    const before = served.length;
    for (const pipe of [p.fast, p.sdk]) {
      pipe.send(call('query', { sql: 'SELECT pg_sleep(0.3)' }, 'cut'));
      await new Promise((r) => setTimeout(r, 50));
      pipe.stdin.end();
    }
    await new Promise((r) => setTimeout(r, 600));
    for (const pipe of [p.fast, p.sdk]) expect(pipe.lines.filter((l) => l.includes('"cut"'))).toEqual([]);
    expect(served.slice(before)).toEqual(['fast']);
  });

  it('calls in flight together are all answered, each once', async () => {
    const p = await pairFor('analyst');
    const ids = Array.from({ length: 16 }, (_, i) => 100 + i);
    const before = served.length;
    for (const pipe of [p.fast, p.sdk]) pipe.stdin.write(ids.map((id) => `${call('query', { sql: `SELECT id FROM app.orders WHERE id = ${id - 99}` }, id)}\n`).join(''));
    for (const id of ids) expect(blank(await p.fast.answer(id))).toBe(blank(await p.sdk.answer(id)));
    expect(served.slice(before)).toEqual(ids.map(() => 'fast'));
    expect(p.fast.lines.filter((l) => ids.includes((JSON.parse(l) as { id: number }).id))).toHaveLength(16);
  });

  it('the audit files of both routes hold the same records, in the same order', async () => {
    const read = (file: string): Record<string, unknown>[] =>
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : [];
    // records are written in coalesced batches after the answer
    await vi.waitFor(() => expect(read(auditPaths.fast).length).toBe(read(auditPaths.sdk).length), { timeout: 10_000, interval: 50 });
    await new Promise((r) => setTimeout(r, 200));
    const volatile = new Set(['ts', 'time', 'request_id', 'duration_ms', 'elapsed_ms', 'approval_id', 'undo_id', 'confirmation_id', 'seq', 'prev', 'hash', 'id']);
    const strip = (r: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(r).filter(([k]) => !volatile.has(k)));
    // the batch test's 16 reads finish in any order on each route: compare them as a multiset
    const key = (r: Record<string, unknown>): string => JSON.stringify(strip(r));
    const [a, b] = [read(auditPaths.fast), read(auditPaths.sdk)];
    expect(a.length).toBeGreaterThan(30);
    expect(a.map(key).sort()).toEqual(b.map(key).sort());
    const ordered = (rs: Record<string, unknown>[]): string[] => rs.slice(0, rs.length - 16).map(key);
    expect(ordered(a)).toEqual(ordered(b));
  });
});

/** An SDK client over the in-process pipes (the client package's own framing). */
class PipeClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();
  constructor(private readonly pipe: Pipe) {}
  async start(): Promise<void> {
    this.pipe.stdout.removeAllListeners('data');
    this.pipe.stdout.on('data', (text: string) => {
      this.buffer.append(Buffer.from(text, 'utf8'));
      for (let m = this.buffer.readMessage(); m !== null; m = this.buffer.readMessage()) this.onmessage?.(m);
    });
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.pipe.stdin.write(serializeMessage(message));
  }
  async close(): Promise<void> {
    this.pipe.stdin.end();
    this.onclose?.();
  }
}

describe.each<Era>(['legacy', 'modern'])('real SDK clients get the same results through both routes (%s era)', (era) => {
  it('query, a refusal, a predefined tool, an unknown tool, tools/list', async () => {
    const client = async (route: 'fast' | 'sdk'): Promise<Client> => {
      const c = new Client({ name: 'pgwarden-stdio-fast', version: '0.0.0' }, era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
      await c.connect(new PipeClientTransport(connect(route, 'analyst')));
      return c;
    };
    const [a, b] = [await client('fast'), await client('sdk')];
    const before = served.length;
    const run = async (c: Client): Promise<string[]> => [
      JSON.stringify(await c.callTool({ name: 'query', arguments: { sql: 'SELECT id, status FROM app.orders WHERE id = 2' } })),
      JSON.stringify(await c.callTool({ name: 'query', arguments: { sql: 'DROP TABLE app.orders' } })),
      JSON.stringify(await c.callTool({ name: 'orders_by_status', arguments: { status: 'paid', limit: 2 } })),
      await c.callTool({ name: 'nope', arguments: {} }).then(
        (r) => JSON.stringify(r),
        (err: unknown) => String(err),
      ),
      JSON.stringify(await c.listTools()),
    ];
    const ra = await run(a);
    const took = served.slice(before);
    const rb = await run(b);
    expect(ra.map(blank)).toEqual(rb.map(blank));
    // 2025-era clients take the fast path for the three known tools; 2026-07-28 clients never do.
    expect(took).toEqual(era === 'legacy' ? ['fast', 'fast', 'fast', 'sdk'] : []);
    await a.close();
    await b.close();
  });
});
