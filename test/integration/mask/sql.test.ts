/**
 * The masking rewrite against a real PostgreSQL (the harness server: 18 by default, 15 with
 * PGWARDEN_TEST_PG_BIN): masks computed in SQL equal the reference implementation for every
 * row, the hash key blocks never appear in EXPLAIN output, errors carry masked values only,
 * inheritance children are masked, types are kept, and the catalog loads columns/ancestors.
 * Runs through the real hardened read path (DatabasePool.runRead) as the gateway's login role.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, databasePolicySchema, databaseSchema, type DatabasePolicy } from '../../../src/config/schema.js';
import { loadCatalog } from '../../../src/db/catalog.js';
import { DatabasePool } from '../../../src/db/pool.js';
import { createGuard, type Guard } from '../../../src/guard/index.js';
import type { CatalogSnapshot } from '../../../src/guard/types.js';
import { Masker, deriveMaskKey, maskText, type MaskPlan } from '../../../src/mask/index.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';
import { adminQuery } from '../db/helpers.js';
import { testDatabase } from '../../support/pg.js';

const HASH_KEY = 'integration-mask-key-0123456789';
const SEARCH_PATH = ['app'];
const MASKS = {
  'app.customers.email': { mask: 'email' },
  'app.customers.phone': { mask: 'partial', keep_last: 4 },
  'app.customers.ssn': { mask: 'hash' },
  'app.customers.full_name': { mask: 'redact' },
  'app.orders.shipping_address': { mask: 'null' },
  'app.labels.code': { mask: 'redact', value: 'X' },
};

let db: ScratchDatabase;
let pool: DatabasePool;
let catalog: CatalogSnapshot;
let guard: Guard;
const masker = new Masker({ hashKey: HASH_KEY });
const key = deriveMaskKey(HASH_KEY);
const policy: DatabasePolicy = databasePolicySchema.parse({ schemas: ['app'], tables: { deny: ['internal.*'] }, masks: MASKS });

beforeAll(async () => {
  db = await createScratchDatabase();
  await adminQuery(
    db.databaseUrl,
    `CREATE TABLE app.customers_vip (tier text) INHERITS (app.customers);
     INSERT INTO app.customers_vip VALUES (9001, 'Vip Person', 'vip9001@vip.example', '+1-555-9001-0001', '900-10-0001', 'US', 'Austin', now(), true, '{}', 'gold');
     CREATE TABLE app.labels (id int PRIMARY KEY, code varchar(12), n numeric(6,2));
     INSERT INTO app.labels VALUES (1, 'SECRETCODE', 1.5);
     GRANT SELECT ON app.customers_vip, app.labels TO ${testDatabase().gatewayRole};`,
  );
  pool = new DatabasePool(databaseSchema.parse({ url: db.gatewayUrl, search_path: SEARCH_PATH }), {});
  catalog = await loadCatalog(pool, 1);
  guard = await createGuard({ cacheSize: 100, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function plan(sql: string, tool: 'query' | 'explain' = 'query'): MaskPlan {
  const decision = guard.decide({ sql, tool, principal: 'p', database: 'd', policy, observe: false, policyName: 'masked', searchPath: SEARCH_PATH, catalog, policyVersion: 1 });
  if (decision.decision !== 'allow') throw new Error(`guard refused: ${decision.reasons.map((r) => r.code).join(',')}`);
  return masker.plan({ decision, policy, catalog, searchPath: SEARCH_PATH });
}

async function run(sql: string, explain?: { analyze: boolean }): Promise<{ rows: unknown[][]; columns: { name: string; type: string }[]; plan?: unknown }> {
  const p = plan(sql, explain ? 'explain' : 'query');
  if (!p.ok) throw new Error(`refused: ${p.reasons.map((r) => r.message).join('; ')}`);
  return await pool.runRead({ sql: p.rewritten ? p.sql : sql, ...(p.rewritten ? { params: p.params } : {}), limits: { ...DEFAULT_LIMITS, max_rows: 10_000 }, searchPath: SEARCH_PATH, ...(explain ? { explain } : {}) });
}

describe('catalog: columns and ancestors', () => {
  it('lists columns in attnum order with pg_catalog-qualified types, and inheritance ancestors', () => {
    expect(catalog.relations.get('app.customers')?.columns?.map((c) => c.name)).toEqual([
      'id', 'full_name', 'email', 'phone', 'ssn', 'country', 'city', 'signed_up', 'marketing_opt_in', 'profile',
    ]);
    expect(catalog.relations.get('app.labels')?.columns?.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: 'id', type: 'integer' }, { name: 'code', type: 'character varying(12)' }, { name: 'n', type: 'numeric(6,2)' },
    ]);
    expect(catalog.relations.get('app.customers_vip')?.ancestors).toEqual(['app.customers']);
    expect(catalog.relations.get('app.customer_notes')?.columns?.map((c) => c.name)).toEqual(['id', 'full_name', 'note']);
    expect(catalog.relations.get('pg_catalog.pg_class')?.columns).toBeUndefined();
  });
});

describe('masks computed in SQL', () => {
  it('equal the reference implementation for every row (hash = HMAC-SHA-256 with the derived key)', async () => {
    const raw = await adminQuery<{ id: string; email: string; phone: string | null; ssn: string | null; full_name: string }>(
      db.databaseUrl,
      'SELECT id, email, phone, ssn, full_name FROM ONLY app.customers ORDER BY id',
    );
    const res = await run('SELECT id, email, phone, ssn, full_name FROM ONLY app.customers ORDER BY id');
    expect(res.rows).toHaveLength(raw.length);
    const spec = (k: keyof typeof MASKS) => databasePolicySchema.parse({ masks: { [k]: MASKS[k] } }).masks[k] as never;
    raw.forEach((r, i) => {
      expect(res.rows[i]).toEqual([
        Number(r.id),
        maskText(spec('app.customers.email'), r.email, key),
        maskText(spec('app.customers.phone'), r.phone, key),
        maskText(spec('app.customers.ssn'), r.ssn, key),
        maskText(spec('app.customers.full_name'), r.full_name, key),
      ]);
    });
  });

  it('hashes are stable across statements and usable as join and group keys', async () => {
    const a = await run('SELECT ssn FROM app.customers WHERE id = 7');
    const b = await run('SELECT c2.ssn FROM app.customers c1 JOIN app.customers c2 ON c1.ssn = c2.ssn WHERE c1.id = 7');
    expect(b.rows).toEqual(a.rows);
    const g = await run('SELECT count(DISTINCT ssn) FROM app.customers');
    expect(Number(g.rows[0]?.[0])).toBeGreaterThan(150);
  });

  it('keeps column types: varchar(n) stays varchar, null masks keep the type', async () => {
    const r = await run('SELECT code, pg_typeof(code)::text, n FROM app.labels');
    expect(r.rows[0]).toEqual(['X', 'character varying', '1.50']);
    const o = await run('SELECT shipping_address, pg_typeof(shipping_address)::text FROM app.orders WHERE id = 1');
    expect(o.rows[0]).toEqual([null, 'text']);
  });

  it('masks inheritance children read directly and through the parent', async () => {
    const child = await run('SELECT email, ssn, tier FROM app.customers_vip');
    expect(child.rows[0]?.[0]).toBe('***@vip.example');
    expect(child.rows[0]?.[1]).not.toContain('900-10');
    const parent = await run('SELECT email FROM app.customers WHERE id = 9001');
    expect(parent.rows).toEqual([['***@vip.example']]);
    const only = await run('SELECT count(*) FROM ONLY app.customers WHERE id = 9001');
    expect(Number(only.rows[0]?.[0])).toBe(0);
  });
});

describe('the masked projection keeps query meaning (issue #9 item 6)', () => {
  /**
   * Differential: the same statement run directly (admin) on a copy of the data whose masked
   * columns hold the masked values must give the same rows. The copy is a scratch schema built
   * from the masked projection itself (the SQL mask expressions), so only masked values differ.
   */
  // cells compared in text form (the read path returns bigint counts as numbers, a plain client as strings)
  const sorted = (rows: unknown[][]): string[] => rows.map((r) => JSON.stringify(r.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))))).sort();
  const direct = async (sql: string): Promise<unknown[][]> => {
    const c = new pg.Client({ connectionString: db.databaseUrl });
    await c.connect();
    try {
      await c.query('SET search_path = masked_copy, app');
      return (await c.query({ text: sql, rowMode: 'array' })).rows as unknown[][];
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    const projection = plan('SELECT * FROM app.customers');
    if (!projection.ok || !projection.rewritten) throw new Error('expected a rewrite');
    const orders = plan('SELECT * FROM app.orders');
    if (!orders.ok || !orders.rewritten) throw new Error('expected a rewrite');
    const c = new pg.Client({ connectionString: db.databaseUrl });
    await c.connect();
    try {
      await c.query('DROP SCHEMA IF EXISTS masked_copy CASCADE; CREATE SCHEMA masked_copy');
      await c.query(`CREATE TABLE masked_copy.customers AS ${projection.sql}`, [...projection.params]);
      await c.query('ALTER TABLE masked_copy.customers ADD PRIMARY KEY (id)');
      await c.query(`CREATE TABLE masked_copy.orders AS ${orders.sql}`, [...orders.params]);
      await c.query('ALTER TABLE masked_copy.orders ADD PRIMARY KEY (id)');
    } finally {
      await c.end();
    }
  });

  for (const [sql, copySql] of [
    [
      'SELECT c.id, c.full_name, count(*) FROM app.customers c JOIN app.orders o ON o.customer_id = c.id GROUP BY c.id',
      'SELECT c.id, c.full_name, count(*) FROM masked_copy.customers c JOIN masked_copy.orders o ON o.customer_id = c.id GROUP BY c.id',
    ],
    ['SELECT id, email, ssn FROM app.customers GROUP BY id HAVING count(*) = 1', 'SELECT id, email, ssn FROM masked_copy.customers GROUP BY id HAVING count(*) = 1'],
    [
      'SELECT c.country, count(DISTINCT c.ssn), min(c.phone) FROM app.customers c GROUP BY c.country',
      'SELECT c.country, count(DISTINCT c.ssn), min(c.phone) FROM masked_copy.customers c GROUP BY c.country',
    ],
    [
      "SELECT o.status, count(*) FROM app.orders o JOIN app.customers c ON c.id = o.customer_id WHERE c.email LIKE '%mail.test' GROUP BY o.status",
      "SELECT o.status, count(*) FROM masked_copy.orders o JOIN masked_copy.customers c ON c.id = o.customer_id WHERE c.email LIKE '%mail.test' GROUP BY o.status",
    ],
  ] as const) {
    it(`same rows as on masked data: ${sql}`, async () => {
      const got = await run(sql);
      expect(sorted(got.rows)).toEqual(sorted(await direct(copySql)));
      expect(got.rows.length).toBeGreaterThan(0);
    });
  }
});

