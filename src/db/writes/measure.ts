/**
 * Blast radius: how many rows a planned write will change, measured before it runs.
 *
 * Guarantees:
 * - `count` (default): the plan's countSql runs over the extended protocol inside the read
 *   path's hardened `BEGIN READ ONLY` transaction (statement timeout = the time box), so it
 *   cannot write; the transaction is rolled back. INSERT … VALUES is counted from the tree
 *   (rowsFromAst) without a statement.
 * - The table's size is the planner statistic pg_class.reltuples (an estimate; null when the
 *   table was never analyzed), and the share is rows / max(estimate, rows).
 * - `execute-rollback` (opt-in, measure: execute-rollback): runs the write itself in a
 *   read-write transaction and ROLLS BACK. It has side effects a rollback does not undo or hide:
 *   triggers fire (and anything they do outside the database, e.g. NOTIFY is discarded but
 *   dblink/foreign writes are not), sequences advance, row locks are taken and held for the
 *   duration, and it costs as much as the write. Use it only where counting is impossible.
 * Does not: decide what the radius means (the policy's thresholds do), or guarantee the radius
 * still holds when the write runs (the executor re-checks the row count: allowedRows).
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { GatewayError } from '../../errors/gateway-error.js';
import type { WritePlan } from '../../guard/write-plan.js';
import { hardeningSql } from '../read.js';
import { toGatewayError } from '../errors.js';
import { extendedQuery, writeHardeningSql, type WriteDatabase } from './session.js';
import type { BlastRadius, MeasureOptions } from '../../shared/writes.js';

export type { BlastRadius, MeasureOptions } from '../../shared/writes.js';

const ESTIMATE_SQL =
  'SELECT c.reltuples::float8 AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relname = $2';

async function tableEstimate(client: pg.PoolClient, plan: WritePlan): Promise<number | null> {
  const r = await client.query<{ n: number }>(ESTIMATE_SQL, [plan.target.schema, plan.target.name]);
  const n = r.rows[0]?.n;
  return n === undefined || n < 0 ? null : Math.round(n);
}

function countValue(row: Record<string, unknown> | undefined): number {
  const v = row === undefined ? undefined : Object.values(row)[0];
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new GatewayError('INTERNAL_ERROR', 'The blast-radius count did not return a row count.');
  return n;
}

function shareOf(rows: number | null, estimate: number | null): number | null {
  if (rows === null || estimate === null) return null;
  const denominator = Math.max(estimate, rows);
  return denominator === 0 ? 0 : Math.round((rows / denominator) * 10_000) / 10_000;
}

/** Measure the blast radius of a planned write (see the module header). */
export async function measureBlastRadius(db: WriteDatabase, plan: WritePlan, options: MeasureOptions): Promise<BlastRadius> {
  const started = performance.now();
  const method = options.method ?? 'count';
  const params = options.params === undefined ? [] : [...options.params];
  const done = (rows: number | null, estimate: number | null, m: BlastRadius['method']): BlastRadius => {
    const out: BlastRadius = { rows, tableEstimate: estimate, share: shareOf(rows, estimate), method: m, elapsedMs: Math.round((performance.now() - started) * 1000) / 1000 };
    if (rows === null && plan.uncountableReason !== undefined) out.uncountableReason = plan.uncountableReason;
    return out;
  };

  if (method === 'execute-rollback') {
    const client = await db.connect();
    try {
      await client.query(writeHardeningSql(options.session));
      const r = await client.query(extendedQuery(`WITH pgwarden_w AS (${plan.executeSql}) SELECT count(*) AS n FROM pgwarden_w`, params));
      const rows = countValue(r.rows[0] as Record<string, unknown> | undefined);
      const estimate = await tableEstimate(client, plan);
      await client.query('ROLLBACK');
      client.release();
      return done(rows, estimate, 'execute-rollback');
    } catch (err) {
      client.release(err instanceof Error ? err : new Error('measure failed'));
      throw toGatewayError(err);
    }
  }

  // INSERT … VALUES with the planner's estimate: nothing to ask the database.
  if (plan.rowsFromAst !== undefined && plan.tableEstimatedRows !== undefined) {
    return done(plan.rowsFromAst, plan.tableEstimatedRows < 0 ? null : plan.tableEstimatedRows, 'ast');
  }

  const client = await db.connect();
  try {
    await client.query(hardeningSql(options.session));
    let rows: number | null = null;
    let m: BlastRadius['method'] = 'uncountable';
    if (plan.rowsFromAst !== undefined) {
      rows = plan.rowsFromAst;
      m = 'ast';
    } else if (plan.countSql !== undefined) {
      // Extended protocol (a values array, even when empty): one statement only.
      const r = await client.query(extendedQuery(plan.countSql, params));
      rows = countValue(r.rows[0] as Record<string, unknown> | undefined);
      m = 'count';
    }
    const estimate = await tableEstimate(client, plan);
    await client.query('ROLLBACK');
    client.release();
    return done(rows, estimate, m);
  } catch (err) {
    // Destroying the connection ends the transaction whatever state it is in.
    client.release(err instanceof Error ? err : new Error('measure failed'));
    throw toGatewayError(err);
  }
}
