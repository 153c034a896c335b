/**
 * The statement cache's retry (SECURITY.md layer 4 (d)) is only for a cached statement refused at
 * Bind (0A000 after DDL, 26000 lost): the same SQLSTATEs raised while the statement runs (a NaN
 * cast to integer is 0A000; a function may raise 26000) must not run the read a second time.
 * Counted with a session-level advisory lock taken by the statement (it survives the ROLLBACK).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabasePool } from '../../../src/db/pool.js';
import type { ReadOptions } from '../../../src/shared/reads.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';
import { adminQuery, limits, poolFor, rejection } from './helpers.js';

const base: Omit<ReadOptions, 'sql'> = { limits: limits(), searchPath: ['app'], principal: { setting: 'pgwarden.principal', value: 'alice' } };

describe('statement cache: a run-time 0A000/26000 is not retried', () => {
  let s: ScratchDatabase;
  let pool: DatabasePool;
  beforeAll(async () => {
    s = await createScratchDatabase();
    await adminQuery(
      s.databaseUrl,
      "CREATE TABLE app.review_v (v numeric); INSERT INTO app.review_v VALUES (1); GRANT SELECT ON app.review_v TO PUBLIC; CREATE FUNCTION app.review_r26() RETURNS int LANGUAGE plpgsql AS $$BEGIN IF (SELECT v FROM app.review_v) = 2 THEN RAISE SQLSTATE '26000'; END IF; RETURN 1; END$$;",
    );
    pool = poolFor(s.gatewayUrl, { pool: { max: 1 } });
  });
  afterAll(async () => {
    await pool?.end();
    await s?.drop();
  });

  /** How many times the statement ran since the last call: session advisory locks released on the pool's one connection. */
  async function runs(): Promise<number> {
    return await pool.withTrustedRead(async (client) => {
      let n = 0;
      while ((await client.query<{ u: boolean }>('SELECT pg_advisory_unlock(4242) AS u')).rows[0]?.u === true) n += 1;
      return n;
    });
  }

  it.each([
    ['0A000', "UPDATE app.review_v SET v = 'NaN'", 'SELECT pg_advisory_lock(4242)::text AS l, (SELECT v FROM review_v)::int AS x'],
    ['26000', 'UPDATE app.review_v SET v = 2', 'SELECT pg_advisory_lock(4242)::text AS l, review_r26() AS x'],
  ])('%s raised while the cached statement runs: it ran once, the error is the answer', async (code, change, sql) => {
    await adminQuery(s.databaseUrl, 'UPDATE app.review_v SET v = 1');
    await pool.runRead({ ...base, sql });
    expect(await runs()).toBe(1);
    await adminQuery(s.databaseUrl, change);
    const err = (await rejection(pool.runRead({ ...base, sql }))) as { details?: { sqlstate?: string } };
    expect(err.details?.sqlstate).toBe(code);
    expect(await runs()).toBe(1);
  });
});
