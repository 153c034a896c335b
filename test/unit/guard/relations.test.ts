/**
 * Relation resolution (case, quoting, escapes, search_path, CTE scope) and relation policy
 * (schemas, allow/deny patterns, system catalogs, views).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import type { Decision, GuardRequest } from '../../../src/guard/types.js';
import { demoCatalog, demoPolicy, guardRequest, testGuard } from './fixtures/catalog.js';

let guard: Guard;
let version = 100;
beforeAll(async () => {
  guard = await testGuard();
});

/** Each call gets its own policy version so per-test policies never hit another test's cache entry. */
const decide = (sql: string, o: Partial<GuardRequest> = {}): Decision => guard.decide(guardRequest(sql, { policyVersion: version++, ...o }));
const codes = (d: Decision): string[] => d.reasons.map((r) => r.code);

describe('name resolution', () => {
  it('unquoted names fold to lower case; quoted names are exact', () => {
    expect(decide('SELECT * FROM APP.ORDERS').relations).toEqual(['app.orders']);
    expect(decide('SELECT * FROM "app"."orders"').relations).toEqual(['app.orders']);
    const q = decide('SELECT * FROM "APP"."ORDERS"');
    expect(q.decision).toBe('block');
    expect(codes(q)).toContain('DENIED_SCHEMA');
    const r = decide('SELECT * FROM app."Orders"');
    expect(codes(r)).toEqual(['UNKNOWN_RELATION']);
    expect(r.needsCatalogRefresh).toBe(true);
  });

  it('decodes U& escapes (the parser does it)', () => {
    const d = decide('SELECT * FROM U&"\\0069nternal".U&"\\0061pi_keys"');
    expect(d.relations).toEqual(['internal.api_keys']);
    expect(codes(d)).toContain('DENIED_TABLE');
  });

  it('unqualified names search the search_path in order', () => {
    expect(decide('SELECT * FROM orders').relations).toEqual(['app.orders']);
    expect(codes(decide('SELECT * FROM api_keys'))).toEqual(['UNKNOWN_RELATION']);
    const viaPath = decide('SELECT * FROM api_keys', { searchPath: ['internal', 'app'] });
    expect(viaPath.relations).toEqual(['internal.api_keys']);
    expect(codes(viaPath)).toContain('DENIED_TABLE');
  });

  it('pg_catalog is searched first: a user table named like a catalog does not win', () => {
    const catalog = demoCatalog({ relations: [{ schema: 'app', name: 'pg_class', kind: 'table' }], version: 2 });
    const d = decide('SELECT * FROM pg_class', { catalog });
    expect(d.relations).toEqual(['pg_catalog.pg_class']);
    expect(codes(d)).toEqual(['SYSTEM_CATALOG']);
    expect(decide('SELECT * FROM app.pg_class', { catalog }).decision).toBe('allow');
    // …unless the search_path lists pg_catalog after app
    const later = decide('SELECT * FROM pg_class', { catalog, searchPath: ['app', 'pg_catalog'] });
    expect(later.relations).toEqual(['app.pg_class']);
    expect(later.decision).toBe('allow');
  });

  it('a database-qualified name is judged by schema and table', () => {
    expect(codes(decide('SELECT * FROM demo.internal.api_keys'))).toContain('DENIED_TABLE');
    expect(decide('SELECT * FROM demo.app.orders').decision).toBe('allow');
  });

  it('resolves relations everywhere: joins, subqueries, CTE bodies, LATERAL, set operations, TABLE', () => {
    for (const sql of [
      'SELECT * FROM app.orders o JOIN internal.api_keys k ON true',
      'SELECT * FROM app.orders WHERE id IN (SELECT id FROM internal.api_keys)',
      'SELECT EXISTS (SELECT 1 FROM internal.staff_notes)',
      'WITH x AS (SELECT * FROM internal.api_keys) SELECT 1',
      'SELECT * FROM app.orders o, LATERAL (SELECT * FROM internal.api_keys k WHERE k.id = o.id) l',
      'SELECT id FROM app.orders UNION SELECT id FROM internal.api_keys',
      'TABLE internal.api_keys',
      'SELECT * FROM app.orders ORDER BY (SELECT max(id) FROM internal.api_keys)',
      'SELECT (SELECT secret FROM internal.api_keys LIMIT 1) AS s',
      'SELECT * FROM app.orders GROUP BY id HAVING count(*) > (SELECT count(*) FROM internal.api_keys)',
      'SELECT row_number() OVER (ORDER BY (SELECT 1 FROM internal.api_keys LIMIT 1)) FROM app.orders',
      'VALUES ((SELECT secret FROM internal.api_keys LIMIT 1))',
      "SELECT 'internal.api_keys'::regclass",
      "SELECT CAST('internal.api_keys' AS regclass)",
      "SELECT regclass 'internal.api_keys'",
      "SELECT 'internal.api_keys'::text::pg_catalog.regclass",
      "SELECT pg_relation_size('internal.api_keys')",
      "SELECT pg_catalog.pg_total_relation_size('INTERNAL.API_KEYS')",
      "SELECT to_regclass('internal.api_keys')",
    ]) {
      const d = decide(sql);
      expect(d.decision, sql).toBe('block');
      expect(codes(d), sql).toContain('DENIED_TABLE');
    }
  });

  it('to_regclass of a missing relation is fine; a regclass cast of one is UNKNOWN_RELATION', () => {
    expect(decide("SELECT to_regclass('app.nope')").decision).toBe('allow');
    expect(codes(decide("SELECT 'app.nope'::regclass"))).toEqual(['UNKNOWN_RELATION']);
  });
});

