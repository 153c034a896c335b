/**
 * The write planner against a real PostgreSQL (a scratch copy of the demo database plus
 * test/corpus/writes/extra-schema.sql):
 * - src/db/catalog.ts loads the write facts the pure fixtures assume (keys, NOT NULL, triggers,
 *   rules, cascading foreign keys, partitioned/inheritance, generated/identity);
 * - the whole write corpus gets the same static verdicts with the real catalog;
 * - for every hold/allow case: countSql (read-only transaction) equals the rows the write really
 *   changes (executeSql inside a rolled-back transaction), captureSql locks exactly the rows the
 *   write changes (each once), DELETE's RETURNING equals the captured before-images, and the
 *   thresholds hold exactly the `hold` cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { catalogDigest, loadCatalog } from '../../../src/db/catalog.js';
import type { DatabasePool } from '../../../src/db/pool.js';
import { Guard, loadParser } from '../../../src/guard/index.js';
import type { CatalogSnapshot, CatalogWriteInfo } from '../../../src/guard/types.js';
import { applyThresholds, isWritePlan, planWrite, type WritePlan } from '../../../src/guard/write/index.js';
import { extraSchemaSql, loadWriteCorpus, loadWritePolicy } from '../../corpus/writes/index.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';
import { DEMO_RELATIONS } from '../../unit/guard/fixtures/catalog.js';
import { EXTRA_RELATIONS } from '../../unit/guard/write/fixtures.js';
import { adminQuery, poolFor } from '../db/helpers.js';

const cases = loadWriteCorpus();
const wp = loadWritePolicy();

let scratch: ScratchDatabase;
let pool: DatabasePool;
let catalog: CatalogSnapshot;
let client: pg.Client;
let guard: Guard;

beforeAll(async () => {
  await loadParser();
  guard = new Guard({ cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
  scratch = await createScratchDatabase();
  await adminQuery(scratch.databaseUrl, extraSchemaSql());
  pool = poolFor(scratch.databaseUrl);
  catalog = await loadCatalog(pool, 1);
  client = new pg.Client({ connectionString: scratch.databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  await client.query("SET statement_timeout = '10s'");
}, 60_000);

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await pool?.end();
  await scratch?.drop();
});

/** The facts a fixture states (optional facts it leaves out — triggers, rules, constraints… — are not compared). */
function normalize(w: CatalogWriteInfo | undefined, like: CatalogWriteInfo): unknown {
  if (w === undefined) return undefined;
  const picked = Object.fromEntries(Object.keys(like).map((k) => [k, w[k as keyof CatalogWriteInfo]])) as unknown as CatalogWriteInfo;
  const fkColumns = like.referencedBy.some((fk) => fk.referencingColumns !== undefined);
  const referencedBy = w.referencedBy.map(({ referencingColumns, ...fk }) => (fkColumns ? { ...fk, referencingColumns } : fk));
  return { ...picked, notNull: [...w.notNull].sort(), referencedBy: referencedBy.sort((a, b) => a.constraint.localeCompare(b.constraint)) };
}

describe('catalog write facts', () => {
  it('match the pure fixtures for the demo tables and the extra shapes', () => {
    for (const r of [...DEMO_RELATIONS, ...EXTRA_RELATIONS]) {
      if (r.write === undefined) continue;
      expect(normalize(catalog.relations.get(`${r.schema}.${r.name}`)?.write, r.write), `${r.schema}.${r.name}`).toEqual(normalize(r.write, r.write));
    }
  });

  it('lists system tables without write facts, views with theirs (triggers, rules, definition; no constraints), and a partition as a table of its own', () => {
    const view = catalog.relations.get('app.order_totals')?.write;
    expect(view?.primaryKey).toEqual([]);
    expect(view?.definition).toMatch(/^[0-9a-f]{32}$/);
    expect(view?.constraints).toBeUndefined();
    expect(catalog.relations.get('pg_catalog.pg_class')?.write).toBeUndefined();
    expect(catalog.relations.get('app.parted_low')?.write?.primaryKey).toEqual(['id']);
    expect(catalog.relations.get('app.base_child')?.write?.primaryKey).toEqual([]);
  });

  it('a new trigger changes the catalog digest (so the decision cache turns over)', async () => {
    const before = catalogDigest(catalog);
    await adminQuery(scratch.databaseUrl, 'CREATE TRIGGER late_touch BEFORE UPDATE ON app.children FOR EACH ROW EXECUTE FUNCTION app.audited_touch_fn()');
    try {
      const after = await loadCatalog(pool, 2);
      expect(after.relations.get('app.children')?.write?.userTriggers).toEqual(['late_touch']);
      expect(catalogDigest(after)).not.toBe(before);
    } finally {
      await adminQuery(scratch.databaseUrl, 'DROP TRIGGER late_touch ON app.children');
    }
  });
});

