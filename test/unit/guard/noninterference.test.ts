/**
 * Noninterference of refusals (issue #9, the fuzzer's "reasons depend on hidden objects" class):
 * the same statement judged against twin catalogs A and B, which differ only in what the policy
 * hides, must get the same decision, reason codes, messages and fixes.
 *
 * A: schema `vault` (hidden) holds a table `tokens(token text)`, a view, a function `peek`
 *    (SECURITY DEFINER), a composite type `mood`, an operator `===`; `internal.api_keys` (denied)
 *    has `secret text`.
 * B: the same objects renamed (`strongroom`, `strongroom.tokens(token citext)`, …): every
 *    lookup of `vault.x` in B finds nothing, and the hidden columns have other types.
 * Both: citext and its operators/functions in `public` (on the search_path), pg_trgm's `%` in
 *    `public`, so that resolving by argument types matters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import { buildCatalogSnapshot } from '../../../src/guard/snapshot.js';
import type { CatalogFunction, CatalogOperator, CatalogRelation, CatalogSnapshot, CatalogType, CatalogTypeInfo } from '../../../src/guard/types.js';
import { demoPolicy, guardRequest, testGuard } from './fixtures/catalog.js';

const T = { bool: 16, int4: 23, text: 25, int8: 20, numeric: 1700, citext: 90001, mood: 90010, tokensRow: 90011 };

function type(oid: number, schema: string, name: string, category: string, extra: Partial<CatalogType> = {}): CatalogType {
  return { oid, schema, name, kind: 'b', category, preferred: false, base: 0, array: 0, ...extra };
}
const fn = (schema: string, name: string, args: number[], ret: number, extra: Partial<CatalogFunction> = {}): CatalogFunction => ({
  schema, name, args, ret, securityDefiner: false, volatility: 'immutable', language: schema === 'pg_catalog' ? 'internal' : 'c', ...extra,
});
const op = (schema: string, name: string, left: number, right: number, result: number): CatalogOperator => ({ schema, name, left, right, result });

const col = (name: string, oid: number, t: string): { name: string; type: string; typeOid: number } => ({ name, type: t, typeOid: oid });

let version = 5000;

/** Twin A (`hidden` = 'vault', hidden column type text) or B ('strongroom', citext). */
function twin(which: 'A' | 'B'): CatalogSnapshot {
  const h = which === 'A' ? 'vault' : 'strongroom';
  const tokenType = which === 'A' ? T.text : T.citext;
  const secretType = which === 'A' ? T.text : T.int4;
  const relations: CatalogRelation[] = [
    { schema: 'app', name: 'orders', kind: 'table', columns: [col('id', T.int4, 'integer'), col('status', T.text, 'text'), col('total_cents', T.int4, 'integer')] },
    { schema: 'app', name: 'order_items', kind: 'table', columns: [col('order_id', T.int4, 'integer'), col('product_id', T.int4, 'integer')] },
    { schema: h, name: 'tokens', kind: 'table', columns: [col('id', T.int4, 'integer'), col('token', tokenType, 'x')] },
    { schema: h, name: 'token_view', kind: 'view', dependsOn: [`${h}.tokens`], columns: [col('token', tokenType, 'x')] },
    { schema: h, name: 'coins', kind: 'sequence' },
    { schema: 'internal', name: 'api_keys', kind: 'table', columns: [col('id', T.int4, 'integer'), col('secret', secretType, 'x')] },
  ];
  if (which === 'A') relations.push({ schema: 'internal', name: 'only_in_a', kind: 'table', columns: [col('x', T.text, 'text')] });
  const functions: CatalogFunction[] = [
    fn('pg_catalog', 'split_part', [T.text, T.text, T.int4], T.text),
    fn('pg_catalog', 'upper', [T.text], T.text),
    fn('pg_catalog', 'pg_sleep', [T.numeric], T.bool, { volatility: 'volatile' }),
    fn('pg_catalog', 'to_regclass', [T.text], T.int4),
    fn('pg_catalog', 'to_regtype', [T.text], T.int4),
    fn('pg_catalog', 'to_regproc', [T.text], T.int4),
    fn('public', 'split_part', [T.citext, T.citext, T.int4], T.text),
    fn('public', 'upper', [T.citext], T.text),
    fn(h, 'peek', [T.int4], T.text, { securityDefiner: which === 'A' }),
  ];
  const types: CatalogType[] = [
    type(T.bool, 'pg_catalog', 'bool', 'B', { preferred: true }),
    type(T.int4, 'pg_catalog', 'int4', 'N'),
    type(T.int8, 'pg_catalog', 'int8', 'N'),
    type(T.numeric, 'pg_catalog', 'numeric', 'N'),
    type(T.text, 'pg_catalog', 'text', 'S', { preferred: true }),
    type(T.citext, 'public', 'citext', 'S'),
    type(T.mood, h, 'mood', 'E', { kind: 'e' }),
    type(T.tokensRow, h, 'tokens', 'C', { kind: 'c', fields: [T.int4, tokenType] }),
  ];
  const operators: CatalogOperator[] = [
    op('pg_catalog', '=', T.text, T.text, T.bool),
    op('pg_catalog', '=', T.int4, T.int4, T.bool),
    op('pg_catalog', '<', T.text, T.text, T.bool),
    op('pg_catalog', '~~', T.text, T.text, T.bool),
    op('pg_catalog', '~~*', T.text, T.text, T.bool),
    op('public', '=', T.citext, T.citext, T.bool),
    op('public', '<', T.citext, T.citext, T.bool),
    op('public', '~~', T.citext, T.text, T.bool),
    op('public', '~~', T.text, T.citext, T.bool),
    op('public', '~~*', T.citext, T.text, T.bool),
    op('public', '%', T.text, T.text, T.bool),
    op(h, '===', T.text, T.text, T.bool),
  ];
  const snap = buildCatalogSnapshot({
    version: ++version,
    relations,
    functions,
    schemas: ['app', 'internal', 'public', h],
    userOperators: [...new Set(operators.filter((o) => o.schema !== 'pg_catalog').map((o) => o.name))],
  });
  const byName = new Map<string, CatalogType[]>();
  for (const t of types) byName.set(t.name, [...(byName.get(t.name) ?? []), t]);
  const opMap = new Map<string, CatalogOperator[]>();
  for (const o of operators) opMap.set(o.name, [...(opMap.get(o.name) ?? []), o]);
  const typeInfo: CatalogTypeInfo = {
    types: new Map(types.map((t) => [t.oid, t])),
    typesByName: byName,
    implicitCasts: new Map([[T.int4, [T.int8, T.numeric]], [T.citext, [T.text]]]),
    operators: opMap,
  };
  return { ...snap, typeInfo };
}

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard();
});