describe('CTE scope', () => {
  it('a CTE named like a denied table is fine', () => {
    expect(decide('WITH api_keys AS (SELECT 1 AS id) SELECT * FROM api_keys').decision).toBe('allow');
    expect(decide('WITH staff_notes AS (SELECT * FROM app.customers) SELECT * FROM staff_notes').decision).toBe('allow');
  });

  it('but a qualified reference is never the CTE', () => {
    expect(codes(decide('WITH api_keys AS (SELECT 1) SELECT * FROM internal.api_keys'))).toContain('DENIED_TABLE');
  });

  it('a CTE is not visible outside its WITH', () => {
    const d = decide('SELECT * FROM (WITH pg_class AS (SELECT 1) SELECT * FROM pg_class) a, pg_class');
    expect(codes(d)).toEqual(['SYSTEM_CATALOG']);
  });

  it('a non-recursive CTE does not see itself or later CTEs; WITH RECURSIVE does', () => {
    const d = decide('WITH a AS (SELECT * FROM pg_class), pg_class AS (SELECT 1) SELECT * FROM a');
    expect(codes(d)).toEqual(['SYSTEM_CATALOG']);
    expect(decide('WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t').decision).toBe('allow');
    expect(decide('WITH x AS (SELECT 1), y AS (SELECT * FROM x) SELECT * FROM y').decision).toBe('allow');
  });

  it('the DML target is a real relation even when a CTE has its name', () => {
    const d = decide('WITH orders AS (SELECT 1) DELETE FROM orders', { tool: 'execute' });
    expect(d.relations).toEqual(['app.orders']);
  });
});

