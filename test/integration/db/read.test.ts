import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CappedQuery } from '../../../src/db/capped-query.js';
import { hardeningStatements, readHardeningSteps } from '../../../src/db/read.js';
import { WireMeter } from '../../../src/db/wire-meter.js';
import { GatewayError } from '../../../src/core/errors.js';
import { CallCancel } from '../../../src/core/signals.js';
import type { DatabasePool } from '../../../src/db/pool.js';
import { testDatabase } from '../../support/pg.js';
import { adminQuery, eventually, limits, poolFor, rejection } from './helpers.js';

let pool: DatabasePool;
const t = testDatabase();
const base = () => ({ limits: limits(), searchPath: ['app'] });

beforeAll(() => {
  pool = poolFor(t.gatewayUrl);
});
afterAll(async () => {
  await pool.end();
});

async function gatewayError(p: Promise<unknown>): Promise<GatewayError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe('runRead: results', () => {
  it('returns columns with type names and JSON-safe values', async () => {
    const r = await pool.runRead({
      ...base(),
      sql: "SELECT id, full_name, signed_up, profile, 12345678901234567890::numeric AS big, 9007199254740993::int8 AS huge, 42::int8 AS small, '\\x0102'::bytea AS b, 'NaN'::float8 AS nan FROM customers WHERE id = 1",
    });
    expect(r.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'full_name', type: 'text' },
      { name: 'signed_up', type: 'timestamp with time zone' },
      { name: 'profile', type: 'jsonb' },
      { name: 'big', type: 'numeric' },
      { name: 'huge', type: 'bigint' },
      { name: 'small', type: 'bigint' },
      { name: 'b', type: 'bytea' },
      { name: 'nan', type: 'double precision' },
    ]);
    expect(r.rows).toHaveLength(1);
    const [id, name, signedUp, profile, big, huge, small, bytes, nan] = r.rows[0] as unknown[];
    expect(id).toBe(1);
    expect(name).toBe('Grace Lovelace');
    expect(signedUp).toMatch(/^2024-01-01 17:00:00\+00|^2024-01-01 \d\d:00:00[+-]\d\d/);
    expect(profile).toEqual({ tier: 'silver', newsletter: false });
    expect(big).toBe('12345678901234567890');
    expect(huge).toBe('9007199254740993');
    expect(small).toBe(42);
    expect(bytes).toBe('\\x0102');
    expect(nan).toBe('NaN');
    expect(r.truncated).toBe(false);
    expect(r.truncatedBy).toBeUndefined();
    expect(JSON.parse(JSON.stringify(r.rows))).toEqual(r.rows);
  });

  it('resolves unqualified names with the pinned search_path', async () => {
    const r = await pool.runRead({ ...base(), sql: 'SELECT current_setting($1) AS sp, count(*) AS n FROM products', params: ['search_path'] });
    expect(r.rows[0]).toEqual(['app', 50]);
  });

  it('looks up names of types that are not built in', async () => {
    const r = await pool.runRead({ ...base(), sql: "SELECT 'app.customers'::regclass AS rel, ROW(1, 'a') AS rec, int4range(1, 5) AS rng" });
    expect(r.columns.map((c) => c.type)).toEqual(['regclass', 'record', 'int4range']);
  });
});

