/**
 * Type-based resolution of operator and function candidates (src/guard/resolve.ts, issue #9
 * item 5), over real parse trees and a small catalog with types: an extension's operators and
 * functions count only where PostgreSQL could pick them for the argument types; user code that
 * shadows a built-in (earlier on the path, or a better match) stays refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import { buildCatalogSnapshot } from '../../../src/guard/snapshot.js';
import type { CatalogFunction, CatalogOperator, CatalogRelation, CatalogSnapshot, CatalogType, CatalogTypeInfo } from '../../../src/guard/types.js';
import { guardRequest, testGuard } from './fixtures/catalog.js';

const T = { bool: 16, int8: 20, int4: 23, text: 25, numeric: 1700, date: 1082, timestamptz: 1184, interval: 1186, varchar: 1043, int4arr: 1007, textarr: 1009, anyelement: 2283, anyarray: 2277, citext: 90001, citextarr: 90002, hstore: 90003, xid: 28 };

function type(oid: number, name: string, category: string, extra: Partial<CatalogType> = {}): CatalogType {
  return { oid, schema: 'pg_catalog', name, kind: 'b', category, preferred: false, base: 0, array: 0, ...extra };
}

const TYPES: CatalogType[] = [
  type(T.bool, 'bool', 'B', { preferred: true }),
  type(T.int8, 'int8', 'N'),
  type(T.int4, 'int4', 'N', { array: T.int4arr }),
  type(T.text, 'text', 'S', { preferred: true, array: T.textarr }),
  type(T.numeric, 'numeric', 'N'),
  type(T.date, 'date', 'D'),
  type(T.timestamptz, 'timestamptz', 'D', { preferred: true }),
  type(T.interval, 'interval', 'T'),
  type(T.varchar, 'varchar', 'S'),
  type(T.int4arr, '_int4', 'A', { base: T.int4 }),
  type(T.textarr, '_text', 'A', { base: T.text }),
  type(T.anyelement, 'anyelement', 'P', { kind: 'p' }),
  type(T.anyarray, 'anyarray', 'P', { kind: 'p' }),
  type(T.citext, 'citext', 'S', { schema: 'public', array: T.citextarr }),
  type(T.citextarr, '_citext', 'A', { schema: 'public', base: T.citext }),
  type(T.hstore, 'hstore', 'U', { schema: 'public' }),
  type(T.xid, 'xid', 'U'),
];

const op = (schema: string, name: string, left: number, right: number, result: number): CatalogOperator => ({ schema, name, left, right, result });
const OPERATORS: CatalogOperator[] = [
  op('pg_catalog', '=', T.text, T.text, T.bool),
  op('pg_catalog', '=', T.int4, T.int4, T.bool),
  op('pg_catalog', '<', T.int4, T.int4, T.bool),
  op('pg_catalog', '-', T.timestamptz, T.interval, T.timestamptz),
  op('pg_catalog', '-', T.timestamptz, T.timestamptz, T.interval),
  op('pg_catalog', '-', T.int4, T.int4, T.int4),
  op('pg_catalog', '+', T.int4, T.int4, T.int4),
  op('pg_catalog', '+', T.date, T.int4, T.date),
  op('pg_catalog', '||', T.text, T.text, T.text),
  op('pg_catalog', '||', T.anyarray, T.anyarray, T.anyarray),
  op('pg_catalog', '%', T.int4, T.int4, T.int4),
  // citext, intarray, hstore, pg_trgm in public (on the search_path app, public)
  op('public', '=', T.citext, T.citext, T.bool),
  op('public', '-', T.int4arr, T.int4, T.int4arr),
  op('public', '+', T.int4arr, T.int4, T.int4arr),
  op('public', '||', T.hstore, T.hstore, T.hstore),
  op('public', '%', T.text, T.text, T.bool),
];

const fn = (schema: string, name: string, args: number[], ret: number, extra: Partial<CatalogFunction> = {}): CatalogFunction => ({
  schema, name, args, ret, securityDefiner: false, volatility: 'immutable', language: schema === 'pg_catalog' ? 'internal' : 'c', ...extra,
});
const FUNCTIONS: CatalogFunction[] = [
  fn('pg_catalog', 'strpos', [T.text, T.text], T.int4),
  fn('pg_catalog', 'replace', [T.text, T.text, T.text], T.text),
  fn('pg_catalog', 'lower', [T.text], T.text),
  fn('pg_catalog', 'lower', [T.anyarray], T.anyelement),
  fn('pg_catalog', 'max', [T.int4], T.int4),
  fn('pg_catalog', 'max', [T.text], T.text),
  fn('pg_catalog', 'now', [], T.timestamptz),
  fn('pg_catalog', 'count', [], T.int8),
  fn('public', 'strpos', [T.citext, T.citext], T.int4),
  fn('public', 'replace', [T.citext, T.citext, T.citext], T.text),
  fn('public', 'max', [T.citext], T.citext),
  fn('public', 'similarity', [T.text, T.text], T.numeric),
];

let version = 100;

/** A fresh snapshot (a new version each time: decisions are cached per catalog version). */
function catalog(extra: { functions?: CatalogFunction[]; operators?: CatalogOperator[]; relations?: CatalogRelation[] } = {}): CatalogSnapshot {
  const snap = buildCatalogSnapshot({
    version: ++version,
    relations: [
      {
        schema: 'app', name: 'orders', kind: 'table',
        columns: [
          { name: 'id', type: 'integer', typeOid: T.int4 },
          { name: 'status', type: 'text', typeOid: T.text },
          { name: 'placed_at', type: 'timestamp with time zone', typeOid: T.timestamptz },
          { name: 'total_cents', type: 'integer', typeOid: T.int4 },
          { name: 'code', type: 'character varying', typeOid: T.varchar },
          { name: 'tags', type: 'integer[]', typeOid: T.int4arr },
        ],
      },
      { schema: 'app', name: 'tickets', kind: 'table', columns: [{ name: 'id', type: 'integer', typeOid: T.int4 }, { name: 'email', type: 'public.citext', typeOid: T.citext }] },
      ...(extra.relations ?? []),
    ],
    functions: [...FUNCTIONS, ...(extra.functions ?? [])],
    schemas: ['app', 'public'],
    userOperators: [...new Set([...OPERATORS, ...(extra.operators ?? [])].filter((o) => o.schema !== 'pg_catalog').map((o) => o.name))],
  });
  const operators = new Map<string, CatalogOperator[]>();
  for (const o of [...OPERATORS, ...(extra.operators ?? [])]) operators.set(o.name, [...(operators.get(o.name) ?? []), o]);
  const typeInfo: CatalogTypeInfo = {
    types: new Map(TYPES.map((t) => [t.oid, t])),
    typesByName: new Map(TYPES.map((t) => [t.name, [t]])),
    implicitCasts: new Map([
      [T.int4, [T.int8, T.numeric]],
      [T.int8, [T.numeric]],
      [T.varchar, [T.text]],
      [T.citext, [T.text]],
      [T.date, [T.timestamptz]],
    ]),
    operators,
  };
  return { ...snap, typeInfo };
}

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard();
});