type Seen = { decision: string; reasons: { code: string; message: string; fix: string | undefined }[]; relations: readonly string[]; functions: readonly string[]; refresh: boolean };

function judge(sql: string, catalog: CatalogSnapshot, tool: 'query' | 'check' | 'explain' | 'execute' = 'query', catalogs = false): Seen {
  const policy = demoPolicy({ catalogs, tables: { allow: [], deny: ['internal.*'] }, ...(tool === 'execute' ? { mode: 'read-write' as const } : {}) });
  const d = guard.decide(guardRequest(sql, { catalog, tool, policy, policyVersion: catalog.version }));
  return {
    decision: d.decision,
    reasons: d.reasons.map((r) => ({ code: r.code, message: r.message, fix: r.fix })),
    relations: d.relations,
    functions: d.functions,
    refresh: d.needsCatalogRefresh,
  };
}

/** Statements naming hidden objects in every spelling the classes allow. */
const PAIRS: string[] = [
  // the fuzzer's shrunk cases
  "SELECT t0.token FROM vault.tokens t0 JOIN app.order_items t1 ON 'customers' LIKE t0.token",
  "SELECT t0.note AS c0 FROM internal.staff_notes t0 JOIN vault.tokens t1 ON 'data_directory' ILIKE t1.token",
  "SELECT (t0.id - t0.id) AS c0 FROM vault.token_view t0 WHERE ('vault.coins' ILIKE t0.token OR 'vault.coins' IS NULL)",
  "SELECT 1 FROM internal.api_keys t0 JOIN vault.tokens t1 ON t1.token < 'customers' WHERE 'work_mem' LIKE t1.token ORDER BY t1.token",
  'SELECT NULL::vault.tokens',
  'SELECT vault.peek(1)',
  "SELECT ('{\"a\": 1}'::jsonb ->> t0.id) AS c0, vault.peek(16847) AS c1 FROM app.orders t0",
  'SELECT (ARRAY[t0.status]::vault.tokens[])::text AS c0 FROM app.orders t0',
  // hidden column types picking operators and functions
  "SELECT 1 FROM vault.tokens t WHERE t.token = 'x'",
  "SELECT upper(t.token), split_part(t.token, ',', 1) FROM vault.tokens t",
  'SELECT 1 FROM internal.api_keys k WHERE k.secret = k.secret',
  "SELECT 1 FROM internal.api_keys k WHERE k.secret % 'x'",
  'SELECT pg_sleep(1) FROM vault.tokens',
  'SELECT * FROM internal.only_in_a',
  'SELECT * FROM internal.only_in_a WHERE x = 1',
  // types, casts, row types
  "SELECT 'x'::vault.mood",
  'SELECT CAST(NULL AS vault.mood)',
  'SELECT NULL::vault.tokens[]',
  'SELECT ROW(1, 2)::vault.tokens',
  "SELECT 'vault.tokens'::regtype",
  "SELECT to_regtype('vault.mood')",
  "SELECT to_regtype('vault.tokens')",
  // relation names in literals
  "SELECT 'vault.tokens'::regclass",
  "SELECT to_regclass('vault.tokens')",
  "SELECT to_regclass('vault.nothing')",
  "SELECT 'internal.only_in_a'::regclass",
  "SELECT to_regclass('internal.only_in_a')",
  // functions and operators
  "SELECT 'vault.peek'::regproc",
  "SELECT to_regproc('vault.peek')",
  "SELECT 'vault.peek(integer)'::regprocedure",
  "SELECT 1 WHERE 'a' OPERATOR(vault.===) 'b'",
  "SELECT 1 FROM app.orders WHERE status OPERATOR(vault.===) 'b'",
  'SELECT * FROM vault.peek(1)',
  'SELECT vault.coins.last_value FROM vault.coins',
  // writes
  "UPDATE vault.tokens SET token = 'x' WHERE id = 1",
  "UPDATE vault.tokens SET token = 'x'",
  "DELETE FROM vault.tokens t WHERE t.token LIKE 'a%'",
  "INSERT INTO vault.tokens (token) VALUES ('x') ON CONFLICT DO NOTHING",
  "UPDATE app.orders SET status = vault.peek(1) WHERE id = 1",
];

