import { beforeAll, describe, expect, it } from 'vitest';
import { parseSync } from 'libpg-query';
import { MaskHarness, maskPolicy, rawReads } from './fixtures.js';
import type { MaskPlan } from '../../../src/mask/index.js';

let h: MaskHarness;
beforeAll(async () => {
  h = await MaskHarness.create();
});

const MASKED = { 'app.customers': ['email', 'phone', 'ssn', 'full_name'], 'app.orders': ['shipping_address'], 'app.customers_eu': ['email', 'phone', 'ssn', 'full_name'] };

function rewritten(sql: string): Extract<MaskPlan, { rewritten: true }> {
  const { plan } = h.plan(sql);
  if (!plan.ok) throw new Error(`refused: ${plan.reasons.map((r) => `${r.code} ${r.message}`).join('; ')}`);
  if (!plan.rewritten) throw new Error('not rewritten');
  expect(rawReads(plan.sql, MASKED)).toEqual([]);
  return plan;
}

function refusal(sql: string, policy = maskPolicy()): string[] {
  const { plan } = h.plan(sql, policy);
  if (plan.ok) throw new Error(`expected a refusal for ${sql}`);
  return plan.reasons.map((r) => r.code);
}

describe('mask plan: statements that read no masked relation', () => {
  it('leaves them untouched (rewritten: false), so the original text runs', () => {
    for (const sql of ['SELECT 1', 'SELECT id, sku FROM app.products', 'SELECT * FROM app.order_items', 'WITH customers AS (SELECT 1 AS id) SELECT * FROM customers']) {
      expect(h.plan(sql).plan, sql).toEqual({ ok: true, rewritten: false, masked: [] });
    }
  });

  it('returns at once when the policy has no masks, even for masked tables', () => {
    const { plan } = h.plan('SELECT email FROM app.customers', maskPolicy({ masks: {} }));
    expect(plan).toEqual({ ok: true, rewritten: false, masked: [] });
  });
});

describe('mask plan: every range position is rewritten', () => {
  const shapes: [string, string][] = [
    ['plain', 'SELECT email FROM app.customers'],
    ['unqualified via search_path', 'SELECT email FROM customers'],
    ['alias + column aliases', 'SELECT c.e FROM app.customers AS c(i, n, e)'],
    ['star and whole row', 'SELECT c.*, row_to_json(c), c::text, to_jsonb(c) FROM app.customers c'],
    ['join', 'SELECT o.id, c.email FROM app.orders o JOIN app.customers c ON c.id = o.customer_id'],
    ['using / natural', 'SELECT * FROM app.orders JOIN app.customers USING (id) NATURAL JOIN app.products'],
    ['subquery', 'SELECT * FROM (SELECT email AS x FROM app.customers) s'],
    ['sublink in WHERE', "SELECT id FROM app.orders WHERE customer_id IN (SELECT id FROM app.customers WHERE ssn LIKE '1%')"],
    ['scalar sublink in target', 'SELECT (SELECT email FROM app.customers c WHERE c.id = o.customer_id) FROM app.orders o'],
    ['exists', 'SELECT 1 WHERE EXISTS (SELECT 1 FROM customers WHERE phone IS NOT NULL)'],
    ['cte', 'WITH x AS (SELECT * FROM app.customers) SELECT * FROM x'],
    ['recursive cte', 'WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM customers WHERE id = 1 UNION ALL SELECT n + 1, e FROM r WHERE n < 3) SELECT * FROM r'],
    ['set operation', 'SELECT email FROM app.customers UNION SELECT ssn FROM app.customers EXCEPT SELECT status FROM app.orders'],
    ['lateral', 'SELECT o.id, l.email FROM app.orders o, LATERAL (SELECT email FROM app.customers c WHERE c.id = o.customer_id) l'],
    ['TABLE', 'TABLE app.customers'],
    ['ONLY', 'SELECT email FROM ONLY app.customers'],
    ['tablesample', 'SELECT email FROM app.customers TABLESAMPLE BERNOULLI (50) REPEATABLE (3)'],
    ['window', 'SELECT email, row_number() OVER (PARTITION BY ssn ORDER BY phone) FROM app.customers'],
    ['group/order/distinct on', 'SELECT DISTINCT ON (email) email, count(*) OVER () FROM app.customers GROUP BY email ORDER BY email'],
    ['aggregates', "SELECT string_agg(email, ','), array_agg(ssn), json_agg(c) FROM app.customers c"],
    ['explain', 'EXPLAIN SELECT email FROM app.customers'],
    ['explain analyze', 'EXPLAIN (ANALYZE, FORMAT JSON) SELECT email FROM app.customers'],
    ['values join', 'SELECT * FROM (VALUES (1)) v(id) JOIN app.customers USING (id)'],
    ['partition child inherits masks', 'SELECT email, vat FROM app.customers_eu'],
    ['schema-qualified in a CTE-shadowed scope', 'WITH customers AS (SELECT 1 AS id) SELECT c.email FROM app.customers c, customers'],
    ['CTE referencing a later sibling name resolves to the table', 'WITH a AS (SELECT * FROM customers), customers AS (SELECT 1 AS x) SELECT * FROM a'],
    ['nested parentheses join', 'SELECT * FROM (app.orders o JOIN (app.customers c JOIN app.products p ON true) ON true)'],
    ['in FROM of a derived table in JOIN', 'SELECT * FROM app.products p LEFT JOIN (SELECT id, email FROM app.customers) c ON c.id = p.id'],
  ];
  for (const [name, sql] of shapes) {
    it(name, () => {
      const plan = rewritten(sql);
      expect(plan.masked.length).toBeGreaterThan(0);
    });
  }

  it('keeps the alias, the column names and their order', () => {
    const plan = rewritten('SELECT * FROM app.customers AS c WHERE c.id = 1');
    expect(plan.sql).toMatch(/\) AS c WHERE/);
    const inner = plan.sql.slice(plan.sql.indexOf('( SELECT') + 2);
    const order = ['id', 'full_name', 'email', 'phone', 'ssn', 'country', 'city', 'signed_up', 'marketing_opt_in', 'profile'].map((c) =>
      inner.search(new RegExp(`(?:SELECT |, |AS )${c}\\b`)),
    );
    expect(order.every((p, i) => p >= 0 && (i === 0 || p > (order[i - 1] as number)))).toBe(true);
  });

  it('keeps ONLY (and its absence) inside the projection', () => {
    expect(rewritten('SELECT email FROM ONLY app.customers').sql).toContain('FROM ONLY app.customers');
    expect(rewritten('SELECT email FROM app.customers').sql).not.toContain('ONLY');
  });

  it('an unaliased table keeps its name as the alias (customers.email still resolves)', () => {
    expect(rewritten('SELECT customers.email FROM app.customers').sql).toMatch(/\) AS customers$/);
  });

  it('reports the masked columns of every masked relation read', () => {
    expect(rewritten('SELECT o.id FROM app.orders o JOIN app.customers c ON c.id = o.customer_id').masked).toEqual([
      'app.customers.email', 'app.customers.full_name', 'app.customers.phone', 'app.customers.ssn', 'app.orders.shipping_address',
    ]);
  });

  it('does not rewrite a CTE that shadows a masked table name', () => {
    const { plan } = h.plan('WITH customers AS (SELECT 1 AS email) SELECT email FROM customers');
    expect(plan).toEqual({ ok: true, rewritten: false, masked: [] });
  });

  it('does not mutate the decision tree shared with the guard cache', () => {
    const { decision } = h.plan('SELECT email FROM app.customers');
    expect(JSON.stringify(decision.stmt)).not.toContain('RangeSubselect');
  });

  it('the rewritten text parses to one statement and carries no raw column reference of a masked table', () => {
    const plan = rewritten('SELECT lower(email), upper(ssn), reverse(phone), md5(full_name) FROM customers');
    expect(parseSync(plan.sql).stmts).toHaveLength(1);
  });
});