describe('no key material or raw value in plans and errors', () => {
  const blocks = [key.ipadHex.slice(0, 32), key.opadHex.slice(0, 32)];

  it('EXPLAIN and EXPLAIN ANALYZE of hash-masked predicates, sorts and groups never print the key blocks', async () => {
    for (const sql of [
      "SELECT * FROM app.customers WHERE ssn = 'abc' ORDER BY ssn",
      'SELECT ssn, count(*) FROM app.customers GROUP BY ssn',
      'SELECT a.id FROM app.customers a JOIN app.customers b ON a.ssn = b.ssn',
    ]) {
      for (const analyze of [false, true]) {
        const out = JSON.stringify((await run(sql, { analyze })).plan);
        for (const b of blocks) expect(out).not.toContain(b);
        expect(out).not.toContain('101-11-');
      }
    }
  });

  it('EXPLAIN VERBOSE would print them (why it is refused): the check above can fail', async () => {
    const p = plan('SELECT ssn FROM app.customers WHERE id = 1');
    if (!p.ok || !p.rewritten) throw new Error('expected a rewrite');
    const rows = await adminQuery<{ 'QUERY PLAN': string }>(db.databaseUrl, `EXPLAIN (VERBOSE) ${p.sql}`, [...p.params]);
    expect(JSON.stringify(rows)).toContain(key.ipadHex.slice(0, 32));
    const refused = plan('EXPLAIN (VERBOSE) SELECT ssn FROM app.customers');
    expect(refused.ok).toBe(false);
  });

  it('a failing cast reports the masked value, never the raw one', async () => {
    const err = await run('SELECT ssn::int FROM app.customers').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeDefined();
    const text = JSON.stringify({ message: err?.message, ...(err as object) });
    expect(text).not.toMatch(/\d{3}-\d{2}-\d{4}/);
    const phone = await run("SELECT phone::int FROM app.customers WHERE id = 1").catch((e: unknown) => e as Error);
    expect(JSON.stringify({ m: (phone as Error).message })).not.toContain('1037');
  });
});
