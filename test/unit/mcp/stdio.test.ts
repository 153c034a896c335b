/**
 * src/mcp/stdio.ts without a database: which lines the stdio fast path takes, that it waits for
 * the SDK's initialize result, and how its answers reach stdout (answers finished in one turn of
 * the event loop share one write; a large one is written alone; an SDK message never overtakes an
 * answer produced before it). test/integration/e2e/stdio-fast-path.test.ts compares both routes
 * byte for byte against a real gateway.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/server';
import { FastStdioTransport, stdioToolCallOf } from '../../../src/mcp/stdio.js';
import type { DirectToolCaller } from '../../../src/mcp/tool-call.js';

const call = (extra: Record<string, unknown> = {}, params: Record<string, unknown> = { name: 'status' }): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params,
  ...extra,
});

describe('stdioToolCallOf: the one shape the fast path takes', () => {
  it('takes a plain 2025-era tools/call', () => {
    expect(stdioToolCallOf(call())).toEqual({ id: 1, name: 'status', arguments: undefined });
    expect(stdioToolCallOf(call({ id: 'x' }, { name: 'query', arguments: { sql: 'SELECT 1' } }))).toEqual({ id: 'x', name: 'query', arguments: { sql: 'SELECT 1' } });
  });

  it.each([
    ['another method', call({ method: 'tools/list' })],
    ['a batch', [call()]],
    ['an extra member', call({ extra: 1 })],
    ['jsonrpc 1.0', call({ jsonrpc: '1.0' })],
    ['a fractional id', call({ id: 1.5 })],
    ['an unsafe integer id', call({ id: 2 ** 60 })],
    ['a null id', call({ id: null })],
    ['no params', call({ params: undefined })],
    ['_meta in params', call({}, { name: 'status', _meta: { progressToken: 1 } })],
    ['a name that is not a string', call({}, { name: 1 })],
    ['array arguments', call({}, { name: 'status', arguments: [] })],
    ['null arguments', call({}, { name: 'status', arguments: null })],
    ['a __proto__ argument', JSON.parse('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"status","arguments":{"__proto__":{}}}}') as unknown],
  ])('leaves %s to the SDK', (_label, message) => {
    expect(stdioToolCallOf(message)).toBeUndefined();
  });
});

interface Harness {
  stdin: PassThrough;
  writes: string[];
  delivered: JSONRPCMessage[];
  transport: FastStdioTransport;
  /** Resolve the fast call with this id (its result's text is `text`). */
  finish: (id: number, text?: string) => void;
  calls: number[];
}

async function harness(): Promise<Harness> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const writes: string[] = [];
  stdout.write = ((chunk: string) => writes.push(chunk) > 0) as typeof stdout.write;
  const pending = new Map<number, (r: CallToolResult) => void>();
  const calls: number[] = [];
  const toolCall: DirectToolCaller = (_caller, c) => {
    if (c.name !== 'status') return undefined;
    calls.push(c.id as number);
    return new Promise((resolve) => pending.set(c.id as number, resolve));
  };
  const transport = new FastStdioTransport({ principal: 'p', toolCall, stdin, stdout });
  const delivered: JSONRPCMessage[] = [];
  transport.onmessage = (m) => delivered.push(m);
  await transport.start();
  const finish = (id: number, text = 'ok'): void => pending.get(id)?.({ content: [{ type: 'text', text }] });
  return { stdin, writes, delivered, transport, finish, calls };
}

const line = (m: unknown): string => `${JSON.stringify(m)}\n`;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function initialized(h: Harness, version = '2025-11-25'): Promise<void> {
  h.stdin.write(line({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 't', version: '0' } } }));
  await tick();
  await h.transport.send({ jsonrpc: '2.0', id: 0, result: { protocolVersion: version, capabilities: {}, serverInfo: { name: 's', version: '0' } } });
  h.writes.length = 0;
}

