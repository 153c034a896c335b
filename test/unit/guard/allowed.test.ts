/**
 * Good SQL is not refused: realistic analyst queries over the demo schema are allowed under the
 * analyst policy, with their relations resolved.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import { guardRequest, testGuard } from './fixtures/catalog.js';
import { ALLOWED_QUERIES, ANALYTIC_40 } from './fixtures/queries.js';

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard();
});

describe('analyst queries are allowed', () => {
  it.each(ALLOWED_QUERIES.map((q) => [q.split('\n')[0]?.slice(0, 70) ?? q, q]))('%s', (_label, sql) => {
    const d = guard.decide(guardRequest(sql));
    expect(d.reasons).toEqual([]);
    expect(d.decision).toBe('allow');
    expect(d.needsCatalogRefresh).toBe(false);
  });

  it('the 40-line analytic query resolves every relation and function', () => {
    const d = guard.decide(guardRequest(ANALYTIC_40));
    expect(d.kind).toBe('read');
    expect(d.relations).toEqual(['app.customers', 'app.order_items', 'app.orders', 'app.products', 'app.support_tickets']);
    expect(d.functions).toEqual(expect.arrayContaining(['pg_catalog.count', 'pg_catalog.date_trunc', 'pg_catalog.rank', 'pg_catalog.lag', 'pg_catalog.string_agg']));
    expect(d.stmt).toHaveProperty('SelectStmt');
    expect(d.normalized).not.toContain("'paid'");
  });
});
