/**
 * The leak corpus (test/corpus/leaks/*.yaml, ≥ 60 statements) against seeded deterministic PII:
 * the raw values are read from the database as an admin, and no output byte — rows, errors,
 * plans, describe samples — may carry a raw value or a reversible transform of one (see
 * test/corpus/leaks/check.ts for the exact rule).
 *
 * Two runs:
 * - through the real gateway (MCP client over HTTP, `query` / `explain` / `describe` tools), once
 *   src/core wires the masker (the run is skipped, visibly, until src/core/gateway.ts imports
 *   src/mask);
 * - directly: guard → Masker.plan → the hardened read path (DatabasePool.runRead) as the
 *   gateway's login role, plus the rewritten text over a plain connection so that the database's
 *   UNSANITIZED error message, detail, hint and context are checked too (masking must hold
 *   without the error sanitizer).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, databasePolicySchema, databaseSchema, type DatabasePolicy } from '../../../src/config/schema.js';
import { loadCatalog } from '../../../src/db/catalog.js';
import { DatabasePool } from '../../../src/db/pool.js';
import { REASONS, createGuard, type Guard } from '../../../src/guard/index.js';
import { scanSync } from 'libpg-query';
import type { CatalogSnapshot } from '../../../src/guard/types.js';
import { Masker, deriveMaskKey, maskText } from '../../../src/mask/index.js';
import { LeakChecker } from '../../corpus/leaks/check.js';
import { LEAK_MASKS, loadLeakCorpus, type LeakCase } from '../../corpus/leaks/index.js';
import { callTool, e2eConfigInput, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';
import { adminQuery } from '../db/helpers.js';

const HASH_KEY = 'leak-corpus-mask-key-0123456789';
const SEARCH_PATH = ['app'];
const CASES = loadLeakCorpus();
const WIRED = /from '\.\.\/mask\/index\.js'/.test(readFileSync(new URL('../../../src/core/gateway.ts', import.meta.url), 'utf8'))
  || /from '\.\.\/mask\/index\.js'/.test(readFileSync(new URL('../../../src/app/runtime.ts', import.meta.url), 'utf8'));

const policyInput = {
  mode: 'read-only',
  schemas: ['app'],
  tables: { deny: ['internal.*'] },
  limits: { max_rows: 500, statement_timeout_ms: 5000 },
  masks: LEAK_MASKS,
};

let db: ScratchDatabase;
let checker: LeakChecker;

beforeAll(async () => {
  db = await createScratchDatabase();
  const customers = await adminQuery<{ email: string; phone: string | null; ssn: string | null; full_name: string }>(
    db.databaseUrl,
    'SELECT email, phone, ssn, full_name FROM app.customers',
  );
  const orders = await adminQuery<{ shipping_address: string | null }>(db.databaseUrl, 'SELECT shipping_address FROM app.orders');
  const policy = databasePolicySchema.parse(policyInput);
  const key = deriveMaskKey(HASH_KEY);
  const raw: string[] = [];
  const designed: string[] = [];
  const add = (col: keyof typeof LEAK_MASKS, v: string | null): void => {
    if (v === null) return;
    raw.push(v);
    const m = maskText(policy.masks[col] as never, v, key);
    if (m !== null) designed.push(m);
  };
  for (const c of customers) {
    add('app.customers.email', c.email);
    add('app.customers.phone', c.phone);
    add('app.customers.ssn', c.ssn);
    add('app.customers.full_name', c.full_name);
  }
  for (const o of orders) add('app.orders.shipping_address', o.shipping_address);
  const idents = await adminQuery<{ n: string }>(
    db.databaseUrl,
    `SELECT relname AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname IN ('app', 'internal')
     UNION SELECT attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname IN ('app', 'internal')
     UNION SELECT nspname FROM pg_namespace UNION SELECT proname FROM pg_proc
     UNION SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'app'::regnamespace
     UNION SELECT pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'app'::regnamespace`,
  );
  // unmasked values the policy lets the agent read anyway (text form and the gateway's JSON form)
  const unmasked = await adminQuery<{ v: string }>(
    db.databaseUrl,
    `SELECT DISTINCT v FROM (
       SELECT unnest(ARRAY[id::text, country, city, signed_up::text, marketing_opt_in::text, profile::text]) AS v FROM app.customers
       UNION ALL SELECT unnest(ARRAY[id::text, customer_id::text, status, placed_at::text, shipped_at::text, total_cents::text]) FROM app.orders
       UNION ALL SELECT unnest(ARRAY[id::text, sku, name, category, price_cents::text, tags::text]) FROM app.products) x
     WHERE v IS NOT NULL`,
  );
  const publicText = [
    ...idents.map((i) => i.n),
    ...unmasked.map((u) => u.v),
    ...unmasked.map((u) => (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00$/.test(u.v) ? new Date(u.v.replace(' ', 'T').replace('+00', 'Z')).toISOString() : '')),
    ...(await planVocabulary(db.databaseUrl)),
    ...Object.values(REASONS).flatMap((r) => [r.summary, r.fix]),
    ...GATEWAY_WORDS,
  ];
  checker = new LeakChecker({ raw, designed, publicText });
  expect(raw.length).toBeGreaterThan(800);
  expect(checker.size).toBeGreaterThan(10_000);
});

afterAll(async () => {
  await db?.drop();
});

/** Letter-only words from EXPLAIN (ANALYZE, FORMAT JSON) of statements over unmasked tables. */
async function planVocabulary(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const words = new Set<string>();
    for (const sql of [
      'SELECT category, count(*) FROM app.products GROUP BY category ORDER BY 2 DESC',
      'SELECT p.id FROM app.products p JOIN app.order_items i ON i.product_id = p.id WHERE p.sku LIKE $$S%$$',
      'SELECT DISTINCT ON (kind) kind FROM app.events ORDER BY kind, at',
      'SELECT * FROM app.products WHERE id IN (SELECT product_id FROM app.order_items) LIMIT 3',
    ]) {
      const r = await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`);
      for (const m of JSON.stringify(r.rows).matchAll(/"([A-Za-z ]{4,})"/g)) words.add(m[1] as string);
    }
    return [...words];
  } finally {
    await c.end();
  }
}

/** Keys and fixed words of the gateway's JSON results. */
const GATEWAY_WORDS = [
  'shop', 'analyst', 'database', 'columns', 'rows', 'rowCount', 'truncated', 'truncatedBy', 'masked', 'elapsedMs', 'decision', 'reasons',
  'code', 'message', 'fix', 'requestId', 'sqlstate', 'position', 'plan', 'sample', 'schema', 'name', 'kind', 'type', 'nullable',
  'description', 'estimatedRows', 'primaryKey', 'foreignKeys', 'indexes', 'definition', 'references', 'table', 'observed', 'notice', 'mask',
  'block', 'error', 'allow', 'hold', 'CREATE UNIQUE INDEX ', ' USING btree ', 'PRIMARY KEY ', 'FOREIGN KEY ', ' REFERENCES ', ' ON DELETE ', ' ON UPDATE ',
  ' CASCADE', ' NOT NULL', ' DEFAULT ',
];

/** Identifiers and keywords of a statement (not its string literals). */
function statementWords(sql: string | undefined): string[] {
  if (sql === undefined) return [];
  const scanned = scanSync(sql) as { tokens: { text: string; tokenName: string }[] };
  return scanned.tokens.filter((t) => t.tokenName === 'IDENT' || t.tokenName === 'UNKNOWN' || /KEYWORD/.test(t.tokenName)).map((t) => t.text);
}

function leaksIn(raw: string, c: LeakCase): string[] {
  // request ids are random UUIDs generated by the gateway (their digit-dash groups look like SSN pieces)
  const output = raw.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>');
  const isPlan = c.tool === 'explain' || /^\s*explain\b/i.test(c.sql ?? '');
  return checker
    .check(output, { statementWords: statementWords(c.sql), ...(isPlan && c.sql !== undefined ? { echoedStatement: c.sql } : {}) })
    .map((f) => `${JSON.stringify(f.fragment)} in …${f.context}…`);
}

describe('leak corpus', () => {
  it('has at least 60 statements covering every route', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c.class)).size).toBeGreaterThanOrEqual(7);
  });

  it('the checker finds raw values and their transforms (it can fail)', () => {
    for (const leaked of ['{"rows":[["customer0001@mail.test"]]}', 'TSET.LIAM@1000REMOTSUC', 'x customer0042 y', '"+1-555-1037"', '155510377919', 'Lovelace']) {
      expect(checker.check(leaked), leaked).not.toEqual([]);
    }
    for (const designed of ['***@mail.test', '***7919', 'tset.liam@***', '2024-01-11T00:00:00.000Z', '{"requestId":"<uuid>"}']) {
      expect(checker.check(designed), designed).toEqual([]);
    }
  });
});

describe.skipIf(!WIRED)('leak corpus through the real gateway (MCP over HTTP)', () => {
  let gw: E2eGateway;
  beforeAll(async () => {
    gw = await startE2eGateway({
      configInput: (auditPath) => {
        const base = e2eConfigInput(db.gatewayUrl, auditPath);
        return {
          ...base,
          masking: { hash_key: HASH_KEY },
          policies: { ...(base.policies as Record<string, unknown>), analyst: { databases: { shop: policyInput } } },
        };
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  for (const c of CASES) {
    it(`${c.id}: ${c.why}`, async () => {
      const client = await gw.connect('modern');
      const args: Record<string, unknown> =
        c.tool === 'describe' ? { table: c.table } : c.tool === 'explain' ? { sql: c.sql, analyze: c.analyze } : { sql: c.sql };
      const out = await callTool(client, c.tool, args);
      const text = `${out.text}\n${JSON.stringify(out.structured)}`;
      expect(leaksIn(text, c)).toEqual([]);
      if (c.expect === 'rows') {
        expect(out.isError, text.slice(0, 400)).toBe(false);
        if (c.tool === 'query') expect((out.structured.masked as string[]).length).toBeGreaterThan(0);
      }
      if (c.expect === 'refused') expect(out.isError, text.slice(0, 400)).toBe(true);
      if (c.codes.length > 0) {
        const codes = ((out.structured.reasons as { code: string }[] | undefined) ?? []).map((r) => r.code);
        for (const code of c.codes) expect(codes).toContain(code);
      }
      if (c.tool === 'describe' && !out.isError) {
        const cols = out.structured.columns as { name: string; masked: boolean }[];
        expect(cols.filter((x) => x.masked).length).toBeGreaterThan(0);
      }
    });
  }
});

describe('leak corpus directly (guard → Masker → hardened read), unsanitized errors included', () => {
  let pool: DatabasePool;
  let plain: pg.Client;
  let catalog: CatalogSnapshot;
  let guard: Guard;
  let policy: DatabasePolicy;
  const masker = new Masker({ hashKey: HASH_KEY });

  beforeAll(async () => {
    pool = new DatabasePool(databaseSchema.parse({ url: db.gatewayUrl, search_path: SEARCH_PATH }), {});
    catalog = await loadCatalog(pool, 1);
    guard = await createGuard({ cacheSize: 1000, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
    policy = databasePolicySchema.parse(policyInput);
    plain = new pg.Client({ connectionString: db.gatewayUrl });
    plain.on('error', () => undefined);
    await plain.connect();
    await plain.query('SET search_path = app');
  });
  afterAll(async () => {
    await plain?.end();
    await pool?.end();
  });

  async function runCase(c: LeakCase): Promise<{ ok: boolean; output: string }> {
    if (c.tool === 'describe') {
      const [schema, name] = (c.table as string).split('.') as [string, string];
      const s = masker.describeSample({ policy, catalog, searchPath: SEARCH_PATH, schema, name, limit: 3 });
      if (!s.ok) return { ok: false, output: JSON.stringify(s.reasons) };
      const r = await pool.runRead({ sql: s.sql, params: s.params, limits: { ...DEFAULT_LIMITS }, searchPath: SEARCH_PATH });
      return { ok: true, output: JSON.stringify({ ...r, masked: s.masked }) };
    }
    const sql = c.sql as string;
    const tool = c.tool === 'explain' ? 'explain' : 'query';
    const decision = guard.decide({ sql, tool, principal: 'agent', database: 'shop', policy, observe: false, policyName: 'analyst', searchPath: SEARCH_PATH, catalog, policyVersion: 1, ...(c.analyze ? { analyze: true } : {}) });
    if (decision.decision !== 'allow') return { ok: false, output: JSON.stringify(decision.reasons) };
    const plan = masker.plan({ decision, policy, catalog, searchPath: SEARCH_PATH });
    if (!plan.ok) return { ok: false, output: JSON.stringify(plan.reasons) };
    const text = plan.rewritten ? plan.sql : sql;
    const params = plan.rewritten ? [...plan.params] : [];
    let output = '';
    let ok = true;
    try {
      const r = await pool.runRead({ sql: text, params, limits: { ...DEFAULT_LIMITS }, searchPath: SEARCH_PATH, ...(c.tool === 'explain' ? { explain: { analyze: c.analyze } } : {}) });
      output = JSON.stringify(r);
    } catch (err) {
      ok = false;
      output = JSON.stringify({ message: (err as Error).message, err });
    }
    // the same text over a plain connection: the database's own, unsanitized error fields
    const prefix = c.tool === 'explain' ? `EXPLAIN (FORMAT JSON${c.analyze ? ', ANALYZE' : ''}) ` : '';
    try {
      await plain.query('BEGIN READ ONLY');
      const r = await plain.query({ text: prefix + text, values: params, rowMode: 'array' });
      output += JSON.stringify(r.rows);
    } catch (err) {
      const e = err as pg.DatabaseError;
      output += JSON.stringify({ message: e.message, detail: e.detail, hint: e.hint, where: e.where, internalQuery: e.internalQuery });
    } finally {
      await plain.query('ROLLBACK').catch(() => undefined);
    }
    return { ok, output };
  }

  for (const c of CASES) {
    it(`${c.id}: ${c.why}`, async () => {
      const r = await runCase(c);
      expect(leaksIn(r.output, c)).toEqual([]);
      if (c.expect === 'rows') expect(r.ok, r.output.slice(0, 400)).toBe(true);
      if (c.expect === 'refused') expect(r.ok, r.output.slice(0, 400)).toBe(false);
      for (const code of c.codes) expect(r.output).toContain(`"code":"${code}"`);
    });
  }
});