function decide(sql: string, snap = catalog(), searchPath = ['app', 'public']): { decision: string; codes: string[]; messages: string[] } {
  const d = guard.decide(guardRequest(sql, { catalog: snap, searchPath, policyVersion: searchPath.join(',').length }));
  return { decision: d.decision, codes: d.reasons.map((r) => r.code), messages: d.reasons.map((r) => r.message) };
}

describe('extension candidates count only where their types are used', () => {
  it.each([
    "SELECT id FROM app.orders WHERE status = 'paid'",
    "SELECT id FROM app.orders WHERE status IN ('paid', 'shipped')",
    "SELECT CASE status WHEN 'paid' THEN 1 END FROM app.orders",
    'SELECT o.id FROM app.orders o JOIN app.orders p USING (status)',
    "SELECT now() - interval '7 days'",
    "SELECT placed_at - interval '7 days' FROM app.orders",
    'SELECT max(total_cents) - max(id) FROM app.orders',
    'SELECT id % 2 FROM app.orders',
    "SELECT strpos(status, 'a'), replace(status, 'a', 'b') FROM app.orders",
    "SELECT replace('a/b', '/', '-')",
    'SELECT max(status), max(total_cents) FROM app.orders',
    "SELECT status || ' ' || status FROM app.orders",
    'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n',
    "WITH m AS (SELECT placed_at AS at FROM app.orders) SELECT at - interval '1 day' FROM m",
    'SELECT t.x + 1 FROM (SELECT total_cents AS x FROM app.orders) t',
    'SELECT id FROM app.orders WHERE id = ANY (SELECT id FROM app.orders)',
  ])('allowed with citext, intarray, hstore and pg_trgm on the path: %s', (sql) => {
    expect(decide(sql)).toMatchObject({ decision: 'allow' });
  });

  it.each([
    ["SELECT id FROM app.tickets WHERE email = 'x'", 'operator ='],
    ["SELECT strpos(email, 'x') FROM app.tickets", 'public.strpos'],
    ['SELECT max(email) FROM app.tickets', 'public.max'],
    ["SELECT status::public.citext = 'x' FROM app.orders", 'operator ='],
    ['SELECT tags - 1 FROM app.orders', 'operator -'],
    ['SELECT t.x + 1 FROM (SELECT tags AS x FROM app.orders) t', 'operator +'],
    ["SELECT status % 'abc' FROM app.orders", 'operator %'],
    // a type named only in a cast (an inline TypeName): its values reach any-typed positions (the
    // statement scan missed inline TypeNames before it moved onto the traversal core, and allowed these)
    ["SELECT strpos((ARRAY['a'::public.citext])[1], 'a')", 'public.strpos'],
    ["SELECT strpos(y, 'a') FROM (SELECT (ARRAY['a'::public.citext])[1] AS y) s", 'public.strpos'],
    ['SELECT max((ARRAY[status::public.citext])[1]) FROM app.orders', 'public.max'],
    ['SELECT similarity(status, status) FROM app.orders', 'public.similarity'],
    // a CASE output is named after its ELSE result (PostgreSQL's FigureColname): the sub-select's
    // `status` is citext, not the text of app.orders.status (the resolver did not know the name
    // and allowed this; PostgreSQL 18 runs public.strpos)
    ["SELECT strpos(status, 'a') FROM (SELECT CASE WHEN false THEN NULL ELSE status::public.citext END FROM app.orders) s", 'public.strpos'],
    ["SELECT strpos(s.status, 'a') FROM (SELECT CASE WHEN id > 0 THEN 'x' ELSE status::public.citext END FROM app.orders) s", 'public.strpos'],
    ["SELECT '' || ''", undefined],
  ])('refused where the extension is picked: %s', (sql, what) => {
    const d = decide(sql);
    if (what === undefined) {
      // two unknown literals: || on text is preferred, hstore || is not picked
      expect(d.decision).toBe('allow');
      return;
    }
    expect(d.codes).toContain('FUNCTION_NOT_ALLOWED');
    expect(d.messages.join(' ')).toContain(what);
  });

  it('an extension outside the search_path cannot be picked by name', () => {
    const snap = catalog({
      operators: [op('ext_hidden', '=', T.text, T.text, T.bool)],
      functions: [fn('ext_hidden', 'lower', [T.text], T.text)],
    });
    expect(decide("SELECT lower(status) FROM app.orders WHERE status = 'paid'", snap)).toMatchObject({ decision: 'allow' });
    // named explicitly, it is judged
    expect(decide("SELECT ext_hidden.lower(status) FROM app.orders WHERE status OPERATOR(ext_hidden.=) 'x'", snap).codes).toContain('FUNCTION_NOT_ALLOWED');
  });
});