/** The red-team pass of session 4 (s4-leaks): more spellings of the same classes. */
const RED_TEAM: string[] = [
  'SELECT * FROM vault.tokens AS t(a, b, c)',
  'SELECT vault.tokens.token FROM vault.tokens',
  'SELECT (t).token FROM vault.tokens t',
  'TABLE vault.tokens',
  'SELECT * FROM ONLY vault.tokens',
  'SELECT * FROM vault.tokens TABLESAMPLE vault.sampler (1)',
  'WITH x AS (SELECT * FROM vault.tokens) SELECT 1',
  "SELECT 1 WHERE EXISTS (SELECT 1 FROM vault.tokens WHERE token ~ 'a')",
  "SELECT nextval('vault.coins')",
  "SELECT pg_relation_size('vault.tokens')",
  "SELECT 'vault.tokens'::regclass::oid",
  'SELECT to_regclass(\'"vault"."tokens"\')',
  "SELECT to_regclass('VAULT.TOKENS')",
  "SELECT 'strongroom.tokens'::regclass",
  "SELECT CAST(ROW(1, 'a') AS vault.tokens)",
  "SELECT '(1,a)'::vault.tokens",
  'SELECT vault.peek(id) FROM app.orders',
  'SELECT id FROM app.orders WHERE id OPERATOR(vault.===) 1',
  'SELECT * FROM app.orders o, LATERAL vault.peek(o.id) p',
  'SELECT * FROM ROWS FROM (vault.peek(1))',
  "SELECT to_regprocedure('vault.peek(integer)')",
  "SELECT 'vault.peek'::regproc::oid",
  "SELECT to_regtype('vault.mood[]')",
  "SELECT '{}'::vault.mood[]",
  "SELECT pg_input_is_valid('x', 'vault.mood')",
  'SELECT \'x\'::"vault"."mood"',
  'SELECT vault."peek"(1)',
  'SELECT "vault".tokens.* FROM "vault".tokens',
  'SELECT * FROM demo.vault.tokens',
  'SELECT internal.only_in_a.x FROM internal.only_in_a',
  'SELECT * FROM only_in_a',
  'DELETE FROM vault.tokens WHERE vault.peek(id) IS NULL',
  'UPDATE app.orders o SET status = t.token FROM vault.tokens t WHERE t.id = o.id',
  'INSERT INTO app.orders (id, status) SELECT id, token FROM vault.tokens',
  'MERGE INTO vault.tokens t USING app.orders o ON t.id = o.id WHEN MATCHED THEN DELETE',
  'EXPLAIN SELECT * FROM vault.tokens',
  "EXPLAIN ANALYZE SELECT token FROM vault.tokens WHERE token = 'x'",
  'SELECT * FROM app.orders WHERE status = ANY (SELECT token FROM vault.tokens)',
  'SELECT token COLLATE "C" FROM vault.tokens',
  'SELECT * FROM vault.tokens t JOIN vault.token_view v USING (token)',
  'SELECT * FROM vault.tokens NATURAL JOIN app.orders',
  "SELECT count(*) FILTER (WHERE token LIKE 'a%') FROM vault.tokens",
  'SELECT * FROM vault.tokens ORDER BY token USING <',
  "SELECT CASE token WHEN 'a' THEN 1 END FROM vault.tokens",
  "SELECT token IS DISTINCT FROM 'a' FROM vault.tokens",
  "SELECT token BETWEEN 'a' AND 'b' FROM vault.tokens",
  'SELECT upper(token), split_part(token, token, 1) FROM vault.tokens',
  "SELECT 1 FROM app.orders WHERE status OPERATOR(strongroom.===) 'x'",
  'SELECT strongroom.peek(1)',
  'SELECT * FROM pgwarden.undo_log',
  "SELECT NULL::internal.api_keys, 'x' % k.secret FROM internal.api_keys k",
  'SELECT k.secret || k.secret FROM internal.api_keys k',
  'SELECT max(k.secret) FROM internal.api_keys k',
  "SELECT * FROM app.orders o WHERE o.status IN (SELECT k.secret FROM internal.api_keys k WHERE k.secret LIKE 'a%')",
];


