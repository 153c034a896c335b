/**
 * Parse-time values and the statement cache: 'now'/'today'/… literals are turned into a value when
 * PostgreSQL parses a statement, so a cached statement would keep its first use's time (stale
 * results, and a clock of other principals' reads on the connection). Such texts are not cached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabasePool } from '../../../src/db/pool.js';
import type { ReadOptions } from '../../../src/shared/reads.js';
import { testDatabase } from '../../support/pg.js';
import { limits, poolFor } from './helpers.js';

const t = testDatabase();
const who = (value: string): Omit<ReadOptions, 'sql'> => ({ limits: limits(), searchPath: ['app'], principal: { setting: 'pgwarden.principal', value } });
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('statement cache: parse-time values', () => {
  let one: DatabasePool;
  beforeAll(() => {
    one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
  });
  afterAll(async () => {
    await one.end();
  });

  it('a statement with bind values gets a custom plan on every run, as the unnamed one did (no generic plan after 5 runs)', async () => {
    // a custom plan folds 1/$1 (division by zero at Bind); a generic one never evaluates the untaken arm
    const sql = 'SELECT CASE WHEN id < 0 THEN 1 / $1::int END AS x FROM orders WHERE id <= 2 ORDER BY id';
    for (let i = 0; i < 7; i++) await one.runRead({ ...who('alice'), sql, params: [1] });
    await expect(one.runRead({ ...who('alice'), sql, params: [0] })).rejects.toMatchObject({ details: { sqlstate: '22012' } });
  });

  it.each(["SELECT 'now'::timestamptz::text AS t", "SELECT (timestamptz ' NOW ')::text AS t", "SELECT E'n\\157w'::timestamptz::text AS t", "SELECT U&'\\006Eow'::timestamptz::text AS t"])(
    '%s answers the time of each read, not of its first one',
    async (sql) => {
      const first = (await one.runRead({ ...who('alice'), sql })).rows[0]?.[0];
      await pause(20);
      const second = (await one.runRead({ ...who('alice'), sql })).rows[0]?.[0];
      expect(second).not.toBe(first);
    },
  );
});
