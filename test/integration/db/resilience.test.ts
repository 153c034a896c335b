import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import type { DatabasePool } from '../../../src/db/pool.js';
import { clusterUnavailable, startCluster, type TestCluster } from '../../support/postgres.js';
import { testDatabase } from '../../support/pg.js';
import { adminQuery, eventually, limits, poolFor, rejection } from './helpers.js';

const t = testDatabase();
const base = () => ({ limits: limits(), searchPath: ['app'] });

function visible(err: GatewayError): string {
  // Everything an agent, a log line or the audit could see of the error.
  return JSON.stringify({ message: err.message, reasons: err.reasons, details: err.details, code: err.code });
}

async function gatewayError(p: Promise<unknown>): Promise<GatewayError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

async function backendPid(pool: DatabasePool): Promise<number> {
  const r = await pool.runRead({ ...base(), sql: 'SELECT pg_backend_pid()' });
  return r.rows[0]?.[0] as number;
}

describe('errors reveal no connection details and no data', () => {
  it('connection refused: DATABASE_UNAVAILABLE without host, port, user or password', async () => {
    const url = new URL(t.gatewayUrl);
    url.port = '1'; // nothing listens on port 1
    const pool = poolFor(url.toString(), { pool: { connection_timeout_ms: 2_000 } });
    try {
      const err = await gatewayError(pool.runRead({ ...base(), sql: 'SELECT 1' }));
      expect(err.code).toBe('DATABASE_UNAVAILABLE');
      const text = visible(err);
      for (const secret of ['127.0.0.1', ':1', t.gatewayPassword, t.gatewayRole, 'postgres://']) expect(text).not.toContain(secret);
    } finally {
      await pool.end();
    }
  });

  it('wrong password: DATABASE_UNAVAILABLE without the user name or password', async () => {
    const url = new URL(t.gatewayUrl);
    url.password = 'wrong-password-x9';
    const pool = poolFor(url.toString());
    try {
      const err = await gatewayError(pool.runRead({ ...base(), sql: 'SELECT 1' }));
      expect(err.code).toBe('DATABASE_UNAVAILABLE');
      expect(err.details.sqlstate).toBe('28P01');
      const text = visible(err);
      for (const secret of ['wrong-password-x9', t.gatewayRole, url.port]) expect(text).not.toContain(secret);
      expect(await pool.ready()).toBe(false);
    } finally {
      await pool.end();
    }
  });

  it('values echoed by PostgreSQL messages are replaced, the SQLSTATE and position kept', async () => {
    const pool = poolFor(t.gatewayUrl);
    try {
      const ssn = (await adminQuery<{ ssn: string }>(t.databaseUrl, 'SELECT ssn FROM app.customers WHERE id = 1'))[0]?.ssn as string;
      expect(ssn).toMatch(/^\d{3}-\d{2}-\d{4}$/);
      const err = await gatewayError(pool.runRead({ ...base(), sql: 'SELECT ssn::int FROM customers WHERE id = 1' }));
      expect(err.code).toBe('DATABASE_ERROR');
      expect(err.details.sqlstate).toBe('22P02');
      expect(err.message).toBe('invalid input syntax for type integer: "…"');
      expect(visible(err)).not.toContain(ssn);
      const dup = await gatewayError(pool.runRead({ ...base(), sql: "SELECT to_date(email, 'YYYY') FROM customers WHERE id = 2" }));
      expect(visible(dup)).not.toContain('customer0002');
    } finally {
      await pool.end();
    }
  });

  it('identifiers stay in messages (they are schema, not data)', async () => {
    const pool = poolFor(t.gatewayUrl);
    try {
      const err = await gatewayError(pool.runRead({ ...base(), sql: 'SELECT nope FROM customers' }));
      expect(err.message).toBe('column "nope" does not exist');
      expect(err.details).toEqual({ sqlstate: '42703', position: 8 });
    } finally {
      await pool.end();
    }
  });
});