describe('refusals do not depend on hidden objects (twin catalogs A/B)', () => {
  const a = twin('A');
  const b = twin('B');
  for (const tool of ['query', 'check', 'explain', 'execute'] as const) {
    it.each(PAIRS)(`${tool}: %s`, (sql) => {
      const x = judge(sql, a, tool);
      const y = judge(sql, b, tool);
      expect(y).toEqual(x);
      if (tool === 'query') expect(x.decision).toBe('block');
    });
  }
  it.each(RED_TEAM)('red team, query and check: %s', (sql) => {
    for (const tool of ['query', 'check'] as const) expect(judge(sql, b, tool)).toEqual(judge(sql, a, tool));
    expect(judge(sql, a, 'query').decision).toBe('block');
  });
  it.each(PAIRS)('catalogs: true, query: %s', (sql) => {
    // even when the policy opens pg_catalog, a hidden schema's objects stay hidden from the reasons
    expect(judge(sql, b, 'query', true)).toEqual(judge(sql, a, 'query', true));
  });
});

describe('the refusals name no hidden object and stay actionable', () => {
  it('a hidden function: the same refusal whether it exists, and SECURITY DEFINER is not said', () => {
    const r = judge('SELECT vault.peek(1)', twin('A'));
    expect(r.reasons).toEqual([
      {
        code: 'FUNCTION_NOT_ALLOWED',
        message: "function vault.peek is in a schema that policy 'analyst' does not expose",
        fix: 'Use built-in functions, or functions of the exposed schemas that the policy allows.',
      },
    ]);
    expect(r.refresh).toBe(false);
  });
  it('a hidden relation stops the guard: only the visibility refusals, built-in functions still judged', () => {
    const r = judge("SELECT pg_sleep(1) FROM vault.tokens t WHERE t.token = 'x'", twin('A'));
    expect(r.reasons.map((x) => x.code)).toEqual(['UNSAFE_FUNCTION', 'DENIED_SCHEMA']);
  });
  it('a name from a string literal is never echoed, even when refused by name', () => {
    const r = judge("SELECT to_regclass('vault.secret_name_x')", twin('A'));
    expect(r.decision).toBe('block');
    expect(JSON.stringify(r.reasons)).not.toContain('secret_name_x');
  });
  it('visible objects still resolve by types (no over-refusal without a hidden name)', () => {
    expect(judge("SELECT split_part('a,b', ',', o.id) FROM app.orders o", twin('A')).decision).toBe('allow');
    expect(judge("SELECT 1 FROM app.orders WHERE status = 'paid'", twin('A')).decision).toBe('allow');
  });
});
