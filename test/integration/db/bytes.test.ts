/**
 * Issue #10 item 1 at the database layer: max_bytes bounds what is read off the socket (not only
 * what is returned), a single huge field is never buffered, a huge error message is not read, and
 * the gateway-wide budget makes a read wait, then refuses it RESULT_BUDGET_EXHAUSTED.
 * On 344cc74 the first cases read every row (501 × 1 MB) before applying the cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import { ResultBudget } from '../../../src/shared/budget.js';
import type { DatabasePool } from '../../../src/db/pool.js';
import { testDatabase } from '../../support/pg.js';
import { adminQuery, eventually, limits, poolFor, rejection } from './helpers.js';

const t = testDatabase();
let pool: DatabasePool;
const budget = new ResultBudget({ capacity: 5 * 1024 * 1024, waitMs: 400 });
const base = () => ({ limits: limits({ max_rows: 500, max_bytes: 4 * 1024 * 1024, statement_timeout_ms: 20_000 }), searchPath: ['app'] });

beforeAll(() => {
  pool = poolFor(t.gatewayUrl, { application_name: 'pgwarden-bytes' }, { budget });
});
afterAll(async () => {
  await pool.end();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(GatewayError);
  return (err as GatewayError).code;
}

/** Backends of this pool still running a statement. */
async function busyBackends(): Promise<number> {
  const rows = await adminQuery<{ n: string }>(t.adminUrl, "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pgwarden-bytes' AND state = 'active'");
  return Number(rows[0]?.n ?? 0);
}

describe('max_bytes bounds what is read', () => {
  it('501 rows of 1 MB under a 4 MB cap: a few rows come back, the rest is never read and the statement is cancelled', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const r = await pool.runRead({ ...base(), sql: "SELECT repeat('x', 1048576) AS x FROM generate_series(1, 501)" });
    const ms = performance.now() - started;
    expect(r.truncated).toBe(true);
    expect(r.truncatedBy).toBe('bytes');
    expect(r.rowCount).toBeGreaterThanOrEqual(1);
    expect(r.rowCount).toBeLessThanOrEqual(4);
    // Reading 501 MB takes seconds here; stopping at the cap takes a fraction of that.
    expect(ms).toBeLessThan(3_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(await eventually(async () => (await busyBackends()) === 0, 5_000)).toBe(true);
    expect(budget.used).toBe(0); // released: no scope, so at the end of the read
  });

  it('a single 64 MB field under a 1 MB cap is refused RESULT_TOO_LARGE without being buffered', async () => {
    const rssBefore = process.memoryUsage().rss;
    const code = await codeOf(pool.runRead({ ...base(), limits: limits({ max_bytes: 1024 * 1024, statement_timeout_ms: 20_000 }), sql: "SELECT repeat('y', 64 * 1024 * 1024)" }));
    expect(code).toBe('RESULT_TOO_LARGE');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(48 * 1024 * 1024);
  });

  it('an error quoting a 4 MB value is not read (RESULT_TOO_LARGE), and the pool stays usable', async () => {
    const code = await codeOf(pool.runRead({ ...base(), sql: "SELECT repeat('z', 4 * 1024 * 1024)::int" }));
    expect(code).toBe('RESULT_TOO_LARGE');
    const r = await pool.runRead({ ...base(), sql: 'SELECT 1 AS one' });
    expect(r.rows).toEqual([[1]]);
  });

  it('EXPLAIN output is bounded by max_bytes as well', async () => {
    const r = await pool.runRead({ ...base(), sql: 'SELECT 1', explain: { analyze: false } });
    expect(Array.isArray(r.plan)).toBe(true);
  });
});

describe('the gateway-wide byte budget', () => {
  it('a read that needs more than the budget has free waits, then is refused RESULT_BUDGET_EXHAUSTED', async () => {
    const holder = budget.scope();
    // 4 MB of the 5 MiB held by a "response still being written" (the scope is not ended).
    const held = await pool.runRead({ ...base(), budgetScope: holder, sql: "SELECT repeat('a', 1000000) FROM generate_series(1, 4)" });
    expect(held.rowCount).toBe(4);
    expect(budget.used).toBeGreaterThan(4_000_000);
    const started = performance.now();
    const code = await codeOf(pool.runRead({ ...base(), sql: "SELECT repeat('b', 500000) FROM generate_series(1, 3)" }));
    expect(code).toBe('RESULT_BUDGET_EXHAUSTED');
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    // Small reads still pass (the first 64 KiB of a read are always granted).
    expect((await pool.runRead({ ...base(), sql: 'SELECT 1' })).rows).toEqual([[1]]);
    // Once the response is over, the same read goes through; a waiting read is served as soon as room frees.
    const waiting = pool.runRead({ ...base(), sql: "SELECT repeat('c', 500000) FROM generate_series(1, 3)" });
    setTimeout(() => holder.end(), 100);
    expect((await waiting).rowCount).toBe(3);
    expect(budget.used).toBe(0);
    expect(budget.refused).toBeGreaterThanOrEqual(1);
  });
});