describe('runRead: caps', () => {
  it('stops at max_rows through the portal and says so', async () => {
    const r = await pool.runRead({ ...base(), limits: limits({ max_rows: 7 }), sql: 'SELECT id FROM orders ORDER BY id' });
    expect(r.rowCount).toBe(7);
    expect(r.rows).toEqual([[1], [2], [3], [4], [5], [6], [7]]);
    expect(r.truncated).toBe(true);
    expect(r.truncatedBy).toBe('rows');
  });

  it('does not report truncation when the result has exactly max_rows rows', async () => {
    const r = await pool.runRead({ ...base(), limits: limits({ max_rows: 5 }), sql: 'SELECT g FROM generate_series(1, 5) g' });
    expect(r.rowCount).toBe(5);
    expect(r.truncated).toBe(false);
  });

  it('reads large results in batches up to max_rows', async () => {
    const r = await pool.runRead({ ...base(), limits: limits({ max_rows: 1500 }), sql: 'SELECT id FROM events ORDER BY id' });
    expect(r.rowCount).toBe(1500);
    expect(r.truncated).toBe(true);
    expect(r.rows[1499]).toEqual([1500]);
  });

  it('stops at max_bytes and says so', async () => {
    const r = await pool.runRead({ ...base(), limits: limits({ max_bytes: 2_000 }), sql: 'SELECT id, body FROM support_tickets ORDER BY id' });
    expect(r.truncated).toBe(true);
    expect(r.truncatedBy).toBe('bytes');
    expect(r.rowCount).toBeGreaterThan(10);
    expect(JSON.stringify(r.rows).length).toBeLessThanOrEqual(2_000);
  });

  it('refuses a first row larger than max_bytes, and the connection stays usable', async () => {
    const err = await gatewayError(pool.runRead({ ...base(), limits: limits({ max_bytes: 100 }), sql: "SELECT repeat('x', 500)" }));
    expect(err.code).toBe('RESULT_TOO_LARGE');
    const r = await pool.runRead({ ...base(), sql: 'SELECT 1' });
    expect(r.rows).toEqual([[1]]);
  });

  it('never rewrites the statement text (LIMIT inside stays the agent\'s)', async () => {
    const r = await pool.runRead({ ...base(), limits: limits({ max_rows: 3 }), sql: 'SELECT id FROM orders ORDER BY id LIMIT 2' });
    expect(r.rowCount).toBe(2);
    expect(r.truncated).toBe(false);
  });
});

describe('runRead: hardening', () => {
  it('cannot send several statements (extended protocol): the smuggled DROP never runs', async () => {
    const err = await gatewayError(pool.runRead({ ...base(), sql: 'SELECT 1; COMMIT; DROP TABLE app.events' }));
    expect(err.code).toBe('DATABASE_ERROR');
    expect(err.details.sqlstate).toBe('42601');
    const rows = await adminQuery<{ exists: boolean }>(t.databaseUrl, "SELECT to_regclass('app.events') IS NOT NULL AS exists");
    expect(rows[0]?.exists).toBe(true);
  });

  it('refuses a write inside the read-only transaction (25006)', async () => {
    const err = await gatewayError(pool.runRead({ ...base(), sql: "WITH d AS (DELETE FROM app.events WHERE id = 1 RETURNING id) SELECT count(*) FROM d" }));
    expect(err.code).toBe('READ_ONLY_VIOLATION');
    expect(err.details.sqlstate).toBe('25006');
    const rows = await adminQuery<{ n: string }>(t.databaseUrl, 'SELECT count(*) AS n FROM app.events WHERE id = 1');
    expect(rows[0]?.n).toBe('1');
  });

  it('applies SET LOCAL ROLE: the reader role cannot read internal', async () => {
    const err = await gatewayError(pool.runRead({ ...base(), role: t.readerRole, sql: 'SELECT secret FROM internal.api_keys' }));
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.details.sqlstate).toBe('42501');
    const ok = await pool.runRead({ ...base(), role: t.readerRole, sql: 'SELECT current_user, count(*) FROM customers' });
    expect(ok.rows[0]).toEqual([t.readerRole, 200]);
    // and the role does not leak into the next statement on a reused connection
    const after = await pool.runRead({ ...base(), sql: 'SELECT current_user' });
    expect(after.rows[0]).toEqual([t.gatewayRole]);
  });

  it('the reader role cannot reach internal through the app view either', async () => {
    const err = await gatewayError(pool.runRead({ ...base(), role: t.readerRole, sql: 'SELECT * FROM app.customer_notes' }));
    expect(err.code).toBe('PERMISSION_DENIED');
  });

  it('sets the principal setting for the transaction only', async () => {
    const r = await pool.runRead({ ...base(), principal: { setting: 'pgwarden.principal', value: "o'brien" }, sql: "SELECT current_setting('pgwarden.principal')" });
    expect(r.rows[0]).toEqual(["o'brien"]);
    const after = await pool.runRead({ ...base(), sql: "SELECT current_setting('pgwarden.principal', true)" });
    expect(after.rows[0]?.[0] === null || after.rows[0]?.[0] === '').toBe(true);
  });

  it('returns every connection without an open transaction', async () => {
    for (let i = 0; i < 3; i++) await rejection(pool.runRead({ ...base(), sql: 'SELECT 1/0' }));
    const states = await adminQuery<{ state: string }>(
      t.databaseUrl,
      "SELECT state FROM pg_stat_activity WHERE application_name = 'pgwarden-test' AND usename = $1",
      [t.gatewayRole],
    );
    expect(states.length).toBeGreaterThan(0);
    for (const s of states) expect(s.state).toBe('idle');
  });
});