describe('write corpus with the real catalog', () => {
  for (const c of cases) {
    it(`${c.expect} ${c.id}`, () => {
      const d = guard.decide({
        sql: c.sql, tool: c.tool, principal: 'writer', database: 'demo', policy: wp.policy, observe: false,
        policyName: wp.policyName, searchPath: wp.searchPath, catalog, policyVersion: 1,
      });
      const got = d.reasons.map((r) => r.code);
      if (c.expect === 'block') {
        expect(d.decision).toBe('block');
        for (const code of c.codes) expect(got, c.sql).toContain(code);
      } else {
        expect(got, c.sql).toEqual([]);
      }
    });
  }
});

interface Measured {
  plan: WritePlan;
  count: number;
  captured: Record<string, unknown>[];
  returned: Record<string, unknown>[];
}

async function measure(sql: string): Promise<Measured> {
  const d = guard.decide({
    sql, tool: 'execute', principal: 'writer', database: 'demo', policy: wp.policy, observe: false,
    policyName: wp.policyName, searchPath: wp.searchPath, catalog, policyVersion: 1,
  });
  expect(d.decision).toBe('allow');
  const plan = planWrite(d, catalog, wp.searchPath);
  if (!isWritePlan(plan)) throw new Error(plan.reasons.map((r) => r.message).join('; '));
  const path = "SET LOCAL search_path = app, public";
  let count: number;
  if (plan.rowsFromAst !== undefined) count = plan.rowsFromAst;
  else {
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(path);
      const r = await client.query<{ count: string }>(plan.countSql ?? 'SELECT NULL::bigint AS count');
      count = Number(r.rows[0]?.count);
    } finally {
      await client.query('ROLLBACK');
    }
  }
  await client.query('BEGIN');
  try {
    await client.query(path);
    const captured = plan.captureSql === undefined ? [] : (await client.query<Record<string, unknown>>(plan.captureSql)).rows;
    const returned = (await client.query<Record<string, unknown>>(plan.executeSql)).rows;
    return { plan, count, captured, returned };
  } finally {
    await client.query('ROLLBACK');
  }
}

function keyOf(plan: WritePlan, row: Record<string, unknown>): string {
  return JSON.stringify(plan.target.primaryKey.map((k) => row[k]));
}

function byKey(plan: WritePlan, rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return [...rows].sort((a, b) => keyOf(plan, a).localeCompare(keyOf(plan, b)));
}

describe('plans measured against the real write (rolled back)', () => {
  for (const c of cases.filter((x) => x.expect !== 'block' && x.tool === 'execute')) {
    it(`${c.expect} ${c.id}: ${c.why}`, async () => {
      const m = await measure(c.sql);
      if (m.plan.countIsUpperBound) expect(m.returned.length).toBeLessThanOrEqual(m.count);
      else expect(m.returned.length, 'count = rows the write changes').toBe(m.count);
      if (m.plan.kind === 'update' || m.plan.kind === 'delete') {
        const capturedKeys = m.captured.map((r) => keyOf(m.plan, r));
        expect(new Set(capturedKeys).size, 'each target row captured once').toBe(capturedKeys.length);
        expect(new Set(m.returned.map((r) => keyOf(m.plan, r)))).toEqual(new Set(capturedKeys));
        if (m.plan.kind === 'delete') expect(byKey(m.plan, m.returned)).toEqual(byKey(m.plan, m.captured));
      }
      expect(m.count).toBeGreaterThan(0);
      expect(applyThresholds(m.count, wp.policy.writes).action).toBe(c.expect === 'hold' ? 'hold' : 'execute');
    });
  }
});