describe('schemas and table patterns', () => {
  it('DENIED_SCHEMA outside the policy schemas; empty schemas means the search_path', () => {
    const p = demoPolicy({ schemas: [], tables: { deny: [] } });
    expect(decide('SELECT * FROM app.orders', { policy: p }).decision).toBe('allow');
    expect(codes(decide('SELECT * FROM internal.api_keys', { policy: p }))).toEqual(['DENIED_SCHEMA']);
    expect(decide('SELECT * FROM internal.api_keys', { policy: p, searchPath: ['app', 'internal'] }).decision).toBe('allow');
  });

  it('deny wins over allow; wildcards stay within one name part', () => {
    const p = demoPolicy({ schemas: ['app'], tables: { allow: ['app.*'], deny: ['app.customer*'] } });
    expect(decide('SELECT * FROM app.orders', { policy: p }).decision).toBe('allow');
    expect(codes(decide('SELECT * FROM app.customers', { policy: p }))).toEqual(['DENIED_TABLE']);
    const only = demoPolicy({ tables: { allow: ['app.order*'], deny: [] } });
    expect(decide('SELECT * FROM app.order_items', { policy: only }).decision).toBe('allow');
    expect(codes(decide('SELECT * FROM app.products', { policy: only }))).toEqual(['DENIED_TABLE']);
    const star = demoPolicy({ tables: { allow: ['*'], deny: [] } });
    expect(decide('SELECT * FROM app.products', { policy: star }).decision).toBe('allow');
  });

  it('messages name the subject and the policy; fixes suggest an allowed relation', () => {
    const d = decide('SELECT * FROM internal.api_keys');
    const denied = d.reasons.find((r) => r.code === 'DENIED_TABLE');
    expect(denied?.message).toContain('internal.api_keys');
    expect(denied?.message).toContain("policy 'analyst'");
    expect(denied?.fix).toMatch(/internal\.api_keys/);
    const v = decide('SELECT * FROM app.customer_notes');
    expect(v.reasons[0]?.fix).toContain('use app.customers instead of app.customer_notes'.replace(/^u/, 'U'));
    expect(decide('SELECT * FROM app.ordres').reasons[0]?.fix).toContain('app.orders');
  });

  it('fixes never propose a sequence (issue #9 item 7: "use internal.api_keys_id_seq instead")', () => {
    const catalog = demoCatalog({ relations: [{ schema: 'internal', name: 'api_keys_id_seq', kind: 'sequence' }], version: 77 });
    const policy = demoPolicy({ schemas: ['app', 'internal'], tables: { allow: [], deny: ['internal.api_keys'] } });
    const d = decide('SELECT * FROM internal.api_keys', { catalog, policy });
    expect(codes(d)).toContain('DENIED_TABLE');
    for (const r of d.reasons) expect(r.fix).not.toMatch(/_seq/);
    const typo = decide('SELECT * FROM app.events_id', { catalog });
    expect(typo.reasons[0]?.fix).toContain('app.events');
    expect(typo.reasons[0]?.fix).not.toMatch(/events_id_seq/);
  });

  it('writes and utility targets are judged too', () => {
    expect(codes(decide('DELETE FROM internal.api_keys', { tool: 'execute', policy: demoPolicy({ mode: 'read-write' }) }))).toContain('DENIED_TABLE');
    expect(codes(decide('LOCK internal.api_keys'))).toEqual(expect.arrayContaining(['UTILITY_NOT_ALLOWED', 'DENIED_TABLE']));
    // a new relation created by DDL is not "unknown"
    expect(codes(decide('CREATE TABLE app.brand_new (a int)'))).toEqual(['DDL_NOT_ALLOWED']);
  });
});

describe('system catalogs', () => {
  it.each([
    'SELECT * FROM pg_class',
    'SELECT * FROM pg_catalog.pg_class',
    'SELECT * FROM pg_user',
    'SELECT * FROM pg_shadow',
    'SELECT * FROM pg_authid',
    'SELECT * FROM pg_settings',
    'SELECT * FROM pg_stat_activity',
    'SELECT * FROM pg_stats',
    'SELECT * FROM information_schema.tables',
    'SELECT * FROM information_schema.columns',
    'SELECT * FROM "pg_catalog"."pg_class"',
    'SELECT * FROM PG_CATALOG.PG_CLASS',
    'SELECT * FROM pg_toast.pg_toast_2619',
  ])('SYSTEM_CATALOG: %s', (sql) => {
    const d = decide(sql);
    expect(d.decision).toBe('block');
    expect(codes(d)).toContain('SYSTEM_CATALOG');
  });

  it('catalogs: true opens pg_catalog and information_schema but not secrets, statistics or TOAST', () => {
    const p = demoPolicy({ catalogs: true });
    expect(decide('SELECT relname FROM pg_class', { policy: p }).decision).toBe('allow');
    expect(decide('SELECT * FROM information_schema.columns', { policy: p }).decision).toBe('allow');
    for (const sql of [
      'SELECT * FROM pg_authid',
      'SELECT * FROM pg_shadow',
      'SELECT * FROM pg_stats',
      'SELECT * FROM pg_statistic',
      'SELECT * FROM pg_toast.pg_toast_2619',
      // other principals' statements (one shared login role): literals and mask keys
      'SELECT query FROM pg_stat_activity',
      'SELECT a.query FROM pg_catalog.pg_stat_activity a WHERE a.pid <> pg_backend_pid()',
    ]) {
      expect(codes(decide(sql, { policy: p })), sql).toContain('SYSTEM_CATALOG');
    }
    const explicit = demoPolicy({ catalogs: true, tables: { allow: ['app.*', 'pg_catalog.pg_stats'], deny: [] } });
    expect(decide('SELECT * FROM pg_stats', { policy: explicit }).decision).toBe('allow');
  });
});

