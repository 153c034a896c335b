/**
 * End to end: a real MCP client (both protocol eras) → authenticated Streamable HTTP → pgwarden
 * → a real PostgreSQL. Pins the agent-facing contract of query, explain, describe, check, status.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callTool, codes, E2E_TOKENS, startE2eGateway, type E2eGateway, type Era } from '../../support/gateway.js';
import { testDatabase } from '../../support/pg.js';

let gw: E2eGateway;

beforeAll(async () => {
  gw = await startE2eGateway();
});
afterAll(async () => {
  await gw?.stop();
});

describe.each<Era>(['legacy', 'modern'])('contract over the %s era', (era) => {
  it('lists exactly the read tools, each annotated explicitly', async () => {
    const client = await gw.connect(era);
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(['check', 'describe', 'explain', 'query', 'status']);
    for (const t of tools) {
      expect(t.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: false });
    }
    const query = tools.find((t) => t.name === 'query');
    const props = (query?.inputSchema as { properties: Record<string, { enum?: string[] }> }).properties;
    expect(props.database?.enum).toEqual(['shop']);
  });

  it('query returns columns, rows and the same JSON as text', async () => {
    const client = await gw.connect(era);
    const out = await callTool(client, 'query', { sql: 'SELECT id, sku, price_cents FROM app.products WHERE id <= 3 ORDER BY id' });
    expect(out.isError).toBe(false);
    expect(out.structured).toMatchObject({
      database: 'shop',
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'sku', type: 'text' },
        { name: 'price_cents', type: 'integer' },
      ],
      rowCount: 3,
      truncated: false,
      masked: [],
    });
    expect((out.structured.rows as unknown[][])[0]?.[1]).toBe('SKU-00001');
    expect(JSON.parse(out.text)).toEqual(out.structured);
  });

  it('a denied table is refused with a code and a fix, as a tool result', async () => {
    const client = await gw.connect(era);
    const out = await callTool(client, 'query', { sql: 'SELECT * FROM internal.api_keys' });
    expect(out.isError).toBe(true);
    expect(out.structured.decision).toBe('block');
    expect(codes(out).length).toBeGreaterThan(0);
    const reasons = out.structured.reasons as { code: string; message: string; fix: string }[];
    for (const r of reasons) {
      expect(r.code).toMatch(/^[A-Z_]+$/);
      expect(r.fix.length).toBeGreaterThan(10);
    }
    expect(out.text).not.toContain('sk_live');
  });
});

describe('read path hardening', () => {
  it('caps rows at the protocol level and says so', async () => {
    const client = await gw.connect('legacy');
    const out = await callTool(client, 'query', { sql: 'SELECT id FROM app.orders ORDER BY id' });
    expect(out.isError).toBe(false);
    expect(out.structured.rowCount).toBe(50);
    expect((out.structured.rows as unknown[]).length).toBe(50);
    expect(out.structured.truncated).toBe(true);
    expect(out.structured.truncatedBy).toBe('rows');
  });

  it.each([
    ['SELECT 1; COMMIT; DROP TABLE app.products', 'MULTI_STATEMENT'],
    ['COMMIT; DROP TABLE app.products', 'MULTI_STATEMENT'],
    ['DROP TABLE app.products', 'DDL_NOT_ALLOWED'],
    ["SELECT '--'; DROP TABLE app.products", 'MULTI_STATEMENT'],
    ['WITH d AS (DELETE FROM app.products RETURNING *) SELECT * FROM d', 'DATA_MODIFYING_CTE'],
    ['EXPLAIN ANALYZE DELETE FROM app.products', 'EXPLAIN_ANALYZE_WRITE'],
  ])('refuses %s and the table still exists', async (sql, code) => {
    const client = await gw.connect('modern');
    const out = await callTool(client, 'query', { sql });
    expect(out.isError).toBe(true);
    expect(codes(out)).toContain(code);
    const admin = new pg.Client({ connectionString: testDatabase().databaseUrl });
    await admin.connect();
    try {
      const r = await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM app.products');
      expect(Number(r.rows[0]?.n)).toBe(50);
    } finally {
      await admin.end();
    }
  });

  it.each([
    ['', 'EMPTY_STATEMENT'],
    ['   -- only a comment', 'EMPTY_STATEMENT'],
    ['SELECT 1\u0000; DROP TABLE app.products', 'INVALID_INPUT'],
    ['SELEKT 1', 'PARSE_ERROR'],
    [`SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)}`, undefined],
    [`SELECT ${Array.from({ length: 4000 }, (_, i) => `${i}`).join(' + ')}`, undefined],
  ])('bad input %# gets a coded refusal and the server stays healthy', async (sql, code) => {
    const client = await gw.connect('legacy');
    const out = await callTool(client, 'query', { sql });
    if (code !== undefined) {
      expect(out.isError).toBe(true);
      expect(codes(out)).toContain(code);
    } else if (out.isError) {
      expect(codes(out).length).toBeGreaterThan(0);
    }
    const ok = await callTool(client, 'query', { sql: 'SELECT 1 AS one' });
    expect(ok.isError).toBe(false);
    const health = await fetch(`${gw.url}/readyz`);
    expect(health.status).toBe(200);
  });

  it('refuses pg_sleep by default (unsafe function)', async () => {
    const client = await gw.connect('modern');
    const out = await callTool(client, 'query', { sql: 'SELECT pg_sleep(60)' });
    expect(out.isError).toBe(true);
    expect(codes(out)).toContain('UNSAFE_FUNCTION');
  });

  it('times out pg_sleep(60) after 1 s with a coded error, and the backend is gone', async () => {
    const client = await gw.connect('modern', E2E_TOKENS.sleeper);
    const started = Date.now();
    const out = await callTool(client, 'query', { sql: 'SELECT pg_sleep(60)' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(out.isError).toBe(true);
    expect(codes(out)).toEqual(['STATEMENT_TIMEOUT']);
    expect(out.structured.sqlstate).toBe('57014');
    const admin = new pg.Client({ connectionString: testDatabase().databaseUrl });
    await admin.connect();
    try {
      const act = await admin.query("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()");
      expect(act.rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('cancels the backend query when the HTTP client goes away', async () => {
    const controller = new AbortController();
    const call = fetch(gw.mcpUrl, {
      method: 'POST',
      signal: controller.signal,
      headers: {
        authorization: `Bearer ${E2E_TOKENS.sleeper}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql: 'SELECT pg_sleep(0.95), 4242 AS marker' } } }),
    });
    call.catch(() => undefined);
    const admin = new pg.Client({ connectionString: testDatabase().databaseUrl });
    await admin.connect();
    try {
      const active = async (): Promise<number> =>
        (await admin.query("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%4242 AS marker%' AND pid <> pg_backend_pid()")).rowCount ?? 0;
      for (let i = 0; i < 50 && (await active()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await active()).toBe(1);
      controller.abort();
      await new Promise((r) => setTimeout(r, 300));
      expect(await active()).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('errors are sanitized: no DSN, host or password', async () => {
    const client = await gw.connect('legacy');
    const out = await callTool(client, 'query', { sql: "SELECT 'abc'::int" });
    expect(out.isError).toBe(true);
    expect(out.structured.sqlstate).toBe('22P02');
    const pgInfo = testDatabase();
    expect(out.text).not.toContain(pgInfo.gatewayPassword);
    expect(out.text).not.toContain('127.0.0.1');
    expect(out.text).not.toContain('postgres://');
  });
});

describe('explain, describe, check, status', () => {
  it('explain returns a JSON plan; analyze only for reads', async () => {
    const client = await gw.connect('modern');
    const plain = await callTool(client, 'explain', { sql: 'SELECT * FROM app.orders WHERE customer_id = 7' });
    expect(plain.isError).toBe(false);
    expect(JSON.stringify(plain.structured.plan)).toContain('Plan');
    const analyzed = await callTool(client, 'explain', { sql: 'SELECT count(*) FROM app.orders', analyze: true });
    expect(analyzed.isError).toBe(false);
    expect(JSON.stringify(analyzed.structured.plan)).toContain('Actual');
    const write = await callTool(client, 'explain', { sql: 'DELETE FROM app.orders WHERE id = 1', analyze: true });
    expect(write.isError).toBe(true);
  });

  it('describe lists only what the principal may read, with policy descriptions', async () => {
    const client = await gw.connect('legacy');
    const out = await callTool(client, 'describe');
    expect(out.isError).toBe(false);
    const tables = (out.structured.tables as { schema: string; name: string; description?: string }[]).map((t) => `${t.schema}.${t.name}`);
    expect(tables).toContain('app.orders');
    expect(tables).toContain('app.customers');
    expect(tables.some((t) => t.startsWith('internal.'))).toBe(false);
    expect(tables).not.toContain('app.customer_notes'); // a view over a denied table
    const orders = (out.structured.tables as { schema: string; name: string; description?: string }[]).find((t) => t.name === 'orders');
    expect(orders?.description).toBe('One row per order.');
  });

  it('describe of one table: columns, keys, indexes, samples; denied tables look absent', async () => {
    const client = await gw.connect('modern');
    const out = await callTool(client, 'describe', { table: 'app.orders' });
    expect(out.isError).toBe(false);
    expect(out.structured.primaryKey).toEqual(['id']);
    const cols = out.structured.columns as { name: string; description?: string }[];
    expect(cols.map((c) => c.name)).toContain('customer_id');
    expect(cols.find((c) => c.name === 'status')?.description).toBe('Order lifecycle state.');
    expect((out.structured.indexes as unknown[]).length).toBeGreaterThanOrEqual(2);
    expect(((out.structured.sample as { rows: unknown[] }).rows).length).toBe(3);
    const denied = await callTool(client, 'describe', { table: 'internal.api_keys' });
    expect(denied.isError).toBe(true);
    expect(codes(denied)).toEqual(['UNKNOWN_TABLE']);
    expect(denied.text).not.toContain('sk_live');
  });

  it('check judges without running', async () => {
    const client = await gw.connect('legacy');
    const out = await callTool(client, 'check', { sql: 'SELECT * FROM internal.api_keys JOIN app.customers ON true' });
    expect(out.isError).toBe(false);
    expect(out.structured.decision).toBe('block');
    expect(out.structured.relations).toEqual(expect.arrayContaining(['internal.api_keys', 'app.customers']));
    const good = await callTool(client, 'check', { sql: 'SELECT count(*) FROM app.orders' });
    expect(good.structured).toMatchObject({ decision: 'allow', kind: 'read', relations: ['app.orders'] });
  });

  it('status tells who I am, my database, mode and limits', async () => {
    const client = await gw.connect('modern');
    const out = await callTool(client, 'status');
    expect(out.isError).toBe(false);
    expect(out.structured).toMatchObject({ principal: 'analyst', policy: 'analyst' });
    const dbs = out.structured.databases as { name: string; mode: string; ready: boolean; limits: { max_rows: number } }[];
    expect(dbs[0]).toMatchObject({ name: 'shop', mode: 'read-only', ready: true, limits: { max_rows: 50 } });
  });
});

describe('policy modes and switches', () => {
  it('explain-only returns the plan instead of rows', async () => {
    const client = await gw.connect('legacy', E2E_TOKENS.explainer);
    const out = await callTool(client, 'query', { sql: 'SELECT * FROM app.customers' });
    expect(out.isError).toBe(false);
    expect(out.structured.rows).toEqual([]);
    expect(JSON.stringify(out.structured.plan)).toContain('Plan');
  });

  it('observe mode runs but reports what would be refused', async () => {
    const client = await gw.connect('modern', E2E_TOKENS.observer);
    const out = await callTool(client, 'query', { sql: 'SELECT count(*) AS n FROM internal.staff_notes' });
    expect(out.isError).toBe(false);
    expect((out.structured.observed as { reasons: { code: string }[] }).reasons.map((r) => r.code)).toContain('DENIED_TABLE');
  });

  it('disabled tools are not listed and refused if called', async () => {
    const client = await gw.connect('legacy', E2E_TOKENS.restricted);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['check', 'query', 'status']);
  });

  it('SET LOCAL ROLE applies grants: the reader role cannot read internal even where the policy would', async () => {
    const client = await gw.connect('modern', E2E_TOKENS.reader);
    const out = await callTool(client, 'query', { sql: 'SELECT count(*) FROM internal.api_keys' });
    expect(out.isError).toBe(true);
    expect(codes(out)).toEqual(['PERMISSION_DENIED']);
    const ok = await callTool(client, 'query', { sql: 'SELECT count(*) AS n FROM app.orders' });
    expect(ok.isError).toBe(false);
  });
});

describe('audit', () => {
  it('records every call with principal, decision, codes and normalized SQL only', async () => {
    const client = await gw.connect('legacy');
    const before = gw.auditRecords().length;
    await callTool(client, 'query', { sql: "SELECT id FROM app.customers WHERE email = 'customer0001@mail.test'" });
    await callTool(client, 'query', { sql: "SELECT secret FROM internal.api_keys WHERE service = 'payments'" });
    // reads and refusals are recorded in coalesced batches, after the answer: wait for both
    const mineOf = (rs: Record<string, unknown>[]) => rs.filter((r) => r.principal === 'analyst' && r.tool === 'query');
    await vi.waitFor(() => expect(mineOf(gw.auditRecords().slice(before)).length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 20 });
    const records = gw.auditRecords().slice(before);
    const mine = mineOf(records);
    const raw = JSON.stringify(records);
    expect(raw).not.toContain('customer0001@mail.test');
    expect(raw).not.toContain('payments');
    expect(mine.map((r) => r.decision)).toEqual(expect.arrayContaining(['allowed', 'blocked']));
  });
});

describe('column masking at the source', () => {
  it('no alias or expression reveals a masked value; the result says which columns are masked', async () => {
    const client = await gw.connect('modern', E2E_TOKENS.masked);
    const out = await callTool(client, 'query', {
      sql: "SELECT id, lower(email) AS e, phone AS remark, ssn || '' AS s, to_jsonb(c) AS j FROM app.customers c WHERE id = 1",
    });
    expect(out.isError).toBe(false);
    expect(out.text).not.toContain('customer0001');
    expect(out.text).not.toContain('1037-7919');
    expect(out.text).not.toContain('101-11-4243');
    expect(out.text).toContain('mail.test'); // the email mask keeps the domain
    expect(out.text).toContain('7919'); // the partial mask keeps the last 4
    expect(out.structured.masked).toEqual(expect.arrayContaining(['app.customers.email', 'app.customers.phone', 'app.customers.ssn']));
  });

  it('hash masks are stable (joins and GROUP BY still work) and describe marks masked columns with masked samples', async () => {
    const client = await gw.connect('legacy', E2E_TOKENS.masked);
    const a = await callTool(client, 'query', { sql: 'SELECT full_name FROM app.customers WHERE id = 7' });
    const b = await callTool(client, 'query', { sql: 'SELECT full_name FROM app.customers WHERE id = 7' });
    expect(a.structured.rows).toEqual(b.structured.rows);
    expect(JSON.stringify(a.structured.rows)).not.toMatch(/Lovelace|Hopper|Turing|Dijkstra|Liskov|Knuth|Allen|Thompson|Hamilton|Wirth/);
    const d = await callTool(client, 'describe', { table: 'app.customers' });
    expect(d.isError).toBe(false);
    const cols = d.structured.columns as { name: string; masked: boolean }[];
    expect(cols.find((c) => c.name === 'email')?.masked).toBe(true);
    expect(cols.find((c) => c.name === 'country')?.masked).toBe(false);
    expect(d.text).not.toMatch(/customer000\d@/);
    expect(d.text).not.toMatch(/\d{3}-\d{2}-\d{4}/);
  });

  it('check reports a masking refusal as query does (same decision, codes and messages)', async () => {
    const client = await gw.connect('modern', E2E_TOKENS.masked);
    for (const sql of ["SELECT 'app.customers'::regclass", "SELECT pg_relation_size('app.customers')"]) {
      const q = await callTool(client, 'query', { sql });
      const c = await callTool(client, 'check', { sql });
      expect(q.isError, sql).toBe(true);
      expect(c.isError).toBe(false);
      expect(c.structured.decision, sql).toBe('block');
      const reasons = (x: { structured: Record<string, unknown> }): unknown => (x.structured.reasons as { code: string; message: string }[]).map((r) => [r.code, r.message]);
      expect(reasons(c), sql).toEqual(reasons(q));
    }
    const fine = await callTool(client, 'check', { sql: "SELECT upper('customers'), count(*) FROM app.customers" });
    expect(fine.structured.decision).toBe('allow');
  });

  it('an error cannot echo a masked value', async () => {
    const client = await gw.connect('modern', E2E_TOKENS.masked);
    const out = await callTool(client, 'query', { sql: 'SELECT ssn::int FROM app.customers WHERE id = 3' });
    expect(out.isError).toBe(true);
    expect(out.text).not.toContain('103-13-2729');
    expect(out.structured.position).toBeUndefined();
  });
});