describe('mask plan: fail closed', () => {
  it('refuses views over masked tables (MASKED_VIEW)', () => {
    const policy = maskPolicy({ tables: { deny: [] }, schemas: ['app', 'internal'] });
    expect(refusal('SELECT * FROM app.customer_notes', policy)).toContain('MASKED_VIEW');
  });

  it('refuses views calling user-defined functions that are not trusted', () => {
    const allowed = maskPolicy({ functions: { allow: ['app.cents_to_eur'] } });
    expect(refusal('SELECT * FROM app.priced', allowed)).toContain('MASKED_VIEW');
    const trusted = maskPolicy({ functions: { allow: ['app.cents_to_eur'] }, mask_trusted_functions: ['app.cents_to_eur'] });
    expect(h.plan('SELECT * FROM app.priced', trusted).plan.ok).toBe(true);
  });

  it('refuses untrusted user-defined functions (their bodies could read masked tables)', () => {
    const policy = maskPolicy({ functions: { allow: ['app.cents_to_eur'] } });
    expect(refusal('SELECT app.cents_to_eur(price_cents) FROM app.products', policy)).toContain('FUNCTION_NOT_ALLOWED');
    const trusted = maskPolicy({ functions: { allow: ['app.cents_to_eur'] }, mask_trusted_functions: ['app.cents_to_eur'] });
    expect(h.plan('SELECT app.cents_to_eur(price_cents) FROM app.products', trusted).plan.ok).toBe(true);
  });

  it('refuses masked relations named in strings', () => {
    expect(refusal("SELECT 'app.customers'::regclass")).toContain('MASK_REWRITE_UNSUPPORTED');
    expect(refusal("SELECT pg_relation_size('customers')")).toContain('MASK_REWRITE_UNSUPPORTED');
    expect(refusal("SELECT to_regclass('app.customers')")).toContain('MASK_REWRITE_UNSUPPORTED');
    expect(refusal("SELECT 'app.customers'::text::regclass")).toContain('MASK_REWRITE_UNSUPPORTED');
  });

  it('a literal that is data, not a name, does not count (upper, md5, JSON keys, concat …)', () => {
    for (const sql of [
      "SELECT upper('customers') FROM app.products",
      "SELECT md5('customers'), length('app.customers'), concat('customers', 1)",
      "SELECT jsonb_build_object('customers', count(*)) FROM app.orders",
      "SELECT id FROM app.orders WHERE status <> 'customers'",
    ]) {
      expect(h.plan(sql).plan.ok, sql).toBe(true);
    }
  });

  it('refuses EXPLAIN VERBOSE of hash-masked columns (the plan would print the key blocks)', () => {
    expect(refusal('EXPLAIN (VERBOSE) SELECT ssn FROM app.customers')).toContain('MASK_REWRITE_UNSUPPORTED');
    expect(h.plan('EXPLAIN (VERBOSE) SELECT shipping_address FROM app.orders').plan.ok).toBe(true);
  });

  it('refuses statement-text views under a policy with hash masks', () => {
    // The guard hides them even under catalogs: true (SYSTEM_CATALOG); an operator who opens them
    // by name still cannot use them to read the mask key out of another session's rewritten text.
    expect(() => h.plan('SELECT query FROM pg_stat_activity', maskPolicy({ catalogs: true }))).toThrow(/SYSTEM_CATALOG/);
    const view = maskPolicy({ catalogs: true, tables: { allow: ['pg_catalog.pg_stat_activity'], deny: ['internal.*'] } });
    // (another text: the harness's guard caches decisions per text and a fixed policy version)
    expect(refusal('SELECT a.query FROM pg_stat_activity a', view)).toContain('SYSTEM_CATALOG');
    const fn = maskPolicy({ catalogs: true, functions: { mode: 'denylist', allow: ['pg_catalog.pg_stat_get_backend_activity'] } });
    expect(refusal('SELECT pg_stat_get_backend_activity(1)', fn)).toContain('UNSAFE_FUNCTION');
  });

  it('refuses hash masks without a configured key', async () => {
    const { Masker } = await import('../../../src/mask/index.js');
    const { decision } = h.plan('SELECT ssn FROM app.customers');
    const plan = new Masker({}).plan({ decision, policy: maskPolicy(), catalog: h.catalog, searchPath: ['app', 'public'] });
    expect(plan.ok ? 'ok' : plan.reasons[0]?.code).toBe('MASK_REWRITE_UNSUPPORTED');
  });

  it('refuses statements the deparser cannot reproduce exactly (verified round trip)', () => {
    // pgsql-deparser 18 cannot print JSON_TABLE: the round trip catches it
    expect(refusal("SELECT jt.x FROM app.customers c, JSON_TABLE(c.profile, '$' COLUMNS (x text PATH '$.x')) jt")).toContain('MASK_REWRITE_UNSUPPORTED');
  });

  it('keeps FETCH … WITH TIES and GROUP BY DISTINCT, which pgsql-deparser 18 drops (src/mask/deparse.ts, issue #9 item 6)', () => {
    const sql = (text: string): string => {
      const p = h.plan(text).plan;
      if (!p.ok || !p.rewritten) throw new Error(`expected a rewrite of ${text}`);
      return p.sql;
    };
    expect(sql('SELECT email FROM app.customers ORDER BY id FETCH FIRST 2 ROWS WITH TIES')).toMatch(/ORDER BY id FETCH FIRST \(2\) ROWS WITH TIES$/);
    expect(sql('SELECT email FROM app.customers ORDER BY id OFFSET 1 ROWS FETCH NEXT (1 + 1) ROWS WITH TIES')).toMatch(/ORDER BY id OFFSET \(1\) ROWS FETCH FIRST \(1 \+ 1\) ROWS WITH TIES$/);
    expect(sql('SELECT country, count(*) FROM app.customers GROUP BY DISTINCT ROLLUP (country) HAVING count(*) > 0 ORDER BY 1 LIMIT 3')).toMatch(
      /GROUP BY DISTINCT ROLLUP \(country\) HAVING count\(\*\) > 0 ORDER BY 1 LIMIT 3$/,
    );
    // in a set-operation arm and a sub-select
    expect(sql('(SELECT id FROM app.customers ORDER BY id FETCH FIRST 1 ROW WITH TIES) UNION ALL SELECT id FROM app.orders')).toContain('WITH TIES) UNION ALL');
    expect(sql('SELECT * FROM (SELECT country FROM app.customers GROUP BY DISTINCT country) s')).toMatch(/GROUP BY DISTINCT country \) AS s$/);
    // with a WINDOW clause, OFFSET and a locking clause after it
    expect(sql('SELECT country, rank() OVER w FROM app.customers GROUP BY DISTINCT country WINDOW w AS (ORDER BY country) ORDER BY 1 LIMIT 3 OFFSET 1')).toMatch(
      /GROUP BY DISTINCT country WINDOW w AS \(ORDER BY country\) ORDER BY 1 LIMIT 3 OFFSET 1$/,
    );
  });

  it('refuses a masked relation without a known column list', async () => {
    const { Masker } = await import('../../../src/mask/index.js');
    const catalog = { ...h.catalog, relations: new Map(h.catalog.relations) };
    catalog.relations.set('app.customers', { schema: 'app', name: 'customers', kind: 'table' });
    const { decision } = h.plan('SELECT email FROM app.customers');
    const plan = new Masker({ hashKey: 'x'.repeat(20) }).plan({ decision, policy: maskPolicy(), catalog, searchPath: ['app', 'public'] });
    expect(plan.ok).toBe(false);
  });
});