describe("the connection's prepared statements (the read path's statement cache)", () => {
  const views = ['SELECT * FROM pg_prepared_statements', 'SELECT statement FROM pg_catalog.pg_prepared_statements', 'SELECT count(*) FROM "pg_catalog"."pg_prepared_statements"'];
  const fns = ['SELECT * FROM pg_prepared_statement()', 'SELECT statement FROM pg_catalog.pg_prepared_statement()', 'SELECT (pg_prepared_statement()).name'];
  const policies = {
    default: demoPolicy(),
    'catalogs: true': demoPolicy({ catalogs: true }),
    'catalogs: true, named in tables.allow and functions.allow': demoPolicy({
      catalogs: true,
      tables: { allow: ['app.*', 'pg_catalog.pg_prepared_statements', 'pg_catalog.*'], deny: [] },
      functions: { mode: 'denylist', allow: ['pg_catalog.pg_prepared_statement', 'pg_catalog.*'] },
    }),
  };
  it.each(Object.entries(policies))('are SYSTEM_CATALOG under every policy — %s', (_name, policy) => {
    for (const sql of [...views, ...fns]) {
      const d = decide(sql, { policy });
      expect(d.decision, sql).toBe('block');
      expect(codes(d), sql).toContain('SYSTEM_CATALOG');
    }
  });
  it('a view over them is refused too', () => {
    const catalog = demoCatalog({ relations: [{ schema: 'app', name: 'stmts', kind: 'view', dependsOn: ['pg_catalog.pg_prepared_statements'] }], version: 4 });
    expect(decide('SELECT * FROM app.stmts', { catalog, policy: policies['catalogs: true, named in tables.allow and functions.allow'] }).decision).toBe('block');
  });
});

describe('views', () => {
  it('a view that reads a hidden relation is VIEW_NOT_ALLOWED, without naming what it hides', () => {
    const d = decide('SELECT * FROM app.customer_notes');
    expect(codes(d)).toEqual(['VIEW_NOT_ALLOWED']);
    expect(d.reasons[0]?.message).toContain('app.customer_notes reads a relation that policy');
    expect(JSON.stringify(d.reasons)).not.toContain('staff_notes');
  });

  it('a view over allowed tables is fine; views: false refuses every view', () => {
    expect(decide('SELECT * FROM app.order_totals').decision).toBe('allow');
    expect(codes(decide('SELECT * FROM app.order_totals', { policy: demoPolicy({ views: false }) }))).toEqual(['VIEW_NOT_ALLOWED']);
  });

  it('a view reaching a system catalog or a denied table through another view', () => {
    const catalog = demoCatalog({
      relations: [
        { schema: 'app', name: 'rel_sizes', kind: 'view', dependsOn: ['pg_catalog.pg_class'] },
        { schema: 'app', name: 'notes_mv', kind: 'materialized_view', dependsOn: ['app.customer_notes', 'app.customers', 'internal.staff_notes'] },
      ],
      version: 3,
    });
    expect(codes(decide('SELECT * FROM app.rel_sizes', { catalog }))).toEqual(['VIEW_NOT_ALLOWED']);
    expect(codes(decide('SELECT * FROM app.notes_mv', { catalog }))).toEqual(['VIEW_NOT_ALLOWED']);
  });
});