describe('runRead: time limits and cancellation', () => {
  it('statement_timeout → STATEMENT_TIMEOUT, and the backend is no longer active', async () => {
    const started = Date.now();
    const err = await gatewayError(pool.runRead({ ...base(), limits: limits({ statement_timeout_ms: 1_000 }), sql: 'SELECT pg_sleep(60)' }));
    expect(err.code).toBe('STATEMENT_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
    const active = await adminQuery(t.databaseUrl, "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()");
    expect(active).toEqual([]);
  });

  // the same cancellation through an AbortSignal and through a CancelSource (the call plumbing's CallCancel)
  it.each([
    { how: 'abort signal', marker: 'abort_me', arm: () => { const c = new AbortController(); return { opts: { signal: c.signal }, abort: () => c.abort() }; } },
    { how: "a CancelSource (the call plumbing's CallCancel) cancels like a signal:", marker: 'cancel_me', arm: () => { const c = new CallCancel(); return { opts: { cancel: c }, abort: () => c.abort() }; } },
  ])('$how → QUERY_CANCELED, and the backend is gone', async ({ marker, arm }) => {
    const { opts, abort } = arm();
    const p = gatewayError(pool.runRead({ ...base(), ...opts, sql: `SELECT pg_sleep(60) AS ${marker}` }));
    const running = await eventually(async () => {
      const rows = await adminQuery(t.databaseUrl, `SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker}%' AND pid <> pg_backend_pid()`);
      return rows.length === 1;
    });
    expect(running).toBe(true);
    const pids = await adminQuery<{ pid: number }>(t.databaseUrl, `SELECT pid FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`);
    const started = Date.now();
    abort();
    const err = await p;
    expect(err.code).toBe('QUERY_CANCELED');
    expect(Date.now() - started).toBeLessThan(3_000);
    const gone = await eventually(async () => {
      const rows = await adminQuery(t.databaseUrl, 'SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1)', [pids.map((p) => p.pid)]);
      return rows.length === 0;
    });
    expect(gone).toBe(true);
  });

  it('an already aborted CancelSource never reaches the database', async () => {
    const cancel = new CallCancel();
    cancel.abort();
    const err = await gatewayError(pool.runRead({ ...base(), cancel, sql: 'SELECT 1' }));
    expect(err.code).toBe('QUERY_CANCELED');
  });

  it('an already aborted signal never reaches the database', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await gatewayError(pool.runRead({ ...base(), signal: controller.signal, sql: 'SELECT 1' }));
    expect(err.code).toBe('QUERY_CANCELED');
  });
});

describe('runRead: explain', () => {
  it('returns the JSON plan', async () => {
    const r = await pool.runRead({ ...base(), explain: { analyze: false }, sql: 'SELECT * FROM orders WHERE id = 5' });
    const plan = r.plan as { Plan: { 'Node Type': string } }[];
    expect(Array.isArray(plan)).toBe(true);
    expect(plan[0]?.Plan['Node Type']).toMatch(/Index Scan/);
  });

  it('EXPLAIN ANALYZE runs inside the read-only transaction', async () => {
    const r = await pool.runRead({ ...base(), explain: { analyze: true }, sql: 'SELECT count(*) FROM orders' });
    const plan = r.plan as { 'Execution Time': number }[];
    expect(typeof plan[0]?.['Execution Time']).toBe('number');
    const err = await gatewayError(pool.runRead({ ...base(), explain: { analyze: true }, sql: 'DELETE FROM app.events WHERE id = 2' }));
    expect(err.code).toBe('READ_ONLY_VIOLATION');
  });

  it('reports error positions relative to the agent statement', async () => {
    const err = await gatewayError(pool.runRead({ ...base(), explain: { analyze: false }, sql: 'SELECT nope FROM orders' }));
    expect(err.details.sqlstate).toBe('42703');
    expect(err.details.position).toBe(8);
  });
});