describe('shadowing built-ins stays refused', () => {
  const shadow = catalog({
    operators: [op('public', '=', T.text, T.text, T.bool)],
    functions: [fn('public', 'lower', [T.text], T.text), fn('public', 'lower', [T.varchar], T.text)],
  });

  it('on the default path a same-signature user function or operator is hidden by pg_catalog', () => {
    expect(decide("SELECT lower(status) FROM app.orders WHERE status = 'paid'", shadow)).toMatchObject({ decision: 'allow' });
    expect(decide("SELECT lower('ABC')", shadow)).toMatchObject({ decision: 'allow' });
  });

  it('a better match is picked: lower(varchar) for a varchar column', () => {
    expect(decide('SELECT lower(code) FROM app.orders', shadow).codes).toContain('FUNCTION_NOT_ALLOWED');
    expect(decide('SELECT lower(status::varchar) FROM app.orders', shadow).codes).toContain('FUNCTION_NOT_ALLOWED');
  });

  it.each([
    "SELECT id FROM app.orders WHERE status = 'paid'",
    "SELECT id FROM app.orders WHERE status IN ('paid')",
    "SELECT CASE status WHEN 'paid' THEN 1 END FROM app.orders",
    'SELECT lower(status) FROM app.orders',
    "SELECT lower('ABC')",
    "SELECT 'a' = 'b'",
  ])('with the user schema before pg_catalog on the path: %s', (sql) => {
    const d = guard.decide(guardRequest(sql, { catalog: { ...shadow, version: ++version }, searchPath: ['public', 'pg_catalog', 'app'] }));
    expect(d.reasons.map((r) => r.code)).toContain('FUNCTION_NOT_ALLOWED');
  });

  it('a user function earlier on the path that matches through its defaults is picked', () => {
    const withDefault = catalog({ functions: [fn('public', 'lower', [T.text, T.int4], T.text, { defaults: 1 })] });
    const d = guard.decide(guardRequest('SELECT lower(status) FROM app.orders', { catalog: withDefault, searchPath: ['public', 'pg_catalog', 'app'] }));
    expect(d.reasons.map((r) => r.code)).toContain('FUNCTION_NOT_ALLOWED');
  });

  it('keyword-named outputs (grouping, merge_action, json_objectagg, json_arrayagg) count as any type', () => {
    // an output named `grouping` (int4) beside a text column of that name: public.lower(int4) may be picked
    const snap = catalog({
      functions: [fn('public', 'lower', [T.int4], T.text)],
      relations: [{ schema: 'app', name: 'events', kind: 'table', columns: [{ name: 'grouping', type: 'text', typeOid: T.text }] }],
    });
    const sql = 'SELECT lower(g.grouping) FROM (SELECT grouping(status) FROM app.orders GROUP BY status) g, app.events e';
    expect(decide(sql, snap).codes).toContain('FUNCTION_NOT_ALLOWED');
    expect(decide('SELECT lower(e.grouping) FROM app.events e', snap)).toMatchObject({ decision: 'allow' });
  });

  it('a derived column of unknown type counts as any type the statement can produce', () => {
    const d = decide("SELECT lower(x) FROM jsonb_to_record('{}') AS r", shadow);
    expect(d.decision).toBe('block');
  });
});