describe('inheritance children and partitions (red team)', () => {
  const catalog = demoCatalog({
    relations: [
      { schema: 'app', name: 'ledger', kind: 'partitioned_table' },
      { schema: 'app', name: 'ledger_open', kind: 'table', ancestors: ['app.ledger'] },
      { schema: 'internal', name: 'ledger_secret', kind: 'table', ancestors: ['app.ledger'] },
      { schema: 'app', name: 'tree', kind: 'table' },
      { schema: 'app', name: 'tree_mid', kind: 'table', ancestors: ['app.tree'] },
      { schema: 'internal', name: 'tree_leaf', kind: 'table', ancestors: ['app.tree_mid', 'app.tree'] },
      { schema: 'app', name: 'ledger_view', kind: 'view', dependsOn: ['app.ledger'] },
      { schema: 'app', name: 'open_view', kind: 'view', dependsOn: ['app.ledger_open'] },
    ],
    version: 40,
  });
  it('a parent whose scan returns rows of a hidden descendant is DENIED_TABLE, without naming the descendant', () => {
    const d = decide('SELECT * FROM app.ledger', { catalog });
    expect(codes(d)).toEqual(['DENIED_TABLE']);
    expect(d.reasons[0]?.message).toContain('an inheritance child or partition');
    expect(JSON.stringify(d.reasons)).not.toContain('ledger_secret');
    expect(d.reasons[0]?.fix).toContain('ONLY app.ledger');
    expect(codes(decide('SELECT * FROM app.tree_mid', { catalog }))).toEqual(['DENIED_TABLE']);
    expect(codes(decide('SELECT * FROM app.tree', { catalog }))).toEqual(['DENIED_TABLE']);
    expect(codes(decide('SELECT 1 WHERE EXISTS (SELECT 1 FROM app.tree t)', { catalog }))).toEqual(['DENIED_TABLE']);
    expect(codes(decide("UPDATE app.ledger SET x = 1 WHERE id = 1", { catalog, tool: 'check' }))).toContain('DENIED_TABLE');
  });
  it('ONLY, an allowed child read directly, and a view over it are fine; a view over the parent is not', () => {
    expect(decide('SELECT * FROM ONLY app.ledger', { catalog }).decision).toBe('allow');
    expect(decide('SELECT * FROM ONLY app.tree', { catalog }).decision).toBe('allow');
    expect(decide('SELECT * FROM app.ledger_open', { catalog }).decision).toBe('allow');
    expect(decide('SELECT * FROM app.open_view', { catalog }).decision).toBe('allow');
    expect(codes(decide('SELECT * FROM app.ledger_view', { catalog }))).toEqual(['VIEW_NOT_ALLOWED']);
    // a policy that allows the child too allows the parent
    expect(decide('SELECT * FROM app.ledger', { catalog, policy: demoPolicy({ schemas: ['app', 'internal'], tables: { deny: [] } }) }).decision).toBe('allow');
  });
});

describe('deny patterns and quoted names with a dot (red team)', () => {
  it('app.secret* denies app."secret.v2" for reads and writes', () => {
    const catalog = demoCatalog({ relations: [{ schema: 'app', name: 'secret.v2', kind: 'table' }, { schema: 'app', name: 'secrets', kind: 'table' }], version: 41 });
    const policy = demoPolicy({ tables: { deny: ['internal.*', 'app.secret*'] } });
    expect(codes(decide('SELECT * FROM app."secret.v2"', { catalog, policy }))).toEqual(['DENIED_TABLE']);
    expect(codes(decide('SELECT * FROM app.secrets', { catalog, policy }))).toEqual(['DENIED_TABLE']);
    expect(decide('SELECT * FROM app.orders', { catalog, policy }).decision).toBe('allow');
  });
});