describe('one-round-trip pipeline (hardening, statement, ROLLBACK before one Sync)', () => {
  it('never runs the statement when a hardening step fails (fail closed)', async () => {
    const started = Date.now();
    const err = await gatewayError(pool.runRead({ ...base(), role: 'no_such_role_pgwarden', sql: 'SELECT pg_sleep(3)' }));
    // The server discarded the statement after the failed SET LOCAL ROLE: no 3 s sleep happened.
    expect(Date.now() - started).toBeLessThan(2500);
    expect(err.code).not.toBe('STATEMENT_TIMEOUT');
    // The connection went back usable: the next read works and sees no leftover transaction.
    const r = await pool.runRead({ ...base(), sql: "SELECT current_setting('transaction_read_only') AS ro" });
    expect(r.rows).toEqual([['on']]);
  });

  it('leaves no transaction or setting behind after a successful read', async () => {
    await pool.runRead({ ...base(), role: t.readerRole, sql: 'SELECT 1' });
    const r = await pool.runRead({ ...base(), sql: 'SELECT current_user::text, current_setting(\'statement_timeout\')' });
    expect(r.rows[0]?.[0]).toBe(t.gatewayRole);
  });
});

describe('CappedQuery writes the whole pipeline at once', () => {
  it('sends hardening, statement, ROLLBACK and Sync in ONE socket write, and the read still works', async () => {
    const client = new pg.Client({ connectionString: t.gatewayUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      // Count what reaches the socket's write implementation (one call per syscall batch).
      const stream = (client as unknown as { connection: { stream: { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void } } }).connection.stream;
      let writes = 0;
      const write = stream._write.bind(stream);
      stream._write = (...a: unknown[]) => {
        writes += 1;
        write(...a);
      };
      const writev = stream._writev?.bind(stream);
      if (writev) {
        stream._writev = (...a: unknown[]) => {
          writes += 1;
          writev(...a);
        };
      }
      // The SET LOCAL form (many statements) and the prepared form (parsed on first use) alike.
      const opts = { ...base(), role: t.readerRole, principal: { setting: 'pgwarden.principal', value: 'alice' } };
      for (const before of [hardeningStatements(opts), readHardeningSteps(opts), readHardeningSteps(opts)]) {
        writes = 0;
        const q = new CappedQuery("SELECT current_user::text, current_setting('pgwarden.principal')", undefined, 10, { before, after: ['ROLLBACK'] });
        void client.query(q);
        const r = await q.done;
        expect(r.rows).toEqual([[t.readerRole, 'alice']]);
        expect(writes).toBe(1);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  });
});

describe('read hardening as one prepared set_config statement', () => {
  it('applies every setting of the SET LOCAL form, for the transaction only', async () => {
    const one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      const sql =
        "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'), current_setting('lock_timeout'), " +
        "current_setting('idle_in_transaction_session_timeout'), current_setting('search_path'), current_user::text, current_setting('pgwarden.principal')";
      const lim = limits({ statement_timeout_ms: 4321, lock_timeout_ms: 1234, idle_in_transaction_timeout_ms: 5678 });
      const r = await one.runRead({ limits: lim, searchPath: ['app', 'we"ird'], role: t.readerRole, principal: { setting: 'pgwarden.principal', value: "o'brien" }, sql });
      expect(r.rows[0]).toEqual(['on', '4321ms', '1234ms', '5678ms', 'app, "we""ird"', t.readerRole, "o'brien"]);
      // Same connection (pool of one): nothing of it is left for a read without role or principal.
      const after = await one.runRead({ ...base(), sql: "SELECT current_user::text, current_setting('pgwarden.principal', true), current_setting('statement_timeout')" });
      expect(after.rows[0]?.[0]).toBe(t.gatewayRole);
      expect(after.rows[0]?.[1] === null || after.rows[0]?.[1] === '').toBe(true);
      expect(after.rows[0]?.[2]).toBe('5s');
      // The settings statement was prepared once on this connection and reused (pgwarden_s<digest>: the statement cache, left out here).
      const prepared = await one.runRead({ ...base(), sql: "SELECT name FROM pg_prepared_statements WHERE name LIKE 'pgwarden_%' AND name NOT LIKE 'pgwarden\\_s%' ORDER BY name" });
      expect(prepared.rows).toEqual([['pgwarden_begin_read_only'], ['pgwarden_read_hardening_5'], ['pgwarden_read_hardening_7'], ['pgwarden_rollback']]);
    } finally {
      await one.end();
    }
  });

  it('a pool whose prepared statement vanished retries the read once and parses the settings every time after', async () => {
    const one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      expect((await one.runRead({ ...base(), sql: 'SELECT 1' })).rows).toEqual([[1]]);
      // As a transaction-pooling proxy would: the next read lands where the statement does not exist.
      await one.runRead({ ...base(), sql: 'DEALLOCATE pgwarden_read_hardening_5' });
      const r = await one.runRead({ ...base(), sql: "SELECT current_setting('statement_timeout'), current_setting('transaction_read_only')" });
      expect(r.rows).toEqual([['5s', 'on']]);
      // From now on the trusted statements are unnamed: the read needs nothing prepared on the connection.
      const prepared = await one.runRead({ ...base(), sql: "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgwarden_read_hardening_%'" });
      expect(prepared.rows).toEqual([[0]]);
      await one.runRead({ ...base(), sql: 'DEALLOCATE ALL' });
      expect((await one.runRead({ ...base(), sql: 'SELECT 2' })).rows).toEqual([[2]]);
      const role = await one.runRead({ ...base(), role: t.readerRole, sql: 'SELECT current_user::text' });
      expect(role.rows).toEqual([[t.readerRole]]);
    } finally {
      await one.end();
    }
  });

  it('a vanished prepared BEGIN is retried like the settings; a vanished ROLLBACK fails that read and drops its connection', async () => {
    const one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      let connects = 0;
      (one as unknown as { pool: pg.Pool }).pool.on('connect', () => (connects += 1));
      expect((await one.runRead({ ...base(), sql: 'SELECT 1' })).rows).toEqual([[1]]);
      await one.runRead({ ...base(), sql: 'DEALLOCATE pgwarden_begin_read_only' });
      expect((await one.runRead({ ...base(), sql: "SELECT current_setting('transaction_read_only')" })).rows).toEqual([['on']]);
      expect(connects).toBe(1);
    } finally {
      await one.end();
    }
    const two = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    try {
      expect((await two.runRead({ ...base(), sql: 'SELECT 1' })).rows).toEqual([[1]]);
      // The statement runs, then the pipeline's prepared ROLLBACK is missing: its transaction could
      // not be ended as planned, so no result and the connection is destroyed.
      await gatewayError(two.runRead({ ...base(), sql: 'DEALLOCATE pgwarden_rollback' }));
      expect(two.stats().total).toBe(0);
      const r = await two.runRead({ ...base(), sql: "SELECT current_setting('transaction_read_only'), count(*) FROM pg_prepared_statements WHERE name LIKE 'pgwarden_%'" });
      expect(r.rows).toEqual([['on', 0]]);
    } finally {
      await two.end();
    }
  });

  it('fails closed when the prepared statement is gone, then prepares it again', async () => {
    const client = new pg.Client({ connectionString: t.gatewayUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const run = async (sql: string) => {
        const q = new CappedQuery(sql, undefined, 10, { before: readHardeningSteps({ ...base() }), after: ['ROLLBACK'] });
        void client.query(q);
        try {
          return { rows: (await q.done).rows, failedAt: q.failedAt };
        } catch (err) {
          if (q.failedAt !== 'statement') await client.query('ROLLBACK');
          return { error: err as Error & { code?: string }, failedAt: q.failedAt };
        }
      };
      expect((await run('SELECT 1')).rows).toEqual([[1]]);
      // Drop it behind the pipeline's back: the next read must not run without its hardening.
      await client.query('DEALLOCATE pgwarden_read_hardening_5');
      const failed = await run("SELECT pg_catalog.set_config('pgwarden.ran', 'yes', false)");
      expect(failed.failedAt).toBe('before');
      expect(failed.error?.code).toBe('26000');
      expect((await client.query("SELECT current_setting('pgwarden.ran', true) AS ran")).rows[0]?.ran ?? '').toBe('');
      // Recovered: parsed again on the next read.
      const again = await run("SELECT current_setting('statement_timeout')");
      expect(again.error?.message).toBeUndefined();
      expect(again.rows).toEqual([['5s']]);
    } finally {
      await client.end().catch(() => undefined);
    }
  });
});

/**
 * Every protocol message a pooled connection sends and receives, by type letter (frontend
 * messages are framed like backend ones once the connection is up: a type byte and a length).
 */
function tapPool(db: DatabasePool): { sent: Map<string, number>; received: Map<string, number>; connects: () => number; reset(): void } {
  const sent = new Map<string, number>();
  const received = new Map<string, number>();
  let connects = 0;
  const count = (into: Map<string, number>) => (type: number): boolean => {
    const letter = String.fromCharCode(type);
    into.set(letter, (into.get(letter) ?? 0) + 1);
    return true;
  };
  (db as unknown as { pool: pg.Pool }).pool.on('connect', (client) => {
    connects += 1;
    const stream = (client as unknown as { connection: { stream: Socket } }).connection.stream;
    const out = new WireMeter(count(sent));
    const write = stream.write.bind(stream) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    // Installed after the startup exchange ('connect' fires once the connection is ready).
    stream.write = ((chunk: Buffer, ...rest: unknown[]) => {
      out.feed(Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
    const inbound = new WireMeter(count(received));
    stream.prependListener('data', (chunk: Buffer) => inbound.feed(chunk));
  });
  return {
    sent,
    received,
    connects: () => connects,
    reset() {
      sent.clear();
      received.clear();
    },
  };
}

describe('what a read costs on the wire', () => {
  it('a read on a warm connection is ONE round trip whose only parsed statement is the agent\'s', async () => {
    const one = poolFor(t.gatewayUrl, { pool: { max: 1 } });
    const tap = tapPool(one);
    try {
      // First read on the connection: the trusted statements are parsed (and kept prepared).
      await one.runRead({ ...base(), sql: 'SELECT 1' });
      for (const id of [1, 2, 3]) {
        tap.reset();
        const r = await one.runRead({ ...base(), sql: `SELECT id FROM orders WHERE id = ${id}` });
        expect(r.rows).toEqual([[id]]);
        // One Sync sent and one ReadyForQuery back: one round trip.
        expect(tap.sent.get('S')).toBe(1);
        expect(tap.received.get('Z')).toBe(1);
        // BEGIN READ ONLY, the settings, the statement, ROLLBACK: four statements, and only the
        // agent's is parsed (the trusted ones are bound and executed prepared statements).
        expect(tap.sent.get('B')).toBe(4);
        expect(tap.sent.get('E')).toBe(4);
        expect(tap.sent.get('P')).toBe(1);
        expect(tap.received.get('1')).toBe(1); // ParseComplete
        expect(tap.sent.get('Q')).toBeUndefined(); // no simple-protocol message
      }
      expect(tap.connects()).toBe(1);
    } finally {
      await one.end();
    }
  });

  it('failing, timed-out and refused statements keep their connection (no reconnects)', async () => {
    const two = poolFor(t.gatewayUrl, { pool: { max: 2 } });
    const tap = tapPool(two);
    try {
      const bad = ['SELECT 1/0', 'SELEC 1', 'SELECT nope FROM orders', 'CREATE TABLE x_pgwarden (a int)', 'SELECT pg_sleep(1)'];
      for (let i = 0; i < 3; i++) {
        await Promise.all(bad.map((sql) => rejection(two.runRead({ limits: limits({ statement_timeout_ms: 100 }), searchPath: ['app'], sql }))));
        expect((await two.runRead({ ...base(), sql: 'SELECT 1' })).rows).toEqual([[1]]);
      }
      expect(tap.connects()).toBe(2);
    } finally {
      await two.end();
    }
  });
});
