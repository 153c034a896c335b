/**
 * The read path's statement cache (src/db/statement-cache.ts, SECURITY.md layer 4) against a real
 * server: reuse, one owner per connection (another principal or role never sees or binds the
 * previous owner's statements, even if the guard let pg_prepared_statements through), the bounds,
 * invalidation after DDL, lost statements, and equivalence with the uncached path (results,
 * errors, caps, timeouts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import type { DatabasePool } from '../../../src/db/pool.js';
import type { ReadOptions } from '../../../src/shared/reads.js';
import { readHardeningSteps } from '../../../src/db/read.js';
import { statementName } from '../../../src/db/statement-cache.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';
import { testDatabase } from '../../support/pg.js';
import { adminQuery, limits, poolFor, rejection } from './helpers.js';

const t = testDatabase();
const alice = { setting: 'pgwarden.principal', value: 'alice' };
const bob = { setting: 'pgwarden.principal', value: 'bob' };
const base = (principal = alice): Omit<ReadOptions, 'sql'> => ({ limits: limits(), searchPath: ['app'], principal });

/** The named statements of the pool's one connection, read on that connection through the trusted path. */
async function cached(pool: DatabasePool): Promise<{ name: string; statement: string; uses: number }[]> {
  return await pool.withTrustedRead(async (client) => {
    const r = await client.query<{ name: string; statement: string; uses: number }>(
      "SELECT name, statement, (generic_plans + custom_plans)::int AS uses FROM pg_prepared_statements WHERE name LIKE 'pgwarden\\_s%' ORDER BY prepare_time, name",
    );
    return r.rows;
  });
}

/** What an agent observes of a read: the result without timing, or the refusal. */
async function observe(pool: DatabasePool, options: ReadOptions): Promise<unknown> {
  try {
    const { elapsedMs: _elapsed, ...r } = await pool.runRead(options);
    return { ok: r };
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    return { error: e.code, message: e.message, details: e.details };
  }
}

describe('statement cache: reuse and ownership', () => {
  let one: DatabasePool;
  beforeAll(() => {
    one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
  });
  afterAll(async () => {
    await one.end();
  });

  it('prepares a text once per connection and only binds it after', async () => {
    const sql = 'SELECT id, status FROM orders WHERE id = 7';
    for (let i = 0; i < 3; i++) expect((await one.runRead({ ...base(), sql })).rows).toEqual([[7, expect.any(String)]]);
    const stmts = await cached(one);
    expect(stmts.filter((s) => s.statement === sql)).toEqual([{ name: statementName({ searchPath: ['app'], principal: alice }, sql), statement: sql, uses: 3 }]);
  });

  it("another principal's read closes the previous owner's statements first: never visible, never bound", async () => {
    const secret = "SELECT id FROM customers WHERE email = 'alice-secret@example.com'";
    await one.runRead({ ...base(alice), sql: secret });
    expect((await cached(one)).map((s) => s.statement)).toContain(secret);
    // Even if the guard let the view through (it refuses it under every policy), bob sees none of alice's texts.
    const seen = await one.runRead({ ...base(bob), sql: 'SELECT name, statement FROM pg_prepared_statements' });
    expect(JSON.stringify(seen.rows)).not.toContain('alice-secret');
    const texts = seen.rows.map((r) => String(r[1]));
    const trusted = (s: string): boolean => s === 'BEGIN READ ONLY' || s === 'ROLLBACK' || s.startsWith('SELECT pg_catalog.set_config(');
    expect(texts.filter((s) => !trusted(s))).toEqual(['SELECT name, statement FROM pg_prepared_statements']);
    const after = (await cached(one)).map((s) => s.statement);
    expect(after).not.toContain(secret);
    expect(after).toEqual(['SELECT name, statement FROM pg_prepared_statements']);
    // alice again: her old statement is gone, parsed anew under a fresh name, and bob's is closed.
    await one.runRead({ ...base(alice), sql: secret });
    expect((await cached(one)).map((s) => s.statement)).toEqual([secret]);
  });

  it('the same principal under another role is another owner', async () => {
    const sql = 'SELECT count(*) FROM orders';
    await one.runRead({ ...base(alice), sql });
    const before = await cached(one);
    await one.runRead({ ...base(alice), role: t.readerRole, sql });
    const after = await cached(one);
    expect(after).toHaveLength(1);
    expect(after[0]?.statement).toBe(sql);
    expect(after[0]?.name).not.toBe(before.find((s) => s.statement === sql)?.name);
    expect(after[0]?.uses).toBe(1);
  });
});