describe('mask plan: predicates: refuse', () => {
  const strict = (): ReturnType<typeof maskPolicy> =>
    maskPolicy({ masks: { 'app.customers.ssn': { mask: 'hash', predicates: 'refuse' }, 'app.customers.email': { mask: 'email' } } });

  it('allows the column as a plain output column', () => {
    expect(h.plan('SELECT id, ssn, c.ssn AS s FROM app.customers c', strict()).plan.ok).toBe(true);
  });

  for (const sql of [
    "SELECT id FROM app.customers WHERE ssn LIKE '1%'",
    'SELECT id FROM app.customers ORDER BY ssn',
    'SELECT ssn, count(*) FROM app.customers GROUP BY ssn',
    'SELECT lower(ssn) FROM app.customers',
    'SELECT a.id FROM app.customers a JOIN app.customers b ON a.ssn = b.ssn',
    'SELECT * FROM app.customers a JOIN app.customers b USING (ssn)',
    'SELECT * FROM app.customers a NATURAL JOIN app.orders',
    "SELECT count(*) FILTER (WHERE ssn > '5') FROM app.customers",
  ]) {
    it(`refuses: ${sql}`, () => {
      expect(refusal(sql, strict())).toContain('MASKED_COLUMN_PREDICATE');
    });
  }

  it('other masked columns keep predicates (they see masked values)', () => {
    expect(h.plan("SELECT id FROM app.customers WHERE email LIKE '%@mail.test'", strict()).plan.ok).toBe(true);
  });
});