describe('connections in an unknown state are never reused', () => {
  let pool: DatabasePool;
  beforeAll(() => {
    pool = poolFor(t.gatewayUrl, { pool: { max: 1 } });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('a cancelled connection is destroyed, the next read gets a new backend', async () => {
    const before = await backendPid(pool);
    const controller = new AbortController();
    const p = gatewayError(pool.runRead({ ...base(), signal: controller.signal, sql: 'SELECT pg_sleep(30)' }));
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    expect((await p).code).toBe('QUERY_CANCELED');
    const after = await backendPid(pool);
    expect(after).not.toBe(before);
    expect(await eventually(async () => (await adminQuery(t.databaseUrl, 'SELECT 1 FROM pg_stat_activity WHERE pid = $1', [before])).length === 0)).toBe(true);
  });

  it('a statement error keeps the (rolled back) connection', async () => {
    const before = await backendPid(pool);
    await gatewayError(pool.runRead({ ...base(), sql: 'SELECT 1/0' }));
    expect(await backendPid(pool)).toBe(before);
  });

  it('an idle connection killed by the server neither crashes the process nor fails the next read', async () => {
    const before = await backendPid(pool);
    await adminQuery(t.databaseUrl, 'SELECT pg_terminate_backend($1)', [before]);
    await new Promise((r) => setTimeout(r, 100));
    const r = await pool.runRead({ ...base(), sql: 'SELECT 42' });
    expect(r.rows).toEqual([[42]]);
    expect(await backendPid(pool)).not.toBe(before);
  });

  it('a connection killed mid-statement → DATABASE_UNAVAILABLE, then a fresh one works', async () => {
    const p = gatewayError(pool.runRead({ ...base(), sql: 'SELECT pg_sleep(30) AS kill_me' }));
    const found = await eventually(async () => (await adminQuery(t.databaseUrl, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%kill_me%' AND state = 'active' AND pid <> pg_backend_pid()")).length === 1);
    expect(found).toBe(true);
    await adminQuery(t.databaseUrl, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%kill_me%' AND pid <> pg_backend_pid()");
    const err = await p;
    expect(err.code).toBe('DATABASE_UNAVAILABLE');
    expect((await pool.runRead({ ...base(), sql: 'SELECT 1' })).rows).toEqual([[1]]);
  });
});

describe('shutdown', () => {
  it('cancels in-flight reads after the grace period, refuses new ones, leaves no backends', async () => {
    const pool = poolFor(t.gatewayUrl, { application_name: 'pgwarden-shutdown-test' });
    const reads = [1, 2].map(() => gatewayError(pool.runRead({ ...base(), sql: 'SELECT pg_sleep(30)' })));
    const quick = pool.runRead({ ...base(), sql: 'SELECT 1' });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await pool.shutdown({ graceMs: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await quick).rows).toEqual([[1]]);
    for (const r of reads) expect((await r).code).toBe('QUERY_CANCELED');
    expect((await gatewayError(pool.runRead({ ...base(), sql: 'SELECT 1' }))).code).toBe('SHUTTING_DOWN');
    expect(await pool.ready()).toBe(false);
    const left = await eventually(async () => (await adminQuery(t.databaseUrl, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgwarden-shutdown-test'")).length === 0);
    expect(left).toBe(true);
  });
});

describe('database restarts while a pool exists', () => {
  let cluster: TestCluster | undefined;
  let pool: DatabasePool | undefined;
  const reason = clusterUnavailable();

  beforeAll(async () => {
    if (reason !== undefined) return;
    cluster = await startCluster({ seed: true });
    pool = poolFor(cluster.gatewayUrl as string, { pool: { connection_timeout_ms: 2_000 } }, { readyCacheMs: 0, readyTimeoutMs: 1_500 });
  }, 120_000);
  afterAll(async () => {
    await pool?.end();
    await cluster?.dispose();
  });

  it('in-flight read → DATABASE_UNAVAILABLE; down → DATABASE_UNAVAILABLE and ready() false; back up → same pool recovers', async (ctx) => {
    ctx.skip(reason !== undefined, reason);
    const p = pool as DatabasePool;
    const c = cluster as TestCluster;
    expect(await p.ready()).toBe(true);
    expect((await p.runRead({ ...base(), sql: 'SELECT count(*) FROM customers' })).rows).toEqual([[200]]);

    const inFlight = gatewayError(p.runRead({ ...base(), sql: 'SELECT pg_sleep(30)' }));
    await new Promise((r) => setTimeout(r, 200));
    await c.stop();
    expect((await inFlight).code).toBe('DATABASE_UNAVAILABLE');

    const down = await gatewayError(p.runRead({ ...base(), sql: 'SELECT 1' }));
    expect(down.code).toBe('DATABASE_UNAVAILABLE');
    expect(visible(down)).not.toContain(String(c.server.port));
    const t0 = Date.now();
    expect(await p.ready()).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2_500);

    await c.start();
    expect(await p.ready()).toBe(true);
    expect((await p.runRead({ ...base(), sql: 'SELECT count(*) FROM products' })).rows).toEqual([[50]]);
  });

  it('a restart between reads is invisible: stale pooled connections are replaced', async (ctx) => {
    ctx.skip(reason !== undefined, reason);
    const p = pool as DatabasePool;
    const c = cluster as TestCluster;
    expect((await p.runRead({ ...base(), sql: 'SELECT 1' })).rows).toEqual([[1]]);
    await c.restart();
    expect((await p.runRead({ ...base(), sql: 'SELECT 2' })).rows).toEqual([[2]]);
  });
});
