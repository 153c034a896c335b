/**
 * The contract between the pure planner (src/guard/write) and the executor: real statements,
 * planned over the real catalog, executed with undo and reverted to the exact previous state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSchema } from '../../../src/config/schema.js';
import { loadCatalog } from '../../../src/db/catalog.js';
import { DatabasePool } from '../../../src/db/pool.js';
import { executeWrite, measureBlastRadius, revertWrite } from '../../../src/db/writes/index.js';
import { Guard, loadParser } from '../../../src/guard/index.js';
import type { CatalogSnapshot } from '../../../src/guard/types.js';
import { isWritePlan, planWrite } from '../../../src/guard/write/index.js';
import type { WritePlan } from '../../../src/guard/write-plan.js';
import { caps, session, setupWriteDb, snapshot, type WriteTestDb } from './helpers.js';

let w: WriteTestDb;
let pool: DatabasePool;
let catalog: CatalogSnapshot;
let guard: Guard;

beforeAll(async () => {
  await loadParser();
  w = await setupWriteDb();
  pool = new DatabasePool(databaseSchema.parse({ url: w.scratch.gatewayUrl, search_path: ['app'] }));
  catalog = await loadCatalog(pool, 1);
  guard = new Guard({ cacheSize: 10, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
});
afterAll(async () => {
  await pool?.end();
  await w?.end();
});

function plan(sql: string): WritePlan {
  const parsed = guard.parse(sql);
  expect(parsed.ok).toBe(true);
  const p = planWrite(parsed.stmts[0], catalog, ['app']);
  if (!isWritePlan(p)) throw new Error(`not planned: ${p.reasons.map((r) => r.code).join(', ')}`);
  return p;
}

const CASES: { sql: string; table: string; rows: number }[] = [
  { sql: "UPDATE app.support_tickets SET priority = 'low', closed_at = NULL WHERE id BETWEEN 10 AND 14", table: 'app.support_tickets', rows: 5 },
  { sql: "UPDATE support_tickets st SET subject = c.full_name FROM app.customers c WHERE c.id = st.customer_id AND st.id < 4", table: 'app.support_tickets', rows: 3 },
  { sql: 'DELETE FROM app.support_tickets t USING app.customers c WHERE c.id = t.customer_id AND t.id IN (20, 21)', table: 'app.support_tickets', rows: 2 },
  { sql: 'WITH ids AS (SELECT generate_series(30, 33) AS id) DELETE FROM app.support_tickets WHERE id IN (SELECT id FROM ids)', table: 'app.support_tickets', rows: 4 },
  { sql: "INSERT INTO app.write_types (id, note, doc) VALUES (500, 'a''b', '{\"k\": [1, 2]}'), (501, NULL, NULL)", table: 'app.write_types', rows: 2 },
  { sql: 'INSERT INTO app.write_types (id, amount) SELECT id + 1000, price_cents FROM app.products WHERE id <= 3', table: 'app.write_types', rows: 3 },
  { sql: "UPDATE app.write_types SET tags = array_append(tags, 'new'), amount = amount * 2 WHERE id IN (1, 3)", table: 'app.write_types', rows: 2 },
];

describe('planner → measure → execute → revert', () => {
  for (const c of CASES) {
    it(c.sql, async () => {
      const p = plan(c.sql);
      expect(p.reversible).toBe(true);
      const radius = await measureBlastRadius(w.db, p, { session });
      expect(radius.rows).toBe(c.rows);
      const before = await snapshot(w, c.table);
      const r = await executeWrite(w.db, p, { session, principal: 'alice', sql: c.sql, normalizedSql: c.sql, ...caps, allowedRows: radius.rows as number });
      expect(r.rowCount).toBe(c.rows);
      expect(await snapshot(w, c.table)).not.toEqual(before);
      await revertWrite(w.db, r.undoId as string, { by: 'alice' });
      expect(await snapshot(w, c.table)).toEqual(before);
    });
  }
});