describe('statement cache: bounds', () => {
  it('keeps at most the configured number per connection, least recently used closed first', async () => {
    const small = poolFor(t.gatewayUrl, { pool: { max: 1 } }, { statementCache: 3 });
    try {
      const q = (n: number): string => `SELECT ${n} AS n`;
      for (const n of [1, 2, 3]) await small.runRead({ ...base(), sql: q(n) });
      await small.runRead({ ...base(), sql: q(1) }); // 1 is now the most recently used
      await small.runRead({ ...base(), sql: q(4) }); // evicts 2
      await small.runRead({ ...base(), sql: q(5) }); // evicts 3
      expect((await cached(small)).map((s) => s.statement).sort()).toEqual([q(1), q(4), q(5)]);
      for (let n = 6; n < 30; n++) await small.runRead({ ...base(), sql: q(n) });
      expect(await cached(small)).toHaveLength(3);
    } finally {
      await small.end();
    }
  });

  it('does not cache texts over 8,192 characters, EXPLAIN, or with the cache off', async () => {
    const one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    const off = poolFor(t.gatewayUrl, { pool: { max: 1 } }, { statementCache: 0 });
    try {
      const long = `SELECT 1 AS n /* ${'x'.repeat(8200)} */`;
      expect((await one.runRead({ ...base(), sql: long })).rows).toEqual([[1]]);
      await one.runRead({ ...base(), sql: 'SELECT 2', explain: { analyze: false } });
      expect(await cached(one)).toEqual([]);
      await off.runRead({ ...base(), sql: 'SELECT 3' });
      expect(await cached(off)).toEqual([]);
    } finally {
      await one.end();
      await off.end();
    }
  });

  it('a read that fails after its pipeline succeeded (RESULT_TOO_LARGE by JSON size) keeps its statement and the cache on', async () => {
    const one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      // 500 bytes on the wire, 3,000 characters of JSON ("\u0001" each): past max_bytes only once shaped
      const sql = 'SELECT repeat(chr(1), 500)';
      for (let i = 0; i < 3; i++) expect(((await rejection(one.runRead({ ...base(), limits: limits({ max_bytes: 1000 }), sql }))) as GatewayError).code).toBe('RESULT_TOO_LARGE');
      for (let i = 0; i < 2; i++) await one.runRead({ ...base(), sql: 'SELECT 42' });
      const stmts = await cached(one);
      expect(stmts.find((s) => s.statement === sql)?.uses).toBe(3);
      expect(stmts.find((s) => s.statement === 'SELECT 42')?.uses).toBe(2);
    } finally {
      await one.end();
    }
  });

  it('a first use that fails is not kept: its name is closed by the next read', async () => {
    const one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      for (let i = 0; i < 3; i++) expect(((await rejection(one.runRead({ ...base(), sql: 'SELECT 1/0' }))) as GatewayError).code).toBe('DATABASE_ERROR');
      await one.runRead({ ...base(), sql: 'SELECT 1' });
      expect((await cached(one)).map((s) => s.statement)).toEqual(['SELECT 1']);
    } finally {
      await one.end();
    }
  });
});

describe('statement cache: invalidation', () => {
  let scratch: ScratchDatabase;
  let pool: DatabasePool;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await adminQuery(scratch.databaseUrl, 'CREATE TABLE app.pc_ddl (a int); INSERT INTO app.pc_ddl VALUES (1); GRANT SELECT ON app.pc_ddl TO PUBLIC');
    pool = poolFor(scratch.gatewayUrl, { pool: { max: 1 } });
  });
  afterAll(async () => {
    await pool.end();
    await scratch.drop();
  });

  it('after DDL changes the result type (0A000 at Bind), the read is retried once unnamed and answers like a fresh parse', async () => {
    const sql = 'SELECT * FROM pc_ddl';
    expect((await pool.runRead({ ...base(), sql })).columns.map((c) => c.name)).toEqual(['a']);
    await adminQuery(scratch.databaseUrl, "ALTER TABLE app.pc_ddl ADD COLUMN b text DEFAULT 'x'");
    const r = await pool.runRead({ ...base(), sql });
    expect(r.columns).toEqual([
      { name: 'a', type: 'integer' },
      { name: 'b', type: 'text' },
    ]);
    expect(r.rows).toEqual([[1, 'x']]);
    // The stale statement is closed; the next read prepares the text again and keeps it.
    await pool.runRead({ ...base(), sql });
    expect((await cached(pool)).map((s) => [s.statement, s.uses])).toEqual([[sql, 1]]);
    // DDL that keeps the result type: PostgreSQL re-plans silently.
    await adminQuery(scratch.databaseUrl, 'CREATE INDEX ON app.pc_ddl (a)');
    expect((await pool.runRead({ ...base(), sql })).rows).toEqual([[1, 'x']]);
  });

  it('a cached statement the server lost (26000) is retried unnamed and turns the cache off for the pool', async () => {
    const lost = poolFor(scratch.gatewayUrl, { pool: { max: 1 } });
    try {
      const sql = 'SELECT a FROM pc_ddl';
      await lost.runRead({ ...base(), sql });
      const [stmt] = await cached(lost);
      expect(stmt?.statement).toBe(sql);
      await lost.withTrustedRead(async (client) => client.query(`DEALLOCATE ${stmt?.name ?? 'x'}`));
      expect((await lost.runRead({ ...base(), sql })).rows).toEqual([[1]]);
      await lost.runRead({ ...base(), sql: 'SELECT 2' });
      expect(await cached(lost)).toEqual([]);
    } finally {
      await lost.end();
    }
  });
});