describe('mask plan: scoping details', () => {
  it('a CTE body naming a LATER sibling reads the table (PostgreSQL scoping), so it is masked', () => {
    const plan = rewritten('WITH a AS (SELECT * FROM customers), customers AS (SELECT 1 AS x) SELECT * FROM a');
    expect(plan.sql).toMatch(/WITH a AS \(SELECT \* FROM \( ?SELECT id, CASE/);
  });

  it('in WITH RECURSIVE every CTE name is visible to every body', () => {
    const { plan } = h.plan('WITH RECURSIVE a AS (SELECT * FROM customers), customers AS (SELECT 1 AS email) SELECT * FROM a');
    expect(plan).toEqual({ ok: true, rewritten: false, masked: [] });
  });

  it('a CTE inside a subquery does not shadow the outer FROM', () => {
    const plan = rewritten('SELECT c.email, (WITH customers AS (SELECT 1 AS z) SELECT z FROM customers) FROM customers c');
    expect(plan.masked).toContain('app.customers.email');
  });
});

describe('mask plan: writes to a masked table', () => {
  const rw = (): ReturnType<typeof maskPolicy> => maskPolicy({ mode: 'read-write' });
  const plan = (sql: string): MaskPlan => h.plan(sql, rw(), 'execute').plan;

  it('allows writes that neither set, read nor return masked columns', () => {
    expect(plan('UPDATE app.customers SET city = upper(city) WHERE id = 7').ok).toBe(true);
  });

  it('masks masked tables read by a write (UPDATE … FROM): the write computes over masked values', () => {
    const p = plan("UPDATE app.orders o SET status = 'paid' FROM app.customers c WHERE c.id = o.customer_id AND c.email = o.status");
    expect(p.ok && p.rewritten).toBe(true);
    if (p.ok && p.rewritten) expect(p.sql).toMatch(/FROM \( ?SELECT id, CASE WHEN full_name IS NULL THEN NULL ELSE/);
  });

  // RETURNING is refused by the write rules already; the masker refuses it on its own too
  for (const sql of ['UPDATE app.customers SET city = city WHERE id = 1 RETURNING email', 'UPDATE app.customers SET city = city WHERE id = 1 RETURNING *', 'UPDATE app.customers c SET city = city WHERE id = 1 RETURNING c']) {
    it(`refuses (masker alone): ${sql}`, () => {
      const p = h.masker.planText(sql, { policy: rw(), catalog: h.catalog, searchPath: ['app', 'public'], relations: ['app.customers'] });
      expect(p.ok ? 'ok' : p.reasons.map((r) => r.code)).toContain('MASKED_COLUMN_WRITE');
    });
  }

  for (const sql of [
    "UPDATE app.customers SET city = 'x' WHERE ssn LIKE '1%'",
    "UPDATE app.customers SET email = 'a@b.c' WHERE id = 1",
    "INSERT INTO app.customers VALUES (999, 'n', 'e', 'p', 's', 'c', 'c', now(), false, '{}')",
    "DELETE FROM app.customers WHERE phone = 'x'",
  ]) {
    it(`refuses: ${sql}`, () => {
      const p = plan(sql);
      expect(p.ok ? 'ok' : p.reasons.map((r) => r.code)).toContain('MASKED_COLUMN_WRITE');
    });
  }
});

describe('mask plan: schema-qualified column references', () => {
  it('drop the schema when the table became a sub-select (app.customers.email → customers.email)', () => {
    const plan = rewritten('SELECT app.customers.email, app.customers.* FROM app.customers');
    expect(plan.sql).toMatch(/^SELECT customers\.email, customers\.\* FROM/);
  });

  it('leave aliased and unmasked references alone', () => {
    const plan = rewritten('SELECT app.products.name, c.email FROM app.products, app.customers c');
    expect(plan.sql).toContain('app.products.name');
  });
});

describe('mask plan: inheritance', () => {
  it('masks a parent whose child has masks (a scan of the parent returns the child rows)', () => {
    const policy = maskPolicy({ masks: { 'app.customers_eu.email': { mask: 'redact' } } });
    const { plan } = h.plan('SELECT email FROM app.customers', policy);
    expect(plan.ok && plan.rewritten && plan.masked).toEqual(['app.customers.email']);
  });

  it('a child inherits its parent masks, its own entries win', () => {
    const policy = maskPolicy({ masks: { 'app.customers.email': { mask: 'redact' }, 'app.customers_eu.email': { mask: 'email' } } });
    const { plan } = h.plan('SELECT email FROM app.customers_eu', policy);
    expect(plan.ok && plan.rewritten && plan.sql).toContain("'***@'");
  });
});

describe('mask plan: the hash key is a bind parameter, never statement text (issue #9 item 4)', () => {
  it('plan.sql carries $n placeholders; plan.params carries the padded blocks', async () => {
    const { deriveMaskKey } = await import('../../../src/mask/index.js');
    const { HASH_KEY } = await import('./fixtures.js');
    const key = deriveMaskKey(HASH_KEY);
    const plan = rewritten('SELECT ssn FROM app.customers WHERE id = 1');
    expect(plan.sql).not.toContain(key.ipadHex.slice(0, 16));
    expect(plan.sql).not.toContain(key.opadHex.slice(0, 16));
    expect(plan.sql).toContain('(SELECT CAST($1 AS bytea))');
    expect(plan.sql).toContain('(SELECT CAST($2 AS bytea))');
    expect(plan.params).toEqual([`\\x${key.ipadHex}`, `\\x${key.opadHex}`]);
  });

  it('numbers the key after the statement own parameters (predefined tools bind $1…$n)', () => {
    const sql = 'SELECT ssn FROM app.customers WHERE id = $2 AND country = $1';
    const policy = maskPolicy();
    const p = h.masker.planText(sql, { policy, catalog: h.catalog, searchPath: ['app', 'public'], relations: ['app.customers'] });
    if (!p.ok || !p.rewritten) throw new Error('expected a rewrite');
    expect(p.sql).toContain('CAST($3 AS bytea)');
    expect(p.sql).toContain('CAST($4 AS bytea)');
    expect(p.params).toHaveLength(2);
  });

  it('no hash mask in the relations read, no key parameters', () => {
    const plan = rewritten('SELECT shipping_address FROM app.orders');
    expect(plan.params).toEqual([]);
  });
});

describe('mask plan: GROUP BY a masked table primary key keeps its functional dependency (issue #9 item 6)', () => {
  it('appends the other columns of the projection to a plain GROUP BY that names the key', () => {
    const plan = rewritten('SELECT c.id, c.full_name, count(*) FROM app.customers c JOIN app.orders o ON o.customer_id = c.id GROUP BY c.id');
    expect(plan.sql).toMatch(/GROUP BY c\.id, c\.full_name, c\.email, c\.phone, c\.ssn, c\.country, c\.city, c\.signed_up, c\.marketing_opt_in, c\.profile$/);
  });

  it('unqualified key when the projection is the only FROM item', () => {
    const plan = rewritten('SELECT id, email FROM app.customers GROUP BY id');
    expect(plan.sql).toMatch(/GROUP BY id, customers\.full_name/);
  });

  it('leaves GROUP BY alone without the key, with grouping sets, or over unmasked tables', () => {
    expect(rewritten('SELECT c.country, count(*) FROM app.customers c GROUP BY c.country').sql).toMatch(/GROUP BY c\.country$/);
    expect(rewritten('SELECT c.id, count(*) FROM app.customers c GROUP BY ROLLUP (c.id)').sql).toMatch(/ROLLUP\(c\.id\)$|ROLLUP \(c\.id\)$/);
    expect(h.plan('SELECT p.id, p.name FROM app.products p GROUP BY p.id').plan).toEqual({ ok: true, rewritten: false, masked: [] });
  });
});

describe('mask plan: grouping sets keep the key\'s functional dependency as PostgreSQL does (issue #9 item 6)', () => {
  const ALL_BUT_ID = ['full_name', 'email', 'phone', 'ssn', 'country', 'city', 'signed_up', 'marketing_opt_in', 'profile'];
  const appended = (sql: string): string[] => {
    const out = rewritten(sql).sql;
    return ALL_BUT_ID.filter((c) => new RegExp(`, c\\.${c}(,| ORDER| HAVING|$)`).test(out.slice(out.lastIndexOf('GROUP BY'))));
  };

  it('extends a GROUP BY whose every grouping set contains the key (PostgreSQL intersects the expanded sets)', () => {
    // ROLLUP / CUBE of another column next to the key: the rolled-up column stays out (it is nulled in some sets)
    expect(appended('SELECT c.id, c.full_name, count(*) FROM app.customers c GROUP BY c.id, ROLLUP (c.country)')).toEqual(ALL_BUT_ID.filter((c) => c !== 'country'));
    expect(appended('SELECT c.id, c.email FROM app.customers c GROUP BY c.id, CUBE (c.city, c.country)')).toEqual(ALL_BUT_ID.filter((c) => c !== 'country' && c !== 'city'));
    expect(appended('SELECT c.id, c.email FROM app.customers c GROUP BY GROUPING SETS ((c.id), (c.id, c.city))')).toEqual(ALL_BUT_ID.filter((c) => c !== 'city'));
    expect(rewritten('SELECT c.id, c.email FROM app.customers c GROUP BY GROUPING SETS ((c.id, c.city), (c.id, c.city, c.country))').sql).toMatch(
      /GROUPING SETS \(\(c\.id, c\.city\), \(c\.id, c\.city, c\.country\)\), c\.full_name, c\.email, c\.phone, c\.ssn, c\.signed_up, c\.marketing_opt_in, c\.profile$/,
    );
    // the same column spelled two ways in two sets is one grouping item
    expect(rewritten('SELECT id, email FROM app.customers GROUP BY GROUPING SETS ((customers.id), (id, city))').sql).toMatch(/, customers\.email,/);
    // GROUP BY DISTINCT, an ordinal, a parenthesized list
    expect(appended('SELECT c.id, c.email FROM app.customers c GROUP BY DISTINCT c.id, ROLLUP (c.city, c.city)')).toEqual(ALL_BUT_ID.filter((c) => c !== 'city'));
    expect(appended('SELECT c.id, c.email FROM app.customers c GROUP BY DISTINCT c.id')).toEqual(ALL_BUT_ID);
    expect(appended('SELECT c.id, c.email, count(*) FROM app.customers c GROUP BY 1')).toEqual(ALL_BUT_ID);
    expect(appended('SELECT c.id, c.email FROM app.customers c GROUP BY (c.id, c.city)')).toEqual(ALL_BUT_ID.filter((c) => c !== 'city'));
    // an output name of a set's column counts as that column
    expect(appended('SELECT c.id, c.city AS town FROM app.customers c GROUP BY c.id, ROLLUP (town)')).toEqual(ALL_BUT_ID.filter((c) => c !== 'city'));
  });

  it('leaves it alone where PostgreSQL finds no dependency either (the key is not in every set), or where unsure', () => {
    for (const sql of [
      'SELECT c.id, count(*) FROM app.customers c GROUP BY ROLLUP (c.id)',
      'SELECT c.id, count(*) FROM app.customers c GROUP BY CUBE (c.id, c.city)',
      'SELECT c.id, count(*) FROM app.customers c GROUP BY GROUPING SETS ((c.id), ())',
      'SELECT c.id, count(*) FROM app.customers c GROUP BY GROUPING SETS ((c.id), (c.city))',
      'SELECT c.id, count(*) FROM app.customers c GROUP BY ROLLUP (1)',
      // an output name that is also an input column is the input column (o.status), not c.id
      'SELECT c.id AS status, c.full_name, count(*) FROM app.customers c JOIN app.orders o ON o.customer_id = c.id GROUP BY status',
      // a bare name in two FROM items is ambiguous (42702 on M too); a merged USING column is not c's
      'SELECT c.full_name, count(*) FROM app.customers c JOIN app.orders o ON o.customer_id = c.id GROUP BY id',
      'SELECT full_name, count(*) FROM app.customers c JOIN (SELECT customer_id AS id FROM app.orders) o USING (id) GROUP BY id',
      // a bare name next to a FROM item of unknown columns (a function), a JOIN alias hiding c
      'SELECT full_name, count(*) FROM app.customers c, generate_series(1, 2) g GROUP BY id',
      'SELECT j.full_name FROM (app.customers c JOIN app.orders o ON o.customer_id = c.id) j GROUP BY j.customer_id',
      // an ordinal after a * of unknown columns
      'SELECT g.*, c.id, count(*) FROM app.customers c, generate_series(1, 2) g GROUP BY 2',
    ]) {
      expect(appended(sql), sql).toEqual([]);
    }
  });

  it('resolves the key as PostgreSQL does: an output name, an unqualified column next to other FROM items, an ordinal after *', () => {
    // a bare GROUP BY name is a FROM column first, then an output name (findTargetlistEntrySQL92)
    expect(appended('SELECT c.id AS k, c.full_name, count(*) FROM app.customers c JOIN app.orders o ON o.customer_id = c.id GROUP BY k')).toEqual(ALL_BUT_ID);
    expect(appended('SELECT id AS k, full_name FROM app.customers c GROUP BY k')).toEqual(ALL_BUT_ID);
    // an unqualified column that only c has
    expect(appended('SELECT full_name, country, count(*) FROM app.customers c JOIN (SELECT customer_id AS cid FROM app.orders) o ON o.cid = c.id GROUP BY id')).toEqual(ALL_BUT_ID);
    expect(appended('SELECT full_name, email, count(*) FROM app.customers c, app.products p GROUP BY full_name, c.id')).toEqual(ALL_BUT_ID.filter((c) => c !== 'full_name'));
    // ordinals after * (expanded with the catalog's column lists)
    expect(appended('SELECT c.*, count(*) FROM app.customers c GROUP BY 1')).toEqual(ALL_BUT_ID);
    expect(appended('SELECT o.id AS oid, c.*, count(*) FROM app.customers c JOIN app.orders o ON o.customer_id = c.id GROUP BY 2, 1')).toEqual(ALL_BUT_ID);
    expect(appended('SELECT *, 1 FROM app.customers c GROUP BY 1')).toEqual(ALL_BUT_ID);
    expect(appended('SELECT * FROM app.products p, app.customers c GROUP BY p.id, 1')).toEqual([]);
  });

  it('leaves it alone when a key column is masked (a masked key no longer tells rows apart)', () => {
    for (const mask of ['redact', 'null', 'hash'] as const) {
      const { plan } = h.plan('SELECT c.id, count(*) FROM app.customers c GROUP BY c.id', maskPolicy({ masks: { 'app.customers.id': { mask }, 'app.customers.email': { mask: 'email' } } }));
      expect(plan.ok && plan.rewritten ? plan.sql : 'not rewritten', mask).toMatch(/GROUP BY c\.id$/);
    }
  });

  it('reads bare names through alias column lists and merged join columns as PostgreSQL scopes them', () => {
    // k is c's renamed id, the only column named k in FROM: the key
    const viaAlias = rewritten('SELECT k, n, count(*) FROM app.customers c(k, n) JOIN app.orders o ON o.customer_id = c.k GROUP BY k').sql;
    expect(viaAlias.slice(viaAlias.lastIndexOf('GROUP BY'))).toMatch(/^GROUP BY k, c\.n, c\.email, c\.phone,/);
    // a merged USING / NATURAL column is the join's, not c.id: nothing appended (as documented)
    expect(appended('SELECT id, count(*) FROM app.customers c JOIN app.orders o USING (id) GROUP BY id')).toEqual([]);
    expect(appended('SELECT id, count(*) FROM app.customers c NATURAL JOIN app.orders o GROUP BY id')).toEqual([]);
    // a rename list longer than the table's columns, or a join alias list: unsure, nothing appended
    expect(appended('SELECT x, count(*) FROM (app.customers c JOIN app.orders o ON o.customer_id = c.id) j(x) GROUP BY x')).toEqual([]);
  });

  it('appends the columns under the names an alias column list gives them', () => {
    expect(rewritten('SELECT c.k, c.n FROM app.customers c(k, n) GROUP BY c.k').sql).toMatch(/GROUP BY c\.k, c\.n, c\.email, c\.phone,/);
  });

  it('builds a whole ORDER BY item of a grouped query from the grouped columns, unless a target may be named like it', () => {
    const row = 'CASE WHEN o.id IS NOT NULL THEN CAST(ROW(o.id, o.customer_id, o.status, o.placed_at, o.shipped_at, o.total_cents, o.shipping_address) AS app.orders) END';
    expect(rewritten('SELECT o.id, count(*) FROM app.orders o GROUP BY o.id ORDER BY o DESC').sql.endsWith(`ORDER BY ${row} DESC`)).toBe(true);
    // an output name `o` wins in ORDER BY (as on M); not grouped: left alone (record and row type sort alike)
    expect(rewritten('SELECT o.status AS o, count(*) FROM app.orders o GROUP BY o.id ORDER BY o').sql).toMatch(/ORDER BY o$/);
    expect(rewritten('SELECT o.id, count(*) FROM app.orders o GROUP BY o.id, ROLLUP (o.status) ORDER BY o').sql).toMatch(/ORDER BY o$/);
    expect(rewritten('SELECT o.id FROM app.orders o ORDER BY o').sql).toMatch(/ORDER BY o$/);
  });

  it('builds a whole-row value from the grouped columns where the key groups every column (PostgreSQL accepts it on the table)', () => {
    const sql = rewritten('SELECT o, count(*) FROM app.orders o GROUP BY o.id').sql;
    expect(sql).toMatch(/^SELECT CASE WHEN o\.id IS NOT NULL THEN CAST\(ROW\(o\.id, o\.customer_id, o\.status, o\.placed_at, o\.shipped_at, o\.total_cents, o\.shipping_address\) AS app\.orders\) END AS o, count\(\*\)/);
    // a column nulled by some grouping set: the whole row cannot be built from it (it stays CAST(o …): 42803, as before)
    expect(rewritten('SELECT o FROM app.orders o GROUP BY o.id, ROLLUP (o.status)').sql).toMatch(/^SELECT CASE WHEN o IS DISTINCT FROM NULL THEN CAST\(o AS app\.orders\) END AS o/);
    // a null-masked key column: no ROW form
    const policy = maskPolicy({ masks: { 'app.orders.id': { mask: 'null' } } });
    const { plan } = h.plan('SELECT o, count(*) FROM app.orders o GROUP BY o.id', policy);
    expect(plan.ok && plan.rewritten ? plan.sql : '').not.toContain('ROW(');
  });
});

describe('mask plan: whole-row values keep the row type in every expression (issue #9 item 6)', () => {
  const typed = (a: string, t: string): string => `CASE WHEN ${a} IS DISTINCT FROM NULL THEN CAST(${a} AS app.${t}) END`;

  it('in CASE, COALESCE, IS DISTINCT FROM, comparisons, casts, field selection, FILTER and sub-selects', () => {
    const o = typed('o', 'orders');
    const cases: [string, string][] = [
      ['SELECT CASE WHEN o.id > 1 THEN o END FROM app.orders o', `SELECT CASE WHEN o.id > 1 THEN ${o} END FROM`],
      ['SELECT COALESCE(o, NULL) FROM app.orders o', `SELECT COALESCE(${o}, NULL) FROM`],
      ['SELECT o IS DISTINCT FROM NULL FROM app.orders o', `SELECT (${o}) IS DISTINCT FROM NULL FROM`],
      ['SELECT o::text FROM app.orders o', `SELECT CAST(${o} AS text) FROM`],
      ['SELECT (o).status FROM app.orders o', `SELECT (${o}).status FROM`],
      ['SELECT count(*) FILTER (WHERE o IS NOT NULL) FROM app.orders o', `SELECT count(*) FILTER (WHERE ${o} IS NOT NULL) FROM`],
      ['SELECT (SELECT o) FROM app.orders o', `SELECT (SELECT ${o} AS o) FROM`],
      ['SELECT ARRAY[o] FROM app.orders o', `SELECT ARRAY[${o}] FROM`],
    ];
    for (const [sql, want] of cases) expect(rewritten(sql).sql, sql).toContain(want);
    const eq = rewritten('SELECT a.id FROM app.orders a, app.orders b WHERE a = b').sql;
    expect(eq).toContain(`(${typed('a', 'orders')}) = (${typed('b', 'orders')})`);
  });

  it('leaves whole grouping, ordering, DISTINCT ON and window items alone (a single name there may be an output column)', () => {
    for (const sql of [
      'SELECT count(*) FROM app.orders o GROUP BY o',
      'SELECT o.id FROM app.orders o ORDER BY o',
      'SELECT DISTINCT ON (o) o.id FROM app.orders o',
      'SELECT count(*) OVER (PARTITION BY o) FROM app.orders o',
      'SELECT count(*) FROM app.orders o GROUP BY ROLLUP (o)',
      'SELECT count(*) FROM app.orders o GROUP BY (o, o.id)',
    ]) {
      expect(rewritten(sql).sql, sql).not.toContain('CAST(o AS');
    }
    // inside an expression they are whole-row values
    expect(rewritten('SELECT o.id FROM app.orders o ORDER BY o IS NULL').sql).toContain(`ORDER BY ${typed('o', 'orders')} IS NULL`);
  });

  it('follows PostgreSQL\'s scopes: a JOIN\'s ON clause sees its inputs, a CTE body and a FROM sub-select the outer levels, a FROM function the items before it', () => {
    // the inner o (orders) shadows the outer o (customers) in the ON clause
    const on = rewritten('SELECT (SELECT 1 FROM app.orders o JOIN app.products p ON to_jsonb(o) IS NOT NULL LIMIT 1) FROM app.customers o').sql;
    expect(on).toContain(`to_jsonb(${typed('o', 'orders')})`);
    expect(on).not.toContain('CAST(o AS app.customers)');
    // a CTE body sees the outer levels, not the FROM items of the SELECT that owns it
    const cte = rewritten('SELECT (WITH w AS (SELECT to_jsonb(o) AS j FROM app.products q) SELECT 1 FROM app.customers o, w LIMIT 1) FROM app.orders o').sql;
    expect(cte).toContain(`to_jsonb(${typed('o', 'orders')}) AS j`);
    expect(cte).not.toContain('CAST(o AS app.customers)');
    // a function in FROM sees the items before it
    expect(rewritten('SELECT k FROM app.orders o, jsonb_object_keys(to_jsonb(o)) k').sql).toContain(`jsonb_object_keys(to_jsonb(${typed('o', 'orders')}))`);
  });

  it('knows the columns of plain sub-selects and alias column lists (a column of that name wins over the whole row)', () => {
    expect(rewritten('SELECT COALESCE(o, NULL) FROM app.orders o, (SELECT id AS k, sku FROM app.products) s').sql).toContain('CAST(o AS app.orders)');
    expect(rewritten('SELECT COALESCE(o, NULL) FROM app.orders o, (SELECT 1 AS o) s').sql).not.toContain('CAST(o AS');
    expect(rewritten('SELECT COALESCE(o, NULL) FROM app.orders o, app.products p(o)').sql).not.toContain('CAST(o AS');
    expect(rewritten('SELECT COALESCE(o, NULL) FROM app.orders o, app.products p(k)').sql).toContain('CAST(o AS app.orders)');
    expect(rewritten('SELECT COALESCE(o, NULL) FROM app.orders o, (SELECT * FROM app.products) s').sql).not.toContain('CAST(o AS');
  });

  it('leaves writes and type-changing masks alone', () => {
    const policy = maskPolicy({ masks: { 'app.orders.total_cents': { mask: 'redact' } } });
    const { plan } = h.plan('SELECT COALESCE(o, NULL), o IS NULL FROM app.orders o', policy);
    expect(plan.ok && plan.rewritten ? plan.sql : '').not.toContain('CAST(o AS');
  });
});

describe('mask walk on the traversal core (issue #15): one budget, fail closed', () => {
  const plainSelect = (target: unknown): unknown => ({
    SelectStmt: {
      targetList: [{ ResTarget: { val: target } }],
      fromClause: [{ RangeVar: { schemaname: 'app', relname: 'customers', inh: true, relpersistence: 'p' } }],
      limitOption: 'LIMIT_OPTION_DEFAULT',
      op: 'SETOP_NONE',
    },
  });
  const planTree = async (stmt: unknown): Promise<MaskPlan> => {
    const { Masker } = await import('../../../src/mask/index.js');
    const decision = { stmt: stmt as never, relations: ['app.customers'], functions: [] };
    return new Masker({ hashKey: 'unit-test-mask-key-0123456789' }).plan({ decision, policy: maskPolicy(), catalog: h.catalog, searchPath: ['app', 'public'] });
  };

  it('refuses a kind the raw parser cannot produce (UNKNOWN_STATEMENT), wherever it sits', async () => {
    const { tagsWithRole } = await import('../../../src/guard/ast/tags.js');
    const { walkForMasks } = await import('../../../src/mask/rewrite.js');
    const { RefusedNodeError } = await import('../../../src/guard/ast/traverse.js');
    const ctx = { catalog: h.catalog, searchPath: ['app', 'public'], isMasked: (k: string) => k === 'app.customers' };
    for (const tag of [...tagsWithRole('post-analysis'), ...tagsWithRole('result-wrapper'), 'NoSuchNode']) {
      expect(() => walkForMasks(plainSelect({ [tag]: {} }), ctx), tag).toThrow(RefusedNodeError);
    }
    const plan = await planTree(plainSelect({ Var: { varno: 1, varattno: 3 } }));
    expect(plan.ok ? 'rewritten' : plan.reasons.map((r) => r.code)).toEqual(['UNKNOWN_STATEMENT']);
  });

  it('runs out of its budget with STATEMENT_TOO_COMPLEX, never a partial rewrite', async () => {
    const { walkForMasks } = await import('../../../src/mask/rewrite.js');
    const { newBudget, TooComplexError } = await import('../../../src/guard/ast/budget.js');
    const ctx = { catalog: h.catalog, searchPath: ['app', 'public'], isMasked: (k: string) => k === 'app.customers' };
    const stmt = (parseSync('SELECT email, phone, ssn FROM app.customers WHERE id = 1') as { stmts: { stmt: unknown }[] }).stmts[0]?.stmt;
    expect(walkForMasks(stmt, ctx).sites).toHaveLength(1);
    expect(() => walkForMasks(stmt, ctx, newBudget(5))).toThrow(TooComplexError);
    // deeper than the walk's depth bound (MAX_AST_DEPTH_CAP), past the guard
    let e: unknown = { ColumnRef: { fields: [{ String: { sval: 'email' } }] } };
    for (let i = 0; i < 10_001; i++) e = { BoolExpr: { boolop: 'NOT_EXPR', args: [e] } };
    const plan = await planTree(plainSelect(e));
    expect(plan.ok ? 'rewritten' : plan.reasons.map((r) => r.code)).toEqual(['STATEMENT_TOO_COMPLEX']);
  });
});

describe('mask plan: query meaning across the projection (issue #9 item 6)', () => {
  it('keeps the row type of whole-row values that are output columns or function arguments', () => {
    const typed = 'CASE WHEN o IS DISTINCT FROM NULL THEN CAST(o AS app.orders) END';
    expect(rewritten('SELECT o FROM app.orders o WHERE o.id = 1').sql).toMatch(new RegExp(`^SELECT ${typed.replace(/[()]/g, '\\$&')} AS o FROM`));
    const agg = rewritten('SELECT pg_typeof(o)::text, array_agg(o), to_jsonb(o.*) FROM app.orders o GROUP BY 1').sql;
    expect(agg.split(typed).length - 1).toBe(3);
    expect(rewritten('SELECT orders FROM app.orders').sql).toContain('CAST(orders AS app.orders) END AS orders FROM');
    // a visible FROM item whose columns are not known here, or a column of that name: left alone
    expect(rewritten('SELECT o FROM app.orders o, generate_series(1, 2) g').sql).not.toContain('CAST(o AS');
    expect(rewritten('SELECT status FROM app.orders status').sql).not.toContain('CAST(status AS');
    expect(rewritten('SELECT (SELECT o FROM app.orders o LIMIT 1) FROM app.products p').sql).toContain('CAST(o AS app.orders)');
    // a text mask on a non-text column changes its type: the cast could fail, so the value stays record
    const policy = maskPolicy({ masks: { 'app.orders.total_cents': { mask: 'redact' } } });
    const { plan } = h.plan('SELECT o FROM app.orders o', policy);
    expect(plan.ok && plan.rewritten ? plan.sql : '').not.toContain('CAST(o AS');
  });

  it('reads tableoid of a masked table through its projection; refuses ctid/xmin/… (layout follows raw values) and tableoid where *, a whole row or NATURAL would see it', () => {
    expect(rewritten('SELECT o.tableoid, o.id FROM app.orders o WHERE o.id = 1').sql).toMatch(/ AS shipping_address, tableoid FROM app\.orders \) AS o WHERE/);
    expect(rewritten('SELECT count(*) FROM app.customers WHERE tableoid <> 0').sql).toMatch(/ AS ssn, country, city, signed_up, marketing_opt_in, profile, tableoid FROM app\.customers \) AS customers/);
    // only the items they name
    const two = rewritten('SELECT o.tableoid, c.id FROM app.orders o JOIN app.customers c ON c.id = o.customer_id').sql;
    expect(two).toMatch(/ AS shipping_address, tableoid FROM app\.orders \) AS o/);
    expect(two).toMatch(/ marketing_opt_in, profile FROM app\.customers \) AS c/);
    for (const sql of ['SELECT o.ctid FROM app.orders o', 'SELECT count(*) FROM app.customers WHERE xmin IS NOT NULL', 'SELECT c.xmax, c.cmin, c.cmax FROM app.customers c']) {
      const { plan } = h.plan(sql);
      expect(plan.ok ? 'ok' : `${plan.reasons[0]?.code} ${plan.reasons[0]?.message}`, sql).toMatch(/^MASK_REWRITE_UNSUPPORTED the system column (ctid|xmin|xmax) .* depend on the raw values/);
    }
    for (const sql of ['SELECT *, o.tableoid FROM app.orders o', 'SELECT o.tableoid, row_to_json(o) FROM app.orders o', 'SELECT o.tableoid, to_jsonb(o.*) FROM app.orders o', 'SELECT tableoid FROM app.orders NATURAL JOIN app.order_items']) {
      const { plan } = h.plan(sql);
      expect(plan.ok ? 'ok' : `${plan.reasons[0]?.code} ${plan.reasons[0]?.message}`, sql).toMatch(/^MASK_REWRITE_UNSUPPORTED the system column tableoid/);
    }
    // another table's system columns are untouched
    expect(rewritten('SELECT p.ctid, o.id FROM app.products p JOIN app.orders o ON o.id = p.id').sql).toContain('total_cents, NULL::text AS shipping_address FROM app.orders');
  });
});
