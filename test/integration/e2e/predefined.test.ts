/**
 * Predefined tools end to end (config `tools`): a real MCP client in both protocol eras lists only
 * its tools with generated input and output schemas, a read tool binds its parameters and runs
 * through the read path (masking included), a write tool is held and approved by an operator with
 * the same bound values, a principal given only predefined tools cannot reach query/execute, bad
 * arguments are refusals in the usual shape, and audit records the tool and parameter names only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { callTool, codes, startE2eGateway, type E2eGateway, type Era } from '../../support/gateway.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';
import { SURFACE_TOKENS, surfaceConfig } from '../../support/surface.js';

const { analyst: ANALYST, narrow: NARROW, operator: OPERATOR } = SURFACE_TOKENS;

let w: WriteTestDb;
let gw: E2eGateway;

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  gw = await startE2eGateway({ configInput: (auditPath) => surfaceConfig(w.scratch.gatewayUrl, auditPath, { analyst: ANALYST, narrow: NARROW, operator: OPERATOR }) });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

describe.each<Era>(['legacy', 'modern'])('predefined tools (%s era)', (era) => {
  it('lists each principal only its tools, with one title, generated input schema and an output schema', async () => {
    const analyst = await gw.connect(era, ANALYST);
    const names = (await analyst.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['check', 'describe', 'explain', 'orders_by_status', 'query', 'status']);
    const narrow = await gw.connect(era, NARROW);
    const tools = (await narrow.listTools()).tools;
    expect(tools.map((t) => t.name).sort()).toEqual(['close_tickets', 'customer_contacts', 'orders_by_status', 'status']);
    const orders = tools.find((t) => t.name === 'orders_by_status');
    expect(orders?.title).toBe('Orders by status');
    expect(orders?.annotations).toMatchObject({ title: 'Orders by status', readOnlyHint: true, destructiveHint: false });
    expect(orders?.inputSchema).toMatchObject({
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'], description: 'Order status.' },
        limit: { type: 'integer', minimum: 1, maximum: 20, default: 5 },
      },
      required: ['status'],
      additionalProperties: false,
    });
    expect(orders?.outputSchema).toMatchObject({ type: 'object', anyOf: [{ properties: { rows: { type: 'array' }, truncated: { type: 'boolean' } } }, { properties: { decision: {}, reasons: {} } }] });
    const close = tools.find((t) => t.name === 'close_tickets');
    expect(close?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(close?.outputSchema).toMatchObject({ anyOf: [{ properties: { undoId: {} } }, {}] });
    for (const t of tools) expect(t.outputSchema, t.name).toBeDefined();
  });

  it('runs a read tool with bound parameters (default applied), capped and masked like query', async () => {
    const narrow = await gw.connect(era, NARROW);
    const out = await callTool(narrow, 'orders_by_status', { status: 'paid' });
    expect(out.isError).toBe(false);
    expect(out.structured.rowCount).toBeGreaterThan(0);
    expect(out.structured.rowCount).toBeLessThanOrEqual(5);
    for (const row of out.structured.rows as unknown[][]) expect(row[1]).toBe('paid');
    const contacts = await callTool(narrow, 'customer_contacts', { ids: [1, 2] });
    expect(contacts.isError).toBe(false);
    expect(contacts.structured.masked).toEqual(['app.customers.email']);
    const emails = (contacts.structured.rows as unknown[][]).map((r) => String(r[1]));
    expect(emails.length).toBe(2);
    const raw = await w.admin<{ email: string }>('SELECT email FROM app.customers WHERE id IN (1, 2) ORDER BY id');
    for (const [i, e] of emails.entries()) expect(e).not.toBe(raw[i]?.email);
  });

  it('treats a parameter value as a value: SQL in a string parameter is never run', async () => {
    const narrow = await gw.connect(era, NARROW);
    const out = await callTool(narrow, 'orders_by_status', { status: "paid' OR '1'='1" });
    expect(out.isError).toBe(true);
    expect(codes(out)).toEqual(['INVALID_ARGUMENTS']);
  });

  it('refuses bad arguments before anything runs, in the refusal shape (never the SDK text)', async () => {
    const narrow = await gw.connect(era, NARROW);
    for (const args of [{}, { status: 'paid', limit: 99 }, { status: 'paid', extra: 1 }, { status: 7 }]) {
      const out = await callTool(narrow, 'orders_by_status', args);
      expect(out.isError, JSON.stringify(args)).toBe(true);
      expect(out.structured.decision).toBe('block');
      expect(codes(out)[0]).toBe('INVALID_ARGUMENTS');
      expect((out.structured.reasons as { fix: string }[])[0]?.fix).toMatch(/status: enum/);
    }
    const analyst = await gw.connect(era, ANALYST);
    const bad = await callTool(analyst, 'query', { sql: 42 });
    expect(bad.isError).toBe(true);
    expect(codes(bad)).toEqual(['INVALID_ARGUMENTS']);
    expect(JSON.parse(bad.text)).toMatchObject({ decision: 'block' });
  });

  it('every success payload matches the output schema its tool advertises', async () => {
    const ajv = new Ajv2020({ strict: false });
    const analyst = await gw.connect(era, ANALYST);
    const narrow = await gw.connect(era, NARROW);
    const calls: [typeof analyst, string, Record<string, unknown>][] = [
      [analyst, 'query', { sql: 'SELECT id, status FROM app.orders ORDER BY id LIMIT 3' }],
      [analyst, 'explain', { sql: 'SELECT 1' }],
      [analyst, 'describe', {}],
      [analyst, 'describe', { table: 'app.orders' }],
      [analyst, 'check', { sql: 'SELECT 1' }],
      [analyst, 'status', {}],
      [analyst, 'orders_by_status', { status: 'shipped', limit: 2 }],
      [narrow, 'customer_contacts', { ids: [3] }],
    ];
    for (const [client, name, args] of calls) {
      const tool = (await client.listTools()).tools.find((t) => t.name === name);
      const out = await callTool(client, name, args);
      expect(out.isError, name).toBe(false);
      const validate = ajv.compile(tool?.outputSchema as object);
      expect(validate(out.structured), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('a principal with only predefined tools cannot call query or execute', async () => {
    const narrow = await gw.connect(era, NARROW);
    await expect(narrow.callTool({ name: 'query', arguments: { sql: 'SELECT 1' } })).rejects.toThrow(/not found/);
    await expect(narrow.callTool({ name: 'execute', arguments: { sql: 'DELETE FROM app.orders WHERE id = 1' } })).rejects.toThrow(/not found/);
    const status = await callTool(narrow, 'status');
    expect(status.isError).toBe(false);
  });
});

describe('predefined write tool', () => {
  it('is held (nothing runs), an operator approves it, and it runs with the same bound values', async () => {
    const customer = Number((await w.admin<{ c: string }>('SELECT customer_id::text AS c FROM app.support_tickets WHERE closed_at IS NULL GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1'))[0]?.c);
    const open = async (): Promise<number> => Number((await w.admin<{ n: string }>('SELECT count(*)::text AS n FROM app.support_tickets WHERE customer_id = $1 AND closed_at IS NULL', [customer]))[0]?.n);
    const before = await open();
    expect(before).toBeGreaterThan(0);
    const narrow = await gw.connect('modern', NARROW);
    const held = await callTool(narrow, 'close_tickets', { customer_id: customer });
    expect(held.isError).toBe(true);
    expect(held.structured.decision).toBe('hold');
    expect(await open()).toBe(before);
    const approvalId = String(held.structured.approvalId);
    const res = await fetch(`${gw.url}/admin/approvals/${approvalId}/approve`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    expect(await open()).toBe(0);
    const records = gw.auditRecords().filter((r) => r.tool === 'close_tickets');
    expect(records.at(-1)).toMatchObject({ decision: 'held', parameters: ['customer_id'] });
    expect(JSON.stringify(records)).not.toContain(`"parameter_values"`);
  });

  it("the admin API's reject and revert are audited as the operator (intent before a revert, outcome after)", async () => {
    const admin = async (p: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${gw.url}/admin${p}`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' }, body: '{}' });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const customers = (await w.admin<{ c: string }>('SELECT customer_id::text AS c FROM app.support_tickets WHERE closed_at IS NULL GROUP BY customer_id ORDER BY customer_id LIMIT 2')).map((r) => Number(r.c));
    expect(customers).toHaveLength(2);
    const narrow = await gw.connect('modern', NARROW);
    const toReject = String((await callTool(narrow, 'close_tickets', { customer_id: customers[0] })).structured.approvalId);
    expect((await admin(`/approvals/${toReject}/reject`)).status).toBe(200);
    expect(gw.auditRecords().filter((r) => r.approval_id === toReject && r.tool === 'reject')).toEqual([
      expect.objectContaining({ decision: 'rejected', principal: 'operator:ops', database: 'shop', sql: 'UPDATE app.support_tickets SET closed_at = now() WHERE customer_id = $1 AND closed_at IS NULL' }),
    ]);

    const toRevert = String((await callTool(narrow, 'close_tickets', { customer_id: customers[1] })).structured.approvalId);
    const approved = await admin(`/approvals/${toRevert}/approve`);
    expect(approved.status).toBe(200);
    const undoId = String((approved.body.outcome as { undoId?: string } | undefined)?.undoId ?? approved.body.undoId);
    expect(undoId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await admin(`/undo/${undoId}/revert`)).status).toBe(200);
    expect((await admin(`/undo/${undoId}/revert`)).status).toBe(409);
    const reverts = gw.auditRecords().filter((r) => r.tool === 'revert' && r.undo_id === undoId);
    expect(reverts.map((r) => [r.decision, r.principal])).toEqual([
      ['allowed', 'operator:ops'],
      ['reverted', 'operator:ops'],
      ['allowed', 'operator:ops'],
      ['blocked', 'operator:ops'],
    ]);
    expect(reverts[1]).toMatchObject({ database: 'shop', rows: expect.any(Number) as unknown });
    expect(reverts[3]).toMatchObject({ reasons: ['UNDO_ALREADY_REVERTED'] });
  });

  it('audits the tool name and parameter names, not the values', async () => {
    const records = gw.auditRecords().filter((r) => r.tool === 'orders_by_status' && r.decision === 'allowed');
    expect(records.length).toBeGreaterThan(0);
    expect(records[0]).toMatchObject({ parameters: ['status', 'limit'] });
    expect(JSON.stringify(records)).not.toContain('"paid"');
  });
});

describe('load-time judgement', () => {
  const configWith = (tools: Record<string, unknown>) => (auditPath: string): Record<string, unknown> => ({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    audit: { sink: 'file', path: auditPath, fsync: 'never' },
    databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
    principals: { analyst: { policy: 'analyst', tokens: [{ token: ANALYST }] } },
    policies: { analyst: { databases: { shop: { mode: 'read-only', schemas: ['app'], tables: { deny: ['internal.*'] } } } } },
    tools,
  });
  const base = { description: 'x', database: 'shop', policies: ['analyst'] };

  it('refuses to start when a principal who gets a tool could not run it, naming the tool and codes', async () => {
    await expect(startE2eGateway({ configInput: configWith({ secrets: { ...base, sql: 'SELECT secret FROM internal.api_keys' } }) })).rejects.toThrow(
      /tools\.secrets: principal "analyst" could not run it: DENIED_/,
    );
    await expect(
      startE2eGateway({ configInput: configWith({ wipe: { ...base, sql: 'DELETE FROM app.orders WHERE id = $1', parameters: [{ name: 'id', type: 'integer' }] } }) }),
    ).rejects.toThrow(/tools\.wipe: principal "analyst" could not run it: WRITE_NOT_ALLOWED/);
    await expect(startE2eGateway({ configInput: configWith({ two: { ...base, sql: 'SELECT 1; SELECT 2' } }) })).rejects.toThrow(/tools\.two\.sql: must be exactly one statement/);
  });

  it('a reload is judged before it applies', async () => {
    const next = gw.runtime.gateway.config;
    const bad = { ...next, tools: { ...next.tools, secrets: { ...base, sql: 'SELECT secret FROM internal.api_keys', title: undefined, parameters: [], principals: [], policies: ['narrow'] } } };
    await expect(gw.runtime.verify(bad as typeof next)).rejects.toThrow(/tools\.secrets: principal "narrow" could not run it/);
    await expect(gw.runtime.verify(next)).resolves.toBeUndefined();
  });
});

describe.each<Era>(['legacy', 'modern'])('resources, prompts and completions (%s era)', (era) => {
  it('lists one resource per database, schema and visible table, plus operator resources; never a hidden table', async () => {
    const analyst = await gw.connect(era, ANALYST);
    const uris = (await analyst.listResources()).resources.map((r) => r.uri);
    expect(uris).toContain('pgwarden://db/shop');
    expect(uris).toContain('pgwarden://db/shop/app');
    expect(uris).toContain('pgwarden://db/shop/app/orders');
    expect(uris).toContain('pgwarden://resource/order_counts');
    expect(uris.some((u) => u.includes('internal'))).toBe(false);
    const templates = (await analyst.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toEqual(['orders://order/{id}', 'pgwarden://db/{database}/{schema}/{table}', 'pgwarden://db/{database}/{schema}', 'pgwarden://db/{database}']);
    // describe switched off: only the operator resource it was given
    const narrow = await gw.connect(era, NARROW);
    expect((await narrow.listResources()).resources.map((r) => r.uri)).toEqual(['pgwarden://resource/order_counts']);
  });

  it("reads describe's payload, and a hidden table reads exactly like a missing one", async () => {
    const analyst = await gw.connect(era, ANALYST);
    const table = await analyst.readResource({ uri: 'pgwarden://db/shop/app/orders' });
    const payload = JSON.parse(String((table.contents[0] as { text: string }).text)) as Record<string, unknown>;
    expect(payload).toMatchObject({ database: 'shop', schema: 'app', name: 'orders', columns: expect.arrayContaining([expect.objectContaining({ name: 'status' })]) as unknown });
    expect(table.contents[0]?.mimeType).toBe('application/json');
    const schema = JSON.parse(String(((await analyst.readResource({ uri: 'pgwarden://db/shop/app' })).contents[0] as { text: string }).text)) as { tables: { name: string }[] };
    expect(schema.tables.map((t) => t.name)).toContain('orders');
    const errorOf = async (uri: string): Promise<unknown> => {
      try {
        await analyst.readResource({ uri });
        return 'no error';
      } catch (err) {
        const e = err as { code?: number; message?: string; data?: unknown; constructor: { name: string } };
        const last = uri.split('/').at(-1) ?? '';
        return JSON.parse(JSON.stringify({ kind: e.constructor.name, code: e.code, message: e.message, data: e.data }).replaceAll(last, '<name>')) as unknown;
      }
    };
    const hidden = await errorOf('pgwarden://db/shop/internal/api_keys');
    // the SDK's resource-not-found (-32602, data exactly { uri }), the refusal's code and fix in the message
    expect(hidden).toMatchObject({ kind: 'ResourceNotFoundError', code: -32602, data: { uri: 'pgwarden://db/shop/internal/<name>' } });
    expect(Object.keys((hidden as { data: object }).data)).toEqual(['uri']);
    expect((hidden as { message: string }).message).toMatch(/^Resource not found: pgwarden:\/\/db\/shop\/internal\/<name>\. UNKNOWN_TABLE: .* Fix: /);
    expect(await errorOf('pgwarden://db/shop/internal/no_such_table')).toEqual(hidden);
    // a URI nothing serves is the same kind of error, with the same code and data shape
    const unknown = (await errorOf('test://nothing/here')) as { kind: string; code: number; data: object };
    expect({ kind: unknown.kind, code: unknown.code, keys: Object.keys(unknown.data) }).toEqual({ kind: 'ResourceNotFoundError', code: -32602, keys: ['uri'] });
    expect(await errorOf('pgwarden://db/shop/internal')).toEqual(await errorOf('pgwarden://db/shop/no_such_schema'));
    expect(await errorOf('pgwarden://db/nope')).not.toBe('no error');
  });

  it("serves an operator resource under its own URI to its grantees only", async () => {
    const analyst = await gw.connect(era, ANALYST);
    const listed = (await analyst.listResources()).resources.find((r) => r.name === 'daily_summary');
    expect(listed?.uri).toBe('finance://daily_summary');
    const res = await analyst.readResource({ uri: 'finance://daily_summary' });
    expect(res.contents[0]).toMatchObject({ uri: 'finance://daily_summary', mimeType: 'application/json' });
    const payload = JSON.parse(String((res.contents[0] as { text: string }).text)) as { columns: { name: string }[]; rowCount: number };
    expect(payload.columns.map((c) => c.name)).toEqual(['orders']);
    // not given to narrow: not listed, and reading it is the plain not-found of a URI nothing serves
    const narrow = await gw.connect(era, NARROW);
    expect((await narrow.listResources()).resources.map((r) => r.uri)).not.toContain('finance://daily_summary');
    await expect(narrow.readResource({ uri: 'finance://daily_summary' })).rejects.toMatchObject({ code: -32602, data: { uri: 'finance://daily_summary' } });
  });

  it('reads an operator resource template: URI variables validated and bound, never spliced', async () => {
    const analyst = await gw.connect(era, ANALYST);
    const id = Number((await w.admin<{ id: string }>('SELECT min(id)::text AS id FROM app.orders'))[0]?.id);
    const res = await analyst.readResource({ uri: `orders://order/${id}` });
    expect(res.contents[0]).toMatchObject({ uri: `orders://order/${id}`, mimeType: 'application/json' });
    const payload = JSON.parse(String((res.contents[0] as { text: string }).text)) as { rows: unknown[][] };
    expect(payload.rows.map((r) => Number(r[0]))).toEqual([id]);
    // a value outside the parameter's pattern is refused before anything runs, as resource-not-found
    await expect(analyst.readResource({ uri: `orders://order/1%20OR%201=1` })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('INVALID_ARGUMENTS') as unknown });
    const orderRecords = (): Record<string, unknown>[] => gw.auditRecords().filter((r) => r.tool === 'resource:order');
    // records are written a moment after the call (the sink's queue)
    for (let i = 0; i < 50 && !orderRecords().some((r) => r.decision === 'blocked'); i++) await new Promise((r) => setTimeout(r, 100));
    const records = orderRecords();
    expect(records.map((r) => r.decision)).toEqual(expect.arrayContaining(['allowed', 'blocked']));
    expect(records.every((r) => JSON.stringify(r.parameters) === '["id"]')).toBe(true);
    // not given to narrow: nothing served
    const narrow = await gw.connect(era, NARROW);
    await expect(narrow.readResource({ uri: `orders://order/${id}` })).rejects.toMatchObject({ code: -32602 });
  });

  it('reads an operator resource through the read path', async () => {
    const narrow = await gw.connect(era, NARROW);
    const res = await narrow.readResource({ uri: 'pgwarden://resource/order_counts' });
    const payload = JSON.parse(String((res.contents[0] as { text: string }).text)) as { columns: { name: string }[]; rowCount: number };
    expect(payload.columns.map((c) => c.name)).toEqual(['status', 'n']);
    expect(payload.rowCount).toBeGreaterThan(0);
  });

  it('offers built-in prompts by the tools a principal has, and operator prompts to grantees', async () => {
    const analyst = await gw.connect(era, ANALYST);
    expect((await analyst.listPrompts()).prompts.map((p) => p.name).sort()).toEqual(['answer_question', 'explore_database']);
    const answer = await analyst.getPrompt({ name: 'answer_question', arguments: { question: 'How many orders shipped?', database: 'shop' } });
    const text = (answer.messages[0]?.content as { text: string }).text;
    expect(text).toContain('How many orders shipped?');
    expect(text).toMatch(/check/);
    const narrow = await gw.connect(era, NARROW);
    expect((await narrow.listPrompts()).prompts.map((p) => p.name)).toEqual(['triage']);
    const triage = await narrow.getPrompt({ name: 'triage', arguments: { priority: 'high' } });
    expect((triage.messages[0]?.content as { text: string }).text).toBe('Triage the high tickets. ');
  });

  it('completes template variables with what the principal may see, and enum arguments with their values', async () => {
    const analyst = await gw.connect(era, ANALYST);
    const ref = { type: 'ref/resource' as const, uri: 'pgwarden://db/{database}/{schema}/{table}' };
    expect((await analyst.complete({ ref, argument: { name: 'database', value: 'sh' } })).completion.values).toEqual(['shop']);
    expect((await analyst.complete({ ref, argument: { name: 'schema', value: '' }, context: { arguments: { database: 'shop' } } })).completion.values).toEqual(['app']);
    const tables = (await analyst.complete({ ref, argument: { name: 'table', value: 'ord' }, context: { arguments: { database: 'shop', schema: 'app' } } })).completion.values;
    expect(tables).toContain('orders');
    expect(tables.every((t) => t.startsWith('ord'))).toBe(true);
    expect((await analyst.complete({ ref, argument: { name: 'table', value: 'api' }, context: { arguments: { database: 'shop', schema: 'internal' } } })).completion.values).toEqual([]);
    const narrow = await gw.connect(era, NARROW);
    expect((await narrow.complete({ ref: { type: 'ref/prompt', name: 'triage' }, argument: { name: 'priority', value: 'u' } })).completion.values).toEqual(['urgent']);
    expect((await analyst.complete({ ref: { type: 'ref/prompt', name: 'explore_database' }, argument: { name: 'database', value: '' } })).completion.values).toEqual(['shop']);
  });

  it('does not advertise listChanged on a server that never sends it', async () => {
    const analyst = await gw.connect(era, ANALYST);
    const caps = analyst.getServerCapabilities() ?? {};
    expect(caps.tools?.listChanged ?? false).toBe(false);
    expect(caps.resources?.listChanged ?? false).toBe(false);
    expect(caps.prompts?.listChanged ?? false).toBe(false);
    expect(caps.completions).toBeDefined();
  });
});