describe('system catalogs are never written (red team)', () => {
  it('catalogs: true opens reading pg_settings, not UPDATE (its rule runs set_config for the session)', () => {
    const policy = demoPolicy({ catalogs: true, mode: 'read-write' });
    expect(decide('SELECT name, setting FROM pg_catalog.pg_settings', { policy }).decision).toBe('allow');
    for (const sql of [
      "UPDATE pg_catalog.pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
      "UPDATE pg_settings SET setting = '0' WHERE name = 'statement_timeout'",
      "DELETE FROM information_schema.sql_features WHERE feature_id = 'x'",
    ]) {
      expect(codes(decide(sql, { policy, tool: 'check' })), sql).toContain('SYSTEM_CATALOG');
    }
  });
});

describe('functions called by views', () => {
  it('a view that calls a refused function is VIEW_NOT_ALLOWED', () => {
    const catalog = demoCatalog({
      relations: [
        { schema: 'app', name: 'keys_view', kind: 'view', dependsOn: [], dependsOnFunctions: ['app.lookup_key'] },
        { schema: 'app', name: 'slow_view', kind: 'view', dependsOn: ['app.orders'], dependsOnFunctions: ['pg_catalog.count', 'pg_catalog.pg_sleep'] },
        { schema: 'app', name: 'fine_view', kind: 'view', dependsOn: ['app.orders'], dependsOnFunctions: ['pg_catalog.count', 'pg_catalog.sum'] },
      ],
      version: 4,
    });
    const k = decide('SELECT * FROM app.keys_view', { catalog });
    expect(codes(k)).toEqual(['VIEW_NOT_ALLOWED']);
    expect(k.reasons[0]?.message).toContain('app.keys_view calls function app.lookup_key');
    expect(codes(decide('SELECT * FROM app.slow_view', { catalog }))).toEqual(['VIEW_NOT_ALLOWED']);
    expect(decide('SELECT * FROM app.fine_view', { catalog }).decision).toBe('allow');
    const allowed = demoPolicy({ functions: { allow: ['app.lookup_key'] } });
    expect(decide('SELECT * FROM app.keys_view', { catalog, policy: allowed }).decision).toBe('allow');
  });
});

describe('row types and object-identifier casts', () => {
  it.each([
    'SELECT (NULL::internal.api_keys).*',
    "SELECT jsonb_populate_record(NULL::internal.api_keys, '{}')",
    "SELECT CAST(ROW(1, 'x', 'y') AS internal.api_keys)",
    'SELECT NULL::internal.api_keys[]',
    "SELECT regclass('internal.api_keys')",
    "SELECT pg_catalog.regclass('internal.staff_notes')",
    "SELECT pg_relation_size(regclass('internal.api_keys'))",
  ])('a denied relation named as a type or through regclass(): %s', (sql) => {
    const d = decide(sql);
    expect(d.decision).toBe('block');
    expect(codes(d).some((c) => c === 'DENIED_TABLE' || c === 'DENIED_SCHEMA')).toBe(true);
  });

  it.each([
    "SELECT pg_relation_size(('inter' || 'nal.api_keys')::regclass)",
    "SELECT ('pg_' || 'read_file')::regproc",
    "SELECT to_regclass('inter' || 'nal.api_keys')",
    'SELECT g::regclass FROM generate_series(16384, 17000) AS g',
    'SELECT g::oid::regrole FROM generate_series(10, 20000) AS g',
    'SELECT o.id::regnamespace FROM app.orders o',
    "SELECT '16400'::regclass",
    'SELECT 16400::regclass',
    'SELECT pg_relation_size(16400)',
    "SELECT to_regproc('pg_' || 'sleep')",
  ])('a name or OID computed at run time fails closed: %s', (sql) => {
    const d = decide(sql);
    expect(d.decision).toBe('block');
    expect(codes(d)).toContain('SYSTEM_CATALOG');
  });

  it('ordinary types and allowed row types are fine; catalogs: true allows oid::regclass', () => {
    expect(decide("SELECT NULL::app.orders, '1'::int, now()::date, 'x'::text, '{}'::jsonb").decision).toBe('allow');
    expect(decide('SELECT c.oid::regclass, c.relname FROM pg_class c', { policy: demoPolicy({ catalogs: true }) }).decision).toBe('allow');
    expect(codes(decide("SELECT to_regproc('pg_sleep')"))).toEqual(['UNSAFE_FUNCTION']);
  });
});