describe("PostgreSQL's tie-breaks among coercible candidates (func_select_candidate, steps 4.c-4.f)", () => {
  const withSplit = (): CatalogSnapshot =>
    catalog({
      functions: [
        fn('pg_catalog', 'split_part', [T.text, T.text, T.int4], T.text),
        fn('public', 'split_part', [T.citext, T.citext, T.int4], T.text),
        fn('pg_catalog', 'upper', [T.text], T.text),
        fn('public', 'upper', [T.citext], T.text),
      ],
    });

  it.each([
    // unknown literals with a typed argument: the string category's preferred type (text) wins (4.e)
    "SELECT split_part('fz', 'search_path', o.id) FROM app.orders o",
    "SELECT split_part('a', '', o.total_cents) = 'fz' FROM app.orders o",
    "SELECT split_part('a,b', ',', 1)",
    "SELECT upper('customers')",
    "SELECT replace('a', 'b', 'c') FROM app.orders",
    // more exact matches (4.c): the text column picks pg_catalog's
    "SELECT split_part(status, ',', 1) FROM app.orders",
    "SELECT strpos(status, 'a') FROM app.orders",
  ])('pg_catalog is picked, as PostgreSQL does: %s', (sql) => {
    expect(decide(sql, withSplit())).toMatchObject({ decision: 'allow' });
  });

  it.each([
    // a citext argument makes the extension's candidate the better match (4.c): it counts
    ["SELECT split_part(email, ',', 1) FROM app.tickets", 'public.split_part'],
    ['SELECT upper(email) FROM app.tickets', 'public.upper'],
    ["SELECT strpos(email, 'x') FROM app.tickets", 'public.strpos'],
    // a type known only as a set (text or citext): PostgreSQL may pick the extension's for citext
    ["SELECT split_part(x.v, 'b', 1) FROM (SELECT status AS v FROM app.orders UNION ALL SELECT email AS v FROM app.tickets) x", 'public.split_part'],
  ])('the extension candidate still counts where PostgreSQL may pick it: %s', (sql, what) => {
    const d = decide(sql, withSplit());
    expect(d.codes).toContain('FUNCTION_NOT_ALLOWED');
    expect(d.messages.join(' ')).toContain(what);
  });

  it('a user function with the only fitting signature is still picked (4.a before any tie-break)', () => {
    const snap = catalog({ functions: [fn('pg_catalog', 'split_part', [T.text, T.text, T.int4], T.text), fn('public', 'split_part', [T.text, T.text, T.int8], T.text)] });
    // int8 cannot go to int4 implicitly: only public.split_part(text, text, int8) fits
    expect(decide("SELECT split_part('a', 'b', 10000000000)", snap).codes).toContain('FUNCTION_NOT_ALLOWED');
  });

  it('operators: an unknown literal against a typed operand takes its type; both unknown prefer text', () => {
    expect(decide("SELECT 'a' = 'b'", withSplit())).toMatchObject({ decision: 'allow' });
    expect(decide("SELECT id FROM app.orders WHERE 'x' = status", withSplit())).toMatchObject({ decision: 'allow' });
    expect(decide("SELECT id FROM app.tickets WHERE 'x' = email", withSplit()).codes).toContain('FUNCTION_NOT_ALLOWED');
  });
});

