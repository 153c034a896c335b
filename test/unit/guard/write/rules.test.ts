/**
 * Write rules and planner, pure: what is (and is not) a tautology, the execute rules' switches,
 * the planner's SQL shapes, immutability of the guard's tree, and the thresholds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSync } from 'libpg-query';
import { Guard, loadParser } from '../../../../src/guard/index.js';
import { applyThresholds, captureLimit, isWritePlan, planWrite } from '../../../../src/guard/write/index.js';
import { writeRulesSchema } from '../../../../src/config/schema.js';
import type { ForeignKeyAction } from '../../../../src/guard/types.js';
import { demoCatalog } from '../fixtures/catalog.js';
import { writeCatalog, writePolicyFor, writeRequest } from './fixtures.js';

let guard: Guard;
beforeAll(async () => {
  await loadParser();
  guard = new Guard({ cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
});

function codes(sql: string, writes: Record<string, unknown> = {}, tool: 'execute' | 'check' = 'execute'): string[] {
  return guard.decide(writeRequest(sql, { tool, policy: writePolicyFor(writes) })).reasons.map((r) => r.code);
}

describe('TAUTOLOGICAL_WHERE: what is NOT always true', () => {
  const selective = [
    'DELETE FROM app.events WHERE id = 5',
    'DELETE FROM app.events WHERE NULL',
    'DELETE FROM app.events WHERE false',
    'DELETE FROM app.events WHERE id > 0',
    'DELETE FROM app.events WHERE random() = random()',
    'DELETE FROM app.events WHERE id < 5 OR id > 5',
    'DELETE FROM app.events WHERE id = id + 0',
    'DELETE FROM app.events WHERE EXISTS (SELECT 1 FROM app.orders)',
    'DELETE FROM app.events WHERE EXISTS (SELECT generate_series(1, 0))',
    'DELETE FROM app.events WHERE EXISTS (SELECT 1 WHERE false)',
    "DELETE FROM app.events WHERE CASE WHEN kind = 'a' THEN true END",
    "DELETE FROM app.events WHERE coalesce(kind = 'x', true)",
    'DELETE FROM app.events WHERE customer_id IS NOT NULL',
    'DELETE FROM app.events WHERE customer_id = customer_id AND id = 3',
    "DELETE FROM app.events WHERE 'a' < 'b'",
    "DELETE FROM app.events WHERE kind LIKE '%a%'",
    "DELETE FROM app.events WHERE kind NOT LIKE '%'",
    'DELETE FROM app.events WHERE id IS DISTINCT FROM id',
    'DELETE FROM app.events WHERE NOT true',
    "DELETE FROM app.events WHERE 'maybe'::boolean",
    'UPDATE app.orders o SET status = \'paid\' FROM app.customers c WHERE c.id IS NOT NULL',
    'UPDATE app.orders o SET status = \'paid\' FROM app.customers c WHERE id IS NOT NULL',
    'DELETE FROM app.events WHERE app.cents_to_eur(id) = app.cents_to_eur(id) AND id = 1',
  ];
  for (const sql of selective) {
    it(sql, () => {
      const c = codes(sql, {}, 'check');
      expect(c).not.toContain('TAUTOLOGICAL_WHERE');
      expect(c).not.toContain('NO_WHERE');
    });
  }
});

describe('execute rules', () => {
  it('kinds: MERGE refused unless listed; listed MERGE is still NOT_REVERSIBLE', () => {
    const merge = 'MERGE INTO app.products p USING (VALUES (1, 500)) AS v(id, price) ON p.id = v.id WHEN MATCHED THEN UPDATE SET price_cents = v.price';
    expect(codes(merge)).toEqual(expect.arrayContaining(['WRITE_KIND_NOT_ALLOWED', 'NOT_REVERSIBLE']));
    expect(codes(merge, { kinds: ['merge'] })).toEqual(['NOT_REVERSIBLE']);
    expect(codes(merge, { kinds: ['merge'], allow_irreversible: true })).toEqual([]);
    expect(codes('DELETE FROM app.events WHERE id = 1', { kinds: ['insert'] })).toEqual(['WRITE_KIND_NOT_ALLOWED']);
  });

  it('MERGE … ON true is TAUTOLOGICAL_WHERE', () => {
    expect(codes('MERGE INTO app.products p USING app.orders o ON true WHEN MATCHED THEN DELETE', { kinds: ['merge'], allow_irreversible: true })).toEqual(['TAUTOLOGICAL_WHERE']);
  });

  it('writes.tables: deny wins, a non-empty allow list limits', () => {
    expect(codes('DELETE FROM app.events WHERE id = 1', { tables: { allow: ['app.orders'] } })).toEqual(['WRITE_TABLE_NOT_ALLOWED']);
    expect(codes('DELETE FROM app.events WHERE id = 1', { tables: { allow: ['app.*'], deny: ['app.ev*'] } })).toEqual(['WRITE_TABLE_NOT_ALLOWED']);
    expect(codes('DELETE FROM app.events WHERE id = 1', { tables: { allow: ['app.*'] } })).toEqual([]);
  });

  it('allow_irreversible lifts NOT_REVERSIBLE but not the WHERE rules', () => {
    expect(codes('DELETE FROM app.parents WHERE id = 1')).toEqual(['NOT_REVERSIBLE']);
    expect(codes('DELETE FROM app.parents WHERE id = 1', { allow_irreversible: true })).toEqual([]);
    expect(codes('DELETE FROM app.parents', { allow_irreversible: true })).toEqual(['NO_WHERE']);
  });

  it('a foreign table and a table without key facts are NOT_REVERSIBLE (fail closed)', () => {
    expect(codes("UPDATE app.remote SET x = 1 WHERE id = 1")).toContain('NOT_REVERSIBLE');
  });

  it('a cascading foreign key into a hidden table is DENIED_TABLE even with allow_irreversible (red team)', () => {
    const fk = (table: string, onDelete: ForeignKeyAction, onUpdate: ForeignKeyAction = 'no action') => ({ table, constraint: `${table.split('.')[1]}_fk`, columns: ['id'], onDelete, onUpdate });
    const info = (referencedBy: ReturnType<typeof fk>[]) => ({ primaryKey: ['id'], notNull: ['id'], generated: [], identityAlways: [], userTriggers: [], rules: [], referencedBy, hasChildren: false });
    const catalog = demoCatalog({
      relations: [
        { schema: 'app', name: 'accounts', kind: 'table', write: info([fk('internal.account_secrets', 'cascade'), fk('app.sessions', 'cascade', 'cascade')]) },
        { schema: 'app', name: 'sessions', kind: 'table', write: info([fk('internal.session_audit', 'set null')]) },
        { schema: 'internal', name: 'account_secrets', kind: 'table', write: info([]) },
        { schema: 'internal', name: 'session_audit', kind: 'table', write: info([]) },
        { schema: 'app', name: 'tags', kind: 'table', write: info([fk('app.sessions', 'no action')]) },
      ],
      version: 77,
    });
    const decideCodes = (sql: string) => guard.decide(writeRequest(sql, { catalog, policy: writePolicyFor({ allow_irreversible: true }) })).reasons.map((r) => r.code);
    expect(decideCodes('DELETE FROM app.accounts WHERE id = 1')).toEqual(['DENIED_TABLE', 'DENIED_TABLE']);
    expect(decideCodes('DELETE FROM app.sessions WHERE id = 1')).toEqual(['DENIED_TABLE']);
    expect(decideCodes('UPDATE app.accounts SET id = 2 WHERE id = 1')).toEqual(['DENIED_TABLE']);
    expect(decideCodes("UPDATE app.accounts SET note = 'x' WHERE id = 1")).toEqual([]);
    expect(decideCodes('DELETE FROM app.tags WHERE id = 1')).toEqual([]);
  });

  it('ON UPDATE CASCADE matters only when a referenced column is set', () => {
    expect(codes('UPDATE app.parents SET id = id WHERE id = 1').filter((c) => c === 'NOT_REVERSIBLE').length).toBeGreaterThan(0);
  });

  it('read-only policies: execute says WRITE_NOT_ALLOWED and still shows the WHERE rules', () => {
    const d = guard.decide(writeRequest('DELETE FROM app.events', { policy: writePolicyFor({}, { mode: 'read-only' }) }));
    expect(d.reasons.map((r) => r.code)).toEqual(['WRITE_NOT_ALLOWED', 'NO_WHERE']);
  });

  it('the query tool is unchanged (no write rules)', () => {
    const d = guard.decide(writeRequest('DELETE FROM app.events', { tool: 'query' }));
    expect(d.reasons.map((r) => r.code)).toEqual(['WRITE_NOT_ALLOWED']);
  });
});

describe('planWrite', () => {
  function plan(sql: string) {
    const stmt = parseSync(sql).stmts?.[0]?.stmt;
    return planWrite(stmt, writeCatalog(), ['app', 'public']);
  }

  it('never mutates the guard tree (Decision.stmt is shared with the cache)', () => {
    const d = guard.decide(writeRequest("UPDATE app.orders o SET status = 'x' FROM app.customers c WHERE c.id = o.customer_id AND o.id = 1"));
    const before = JSON.stringify(d.stmt);
    const deepFreeze = (o: unknown): void => {
      if (o && typeof o === 'object') {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
    };
    deepFreeze(d.stmt);
    const p = planWrite(d, writeCatalog(), ['app', 'public']);
    expect(isWritePlan(p)).toBe(true);
    expect(JSON.stringify(d.stmt)).toBe(before);
  });

  it('UPDATE … FROM: EXISTS count and capture, RETURNING by alias', () => {
    const p = plan("UPDATE app.orders AS o SET status = 'x' FROM app.customers c WHERE c.id = o.customer_id AND c.country = 'DE'");
    if (!isWritePlan(p)) throw new Error('plan');
    expect(p.countSql).toBe("SELECT pg_catalog.count(*) FROM app.orders AS o WHERE EXISTS (SELECT 1 FROM app.customers AS c WHERE c.id = o.customer_id AND c.country = 'DE')");
    expect(p.captureSql).toBe("SELECT o.* FROM app.orders AS o WHERE EXISTS (SELECT 1 FROM app.customers AS c WHERE c.id = o.customer_id AND c.country = 'DE') FOR UPDATE OF o");
    expect(p.executeSql).toBe("UPDATE app.orders AS o SET status = 'x' FROM app.customers AS c WHERE c.id = o.customer_id AND c.country = 'DE' RETURNING o.*");
    expect(p.target).toMatchObject({ schema: 'app', name: 'orders', alias: 'o', primaryKey: ['id'] });
    expect(p.tableEstimatedRows).toBe(1000);
  });

  it('carries the WITH clause; INSERT VALUES counted from the tree; INSERT SELECT counted', () => {
    const d = plan("WITH x AS (SELECT id FROM customers WHERE city = 'Berlin') DELETE FROM orders USING x WHERE x.id = orders.customer_id");
    if (!isWritePlan(d)) throw new Error('plan');
    expect(d.countSql).toBe("WITH x AS (SELECT id FROM customers WHERE city = 'Berlin') SELECT pg_catalog.count(*) FROM orders WHERE EXISTS (SELECT 1 FROM x WHERE x.id = orders.customer_id)");
    const v = plan("INSERT INTO products (id, sku, name, category, price_cents) VALUES (900, 'a', 'b', 'c', 1), (901, 'd', 'b', 'c', 1)");
    if (!isWritePlan(v)) throw new Error('plan');
    expect(v.rowsFromAst).toBe(2);
    expect(v.countSql).toBeUndefined();
    const s = plan("INSERT INTO events (customer_id, kind, at) SELECT id, 'x', now() FROM customers WHERE id < 5 ON CONFLICT DO NOTHING");
    if (!isWritePlan(s)) throw new Error('plan');
    expect(s.countSql).toBe("SELECT pg_catalog.count(*) FROM ( SELECT id, 'x', now() FROM customers WHERE id < 5 ) AS s");
    expect(s.countIsUpperBound).toBe(true);
  });

  it('quotes identifiers that need it and keeps literals as literals', () => {
    const p = plan(`UPDATE app.orders AS "Weird ""o""" SET status = 'it''s; DROP TABLE x' WHERE "Weird ""o""".id = 1`);
    if (!isWritePlan(p)) throw new Error('plan');
    expect(p.executeSql).toBe(`UPDATE app.orders AS "Weird ""o""" SET status = 'it''s; DROP TABLE x' WHERE "Weird ""o""".id = 1 RETURNING "Weird ""o""".*`);
    expect(parseSync(p.captureSql ?? '').stmts).toHaveLength(1);
  });

  it('MERGE is uncountable, no RETURNING; refuses what it cannot plan', () => {
    const m = plan('MERGE INTO app.products p USING (VALUES (1, 500)) AS v(id, price) ON p.id = v.id WHEN MATCHED THEN UPDATE SET price_cents = v.price');
    if (!isWritePlan(m)) throw new Error('plan');
    expect(m.uncountableReason).toMatch(/MERGE/);
    expect(m.reversible).toBe(false);
    expect(m.executeSql).not.toMatch(/RETURNING/);
    const codesOf = (r: ReturnType<typeof plan>): string[] => ('reasons' in r ? r.reasons.map((x) => x.code) : []);
    expect(codesOf(plan('WITH d AS (DELETE FROM app.events WHERE id = 1 RETURNING id) SELECT * FROM d'))).toEqual(['WRITE_NOT_PLANNABLE']);
    expect(codesOf(plan('EXPLAIN ANALYZE DELETE FROM app.events WHERE id = 1'))).toEqual(['WRITE_NOT_PLANNABLE']);
    expect(codesOf(plan('DELETE FROM app.events WHERE id = 1 RETURNING *'))).toEqual(['RETURNING_NOT_ALLOWED']);
    expect(codesOf(plan('SELECT 1'))).toEqual(['NOT_A_WRITE']);
    expect(codesOf(plan('DELETE FROM app.nosuch WHERE id = 1'))).toEqual(['WRITE_NOT_PLANNABLE']);
  });

  it('passes generated and identity columns on to the executor', () => {
    const p = plan('UPDATE app.gen SET qty = 5 WHERE id = 1');
    if (!isWritePlan(p)) throw new Error('plan');
    expect(p.target.generatedColumns).toEqual(['total']);
    expect(p.target.identityAlwaysColumns).toEqual(['id']);
  });
});

describe('applyThresholds / captureLimit', () => {
  const rules = writeRulesSchema.parse({ confirm_above_rows: 100, block_above_rows: 1000 });
  it('strictly above: execute, hold, block; uncountable follows the policy', () => {
    expect(applyThresholds(0, rules).action).toBe('execute');
    expect(applyThresholds(100, rules).action).toBe('execute');
    expect(applyThresholds(101, rules)).toMatchObject({ action: 'hold', reason: { code: 'HELD_FOR_APPROVAL' } });
    expect(applyThresholds(1000, rules).action).toBe('hold');
    expect(applyThresholds(1001, rules)).toMatchObject({ action: 'block', reason: { code: 'BLAST_RADIUS_EXCEEDED' } });
    expect(applyThresholds(undefined, rules)).toMatchObject({ action: 'hold', reason: { code: 'UNCOUNTABLE_WRITE' } });
    expect(applyThresholds(undefined, { ...rules, uncountable: 'block' }).action).toBe('block');
    expect(applyThresholds(Number.NaN, rules).action).toBe('hold');
  });
  it('capture limits', () => {
    expect(captureLimit(10, 100, rules)).toBeUndefined();
    expect(captureLimit(rules.max_capture_rows + 1, 0, rules)?.code).toBe('CAPTURE_TOO_LARGE');
    expect(captureLimit(1, rules.max_capture_bytes + 1, rules)?.code).toBe('CAPTURE_TOO_LARGE');
  });
});