describe('statement cache: a name another connection prepared', () => {
  // Behind PgBouncer in transaction mode without max_prepared_statements, a pipeline can reach a
  // server connection where another of our connections prepared statements. Simulated by
  // preparing the names on the connection first.
  it('a first use closes a statement of its name before parsing it: never binds what was there', async () => {
    const pool = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      const sql = 'SELECT id FROM orders WHERE id = 3';
      const name = statementName({ searchPath: ['app'], principal: alice }, sql);
      await pool.withTrustedRead(async (client) => client.query(`PREPARE ${name} AS SELECT 'not this' AS id`));
      expect((await pool.runRead({ ...base(), sql })).rows).toEqual([[3]]);
      expect((await pool.runRead({ ...base(), sql })).rows).toEqual([[3]]);
      expect(await cached(pool)).toEqual([{ name, statement: sql, uses: 2 }]);
    } finally {
      await pool.end();
    }
  });

  it('so does the prepared hardening', async () => {
    const pool = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      const settings = readHardeningSteps(base())[1];
      const name = settings !== undefined && typeof settings !== 'string' ? settings.name : '';
      expect(name).toMatch(/^pgwarden_read_hardening_\d+$/);
      await pool.withTrustedRead(async (client) => client.query(`PREPARE ${name} AS SELECT 1`));
      expect((await pool.runRead({ ...base(), sql: 'SELECT id FROM orders WHERE id = 5' })).rows).toEqual([[5]]);
      const texts = await pool.withTrustedRead(async (client) => (await client.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements WHERE name = $1', [name])).rows);
      expect(texts).toEqual([{ statement: typeof settings !== 'string' ? settings?.text : '' }]);
    } finally {
      await pool.end();
    }
  });
});

describe('statement cache: what an agent observes is the same as without it', () => {
  let on: DatabasePool;
  let off: DatabasePool;
  beforeAll(() => {
    on = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    off = poolFor(t.gatewayUrl, { pool: { max: 1 } }, { statementCache: 0 });
  });
  afterAll(async () => {
    await on.end();
    await off.end();
  });

  const cases: [string, Partial<ReadOptions>][] = [
    ['SELECT id, customer_id, total_cents FROM orders WHERE id = 3', {}],
    ['SELECT id FROM orders ORDER BY id', { limits: limits({ max_rows: 5 }) }],
    ['SELECT repeat($1, 200) FROM orders ORDER BY id', { limits: limits({ max_bytes: 2_000 }), params: ['ab'] }],
    ['SELECT id FROM customers WHERE id = $1', { params: [2] }],
    ['SELEC 1', {}],
    ['SELECT nope FROM orders', {}],
    ['SELECT * FROM no_such_table', {}],
    ['SELECT 1/0', {}],
    ['SELECT 1 FROM orders WHERE id = $1', { params: ['not a number'] }],
    ['SELECT pg_sleep(0.5)', { limits: limits({ statement_timeout_ms: 50 }) }],
    ["SELECT current_setting('transaction_read_only'), current_setting('pgwarden.principal'), current_user::text", { role: t.readerRole }],
  ];

  it.each(cases)('%s (first use and cached use)', async (sql, extra) => {
    const options = { ...base(), ...extra, sql } as ReadOptions;
    const expected = await observe(off, options);
    expect(await observe(on, options)).toEqual(expected); // first use: Parse of the named statement
    expect(await observe(on, options)).toEqual(expected); // the cached statement, or its first use again after a failure
    expect(await observe(off, options)).toEqual(expected);
  });

  it('interleaved texts each bind their own statement', async () => {
    // one owner (a role is another owner: its read would empty the cache) and one connection (a
    // read stopped at the byte cap drops its connection, and the cache with it)
    const all = cases.filter(([sql, extra]) => extra.role === undefined && !sql.startsWith('SELECT repeat(')).map(([sql, extra]) => ({ ...base(), ...extra, sql }) as ReadOptions);
    const expected = [];
    for (const options of all) expected.push(await observe(off, options));
    for (let round = 0; round < 2; round++) {
      for (const [i, options] of all.entries()) expect(await observe(on, options), options.sql).toEqual(expected[i]);
    }
    // the texts that succeed were bound from the cache in the second round
    const stmts = await cached(on);
    for (const sql of ['SELECT id, customer_id, total_cents FROM orders WHERE id = 3', 'SELECT id FROM orders ORDER BY id', 'SELECT id FROM customers WHERE id = $1']) {
      expect(stmts.find((c) => c.statement === sql)?.uses, sql).toBeGreaterThanOrEqual(2);
    }
  });
});