describe('FastStdioTransport', () => {
  it('hands everything to the SDK until its initialize result is sent', async () => {
    const h = await harness();
    h.stdin.write(line({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } }));
    h.stdin.write(line(call({ id: 5 })));
    await tick();
    expect(h.calls).toEqual([]);
    expect(h.delivered.map((m) => ('method' in m ? m.method : ''))).toEqual(['initialize', 'tools/call']);
  });

  it('serves tools/call after a 2025-era initialize, and not after an unsupported version', async () => {
    const h = await harness();
    await initialized(h);
    h.stdin.write(line(call({ id: 5 })));
    await tick();
    expect(h.calls).toEqual([5]);
    const other = await harness();
    await initialized(other, '2026-07-28');
    other.stdin.write(line(call({ id: 5 })));
    await tick();
    expect(other.calls).toEqual([]);
  });

  it('answers of one turn share one write, in the SDK serialization', async () => {
    const h = await harness();
    await initialized(h);
    h.stdin.write([1, 2, 3].map((id) => line(call({ id }))).join(''));
    await tick();
    expect(h.calls).toEqual([1, 2, 3]);
    for (const id of [2, 1, 3]) h.finish(id);
    await tick();
    await tick();
    const answer = (id: number): string => `{"result":{"content":[{"type":"text","text":"ok"}]},"jsonrpc":"2.0","id":${id}}\n`;
    expect(h.writes).toEqual([answer(2) + answer(1) + answer(3)]);
  });

  it('writes at once, without waiting for the turn to end, when no other fast call is in flight', async () => {
    const h = await harness();
    await initialized(h);
    h.stdin.write(line(call({ id: 1 })) + line(call({ id: 2 })));
    await tick();
    h.finish(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.writes).toEqual([]); // 2 is still in flight: 1 waits for the end of the turn
    h.finish(2);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.writes.map((w) => w.split('\n').length - 1)).toEqual([2]);
  });

  it('writes a large answer on its own, and flushes answers before an SDK message', async () => {
    const h = await harness();
    await initialized(h);
    h.stdin.write([1, 2].map((id) => line(call({ id }))).join(''));
    await tick();
    h.finish(1);
    h.finish(2, 'x'.repeat(70_000));
    await Promise.resolve();
    await Promise.resolve();
    expect(h.writes.map((w) => w.length > 65_536)).toEqual([false, true]);
    h.stdin.write(line(call({ id: 3 })));
    await tick();
    h.finish(3);
    await Promise.resolve();
    await Promise.resolve();
    await h.transport.send({ jsonrpc: '2.0', id: 9, result: {} });
    expect(h.writes.slice(2).map((w) => (JSON.parse(w) as { id: number }).id)).toEqual([3, 9]);
  });

  it('a cancelled call and a call in flight at close are not answered', async () => {
    const h = await harness();
    await initialized(h);
    h.stdin.write(line(call({ id: 1 })) + line(call({ id: 2 })));
    await tick();
    h.stdin.write(line({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }));
    await tick();
    h.finish(1);
    await tick();
    await tick();
    expect(h.writes).toEqual([]);
    // the cancellation still reaches the SDK
    expect(h.delivered.at(-1)).toMatchObject({ method: 'notifications/cancelled' });
    await h.transport.close();
    h.finish(2);
    await tick();
    await tick();
    expect(h.writes).toEqual([]);
  });

  it('enforces the SDK read buffer limit on a partial line', async () => {
    const stdin = new PassThrough();
    const errors: string[] = [];
    const t = new FastStdioTransport({ principal: 'p', toolCall: () => undefined, stdin, stdout: new PassThrough(), maxBufferSize: 100 });
    t.onerror = (e) => errors.push(e.message);
    let closed = false;
    t.onclose = () => (closed = true);
    await t.start();
    stdin.write('x'.repeat(60));
    stdin.write('x'.repeat(60));
    await tick();
    expect(errors).toEqual(['ReadBuffer exceeded maximum size of 100 bytes']);
    expect(closed).toBe(true);
  });
});

describe('both fast paths take one shape (src/shared/tool-call-shape.ts)', () => {
  it('the HTTP route refuses what the stdio shape refuses, e.g. an own __proto__ in arguments', async () => {
    const { fastToolCallOf } = await import('../../../src/http/fast-call.js');
    const headers = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    const ok = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql: 'SELECT 1' } } };
    expect(fastToolCallOf(headers, ok)).toMatchObject({ id: 1, name: 'query' });
    const poisoned = JSON.parse('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"__proto__":{"x":1}}}}') as unknown;
    expect(stdioToolCallOf(poisoned)).toBeUndefined();
    expect(fastToolCallOf(headers, poisoned)).toBeUndefined();
  });
});
