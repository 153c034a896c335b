/**
 * One owner per connection holds for EVERY read, not only the cached ones: a read the cache does not
 * keep (a text over STATEMENT_CACHE_MAX_TEXT, EXPLAIN, a parse-time value) by another principal
 * still closes the previous owner's statements first (the guard's refusal of pg_prepared_statements
 * is the other layer; this one must hold on its own).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabasePool } from '../../../src/db/pool.js';
import { STATEMENT_CACHE_MAX_TEXT } from '../../../src/db/statement-cache.js';
import type { ReadOptions } from '../../../src/shared/reads.js';
import { testDatabase } from '../../support/pg.js';
import { limits, poolFor } from './helpers.js';

const t = testDatabase();
const who = (value: string): Omit<ReadOptions, 'sql'> => ({ limits: limits(), searchPath: ['app'], principal: { setting: 'pgwarden.principal', value } });

describe('statement cache: the owner switch on uncached reads', () => {
  let one: DatabasePool;
  beforeAll(() => {
    one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
  });
  afterAll(async () => {
    await one.end();
  });

  const peek = 'SELECT statement FROM pg_prepared_statements';
  it.each([
    ['a long text', `${peek} /* ${'x'.repeat(STATEMENT_CACHE_MAX_TEXT)} */`, undefined],
    ['a parse-time value', `${peek} WHERE 'now'::timestamptz IS NOT NULL`, undefined],
    ['EXPLAIN ANALYZE', `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%alice-secret%' HAVING count(*) > 0`, { analyze: true }],
  ])("%s by another principal runs without the previous owner's statements", async (_what, sql, explain) => {
    await one.runRead({ ...who('alice'), sql: "SELECT id FROM customers WHERE email = 'alice-secret@example.com'" });
    const r = await one.runRead({ ...who('bob'), sql, ...(explain ? { explain } : {}) });
    // EXPLAIN: the plan quotes the filter's literal; its top node's row count is what leaks
    if (explain) expect((r.plan as { Plan: { 'Actual Rows': number } }[])[0]?.Plan['Actual Rows']).toBe(0);
    else expect(JSON.stringify(r.rows)).not.toContain('alice-secret');
  });
});