describe('tie-breaks over every combination of possible argument types', () => {
  it('a column name two relations type differently (int4 / int8): the union of the picks', () => {
    const snap = catalog({ functions: [fn('pg_catalog', 'split_part', [T.text, T.text, T.int4], T.text), fn('public', 'split_part', [T.citext, T.citext, T.int4], T.text)] });
    // `tags` is int4[] and `id` int4 in orders; in tickets `id` is int4 too: add a relation where id is int8
    const withInt8 = { ...snap, relations: new Map(snap.relations) };
    withInt8.relations.set('app.big', { schema: 'app', name: 'big', kind: 'table', columns: [{ name: 'id', type: 'bigint', typeOid: T.int8 }] });
    expect(decide("SELECT split_part('a', 'b', o.id) FROM app.orders o JOIN app.big b ON true", withInt8)).toMatchObject({ decision: 'allow' });
    // and a citext-or-text column still counts the extension's candidate
    expect(decide("SELECT split_part(x.v, 'b', 1) FROM (SELECT status AS v FROM app.orders UNION ALL SELECT email AS v FROM app.tickets) x", snap).codes).toContain('FUNCTION_NOT_ALLOWED');
    // an int4-or-citext third argument: citext cannot go to int4, only the int4 combination picks (pg_catalog)
    expect(decide("SELECT split_part('a', 'b', x.v) FROM (SELECT id AS v FROM app.orders UNION ALL SELECT email AS v FROM app.tickets) x", snap)).toMatchObject({ decision: 'allow' });
  });
});

describe('age() of a transaction id is a server fact under catalogs: false', () => {
  const withAge = (): CatalogSnapshot =>
    catalog({ functions: [fn('pg_catalog', 'age', [T.xid], T.int4), fn('pg_catalog', 'age', [T.timestamptz], T.interval), fn('pg_catalog', 'age', [T.timestamptz, T.timestamptz], T.interval)] });
  it.each(['SELECT age(xmin) FROM app.orders', "SELECT age('1234'::xid)", 'SELECT max(age(o.xmin)) FROM app.orders o'])('refused: %s', (sql) => {
    expect(decide(sql, withAge()).codes).toContain('SYSTEM_CATALOG');
  });
  it.each(['SELECT age(placed_at) FROM app.orders', 'SELECT age(now(), placed_at) FROM app.orders', "SELECT age(timestamptz '2024-01-01')"])('allowed: %s', (sql) => {
    expect(decide(sql, withAge())).toMatchObject({ decision: 'allow' });
  });
});
