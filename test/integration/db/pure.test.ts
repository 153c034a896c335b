// Pure pieces of the db layer (no server needed except the TLS case at the end).
import { describe, expect, it } from 'vitest';
import { databaseSchema, DEFAULT_LIMITS } from '../../../src/config/schema.js';
import { GatewayError } from '../../../src/core/errors.js';
import { sanitizeDbError, toGatewayError } from '../../../src/db/errors.js';
import { connectionConfig } from '../../../src/db/pool.js';
import { hardeningSql, readClosingSteps, readHardeningSteps } from '../../../src/db/read.js';
import { toJsonValue } from '../../../src/db/values.js';
import { sampleSql } from '../../../src/db/describe.js';
import { testDatabase } from '../../support/pg.js';
import { createScratchDatabase } from '../../support/postgres.js';
import { adminQuery, poolFor, rejection } from './helpers.js';

const serverError = (code: string, message: string, extra: Record<string, unknown> = {}) => ({ severity: 'ERROR', code, message, ...extra });

describe('hardeningSql', () => {
  it('builds one string from escaped configuration values', () => {
    const sql = hardeningSql({
      limits: { ...DEFAULT_LIMITS },
      searchPath: ['app', 'we"ird'],
      role: 'read"er',
      principal: { setting: 'pgwarden.principal', value: "x'); DROP TABLE t; --" },
    });
    expect(sql).toBe(
      'BEGIN READ ONLY; SET LOCAL statement_timeout = 5000; SET LOCAL lock_timeout = 1000; ' +
        'SET LOCAL idle_in_transaction_session_timeout = 10000; SET LOCAL search_path = "app", "we""ird"; ' +
        `SET LOCAL ROLE "read""er"; SELECT pg_catalog.set_config('pgwarden.principal', 'x''); DROP TABLE t; --', true)`,
    );
  });

  it('refuses non-integer limits and bad setting names', () => {
    expect(() => hardeningSql({ limits: { ...DEFAULT_LIMITS, statement_timeout_ms: 1.5 }, searchPath: ['app'] })).toThrow(GatewayError);
    expect(() => hardeningSql({ limits: { ...DEFAULT_LIMITS, lock_timeout_ms: Number.NaN }, searchPath: ['app'] })).toThrow(GatewayError);
    expect(() => hardeningSql({ limits: { ...DEFAULT_LIMITS }, searchPath: ['app'], principal: { setting: "a.b'; x", value: 'v' } })).toThrow(GatewayError);
  });
});

describe('readHardeningSteps', () => {
  it('is BEGIN READ ONLY and one prepared set_config statement with every setting as a parameter', () => {
    const steps = readHardeningSteps({
      limits: { ...DEFAULT_LIMITS },
      searchPath: ['app', 'we"ird'],
      role: 'read"er',
      principal: { setting: 'pgwarden.principal', value: "x'); DROP TABLE t; --" },
    });
    expect(steps[0]).toEqual({ name: 'pgwarden_begin_read_only', text: 'BEGIN READ ONLY', values: [] });
    expect(readHardeningSteps({ limits: { ...DEFAULT_LIMITS }, searchPath: [] }, { prepared: false })[0]).toBe('BEGIN READ ONLY');
    expect(readClosingSteps()).toEqual([{ name: 'pgwarden_rollback', text: 'ROLLBACK', values: [] }]);
    expect(readClosingSteps({ prepared: false })).toEqual(['ROLLBACK']);
    const settings = steps[1];
    if (typeof settings !== 'object') throw new Error('expected a prepared step');
    expect(settings.text).toBe(
      'SELECT pg_catalog.set_config($1, $2, true), pg_catalog.set_config($3, $4, true), pg_catalog.set_config($5, $6, true), ' +
        'pg_catalog.set_config($7, $8, true), pg_catalog.set_config($9, $10, true), pg_catalog.set_config($11, $12, true), pg_catalog.set_config($13, $14, true)',
    );
    expect(settings.values).toEqual([
      'statement_timeout', '5000', 'lock_timeout', '1000', 'idle_in_transaction_session_timeout', '10000',
      'search_path', 'app, "we""ird"', 'plan_cache_mode', 'force_custom_plan', 'pgwarden.principal', "x'); DROP TABLE t; --", 'role', 'read"er',
    ]);
    expect(readHardeningSteps({ limits: { ...DEFAULT_LIMITS }, searchPath: [] })[1]).toMatchObject({ values: expect.arrayContaining(['search_path', '""']) });
  });

  it('reuses its steps only for the same inputs, field by field: another principal, role, path or limit gets its own (issue #13)', () => {
    const base = { limits: { ...DEFAULT_LIMITS }, searchPath: ['app'], principal: { setting: 'pgwarden.principal', value: 'alice' } };
    const values = (o: Parameters<typeof readHardeningSteps>[0]): readonly string[] => {
      const step = readHardeningSteps(o)[1];
      if (typeof step !== 'object') throw new Error('expected a prepared step');
      return step.values;
    };
    const first = readHardeningSteps(base);
    expect(readHardeningSteps({ ...base, limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] })).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first[1])).toBe(true);
    expect(values({ ...base, principal: { setting: 'pgwarden.principal', value: 'bob' } })).toContain('bob');
    expect(values(base)).toContain('alice');
    expect(values({ ...base, principal: { setting: 'pgwarden.principal', value: 'alice\0' } })).toContain('alice'); // NUL dropped, as before
    expect(values({ ...base, role: 'reader' })).toContain('reader');
    expect(values(base)).not.toContain('reader');
    expect(values({ ...base, searchPath: ['app', 'other'] })).toContain('app, other');
    expect(values({ ...base, limits: { ...DEFAULT_LIMITS, statement_timeout_ms: 1234 } })).toContain('1234');
    expect(values({ ...base, limits: { ...DEFAULT_LIMITS, lock_timeout_ms: 777 } })).toContain('777');
    expect(values({ ...base, limits: { ...DEFAULT_LIMITS, idle_in_transaction_timeout_ms: 4321 } })).toContain('4321');
    expect(values({ limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] })).not.toContain('pgwarden.principal');
    // a caller that changes its options object afterwards does not change what was kept
    const mutable = { limits: { ...DEFAULT_LIMITS }, searchPath: ['app'], principal: { setting: 'pgwarden.principal', value: 'carol' } };
    expect(values(mutable)).toContain('carol');
    mutable.principal.value = 'dave';
    expect(values(mutable)).toContain('dave');
  });

  it('refuses non-integer limits and a principal setting that is not a dotted custom name', () => {
    expect(() => readHardeningSteps({ limits: { ...DEFAULT_LIMITS, statement_timeout_ms: 0 }, searchPath: ['app'] })).toThrow(GatewayError);
    for (const setting of ['role', 'session_authorization', 'search_path', "a.b'; x"]) {
      expect(() => readHardeningSteps({ limits: { ...DEFAULT_LIMITS }, searchPath: ['app'], principal: { setting, value: 'postgres' } })).toThrow(GatewayError);
    }
  });
});

describe('sanitizeDbError / toGatewayError', () => {
  it('replaces quoted values in data errors, keeps SQLSTATE and position', () => {
    expect(sanitizeDbError(serverError('22P02', 'invalid input syntax for type integer: "123-45-6789"', { position: '8' }))).toEqual({
      sqlstate: '22P02',
      message: 'invalid input syntax for type integer: "…"',
      position: 8,
    });
    expect(sanitizeDbError(serverError('22007', "invalid value 'secret' for \"YYYY\"")).message).toBe(`invalid value '…' for "…"`);
  });

  it('keeps identifiers in syntax/access-rule errors and their hint', () => {
    const s = sanitizeDbError(serverError('42703', 'column "c.nme" does not exist', { hint: 'Perhaps you meant to reference the column "c.name".' }));
    expect(s).toEqual({ sqlstate: '42703', message: 'column "c.nme" does not exist', hint: 'Perhaps you meant to reference the column "c.name".' });
  });

  it('never shows messages of user code (RAISE) or internals', () => {
    expect(sanitizeDbError(serverError('P0001', 'secret is sk_live_123')).message).not.toContain('sk_live');
    expect(sanitizeDbError(serverError('XX000', 'could not open file "/var/lib/x"')).message).not.toContain('/var/lib');
  });

  it('scrubs addresses and URLs anywhere', () => {
    expect(sanitizeDbError(new Error('connect ECONNREFUSED 10.1.2.3:5432 postgres://u:p@h/db')).message).toBe('connect ECONNREFUSED <address> <redacted-url>');
  });

  it('maps SQLSTATEs to reason codes', () => {
    const code = (e: unknown) => toGatewayError(e).code;
    expect(code(serverError('57014', 'canceling statement due to statement timeout'))).toBe('STATEMENT_TIMEOUT');
    expect(code(serverError('57014', 'canceling statement due to user request'))).toBe('QUERY_CANCELED');
    expect(code(serverError('55P03', 'canceling statement due to lock timeout'))).toBe('LOCK_TIMEOUT');
    expect(code(serverError('42501', 'permission denied for table api_keys'))).toBe('PERMISSION_DENIED');
    expect(code(serverError('25006', 'cannot execute DELETE in a read-only transaction'))).toBe('READ_ONLY_VIOLATION');
    for (const s of ['57P01', '57P02', '57P03', '08006', '53300', '28P01', '3D000']) expect(code(serverError(s, 'x'))).toBe('DATABASE_UNAVAILABLE');
    expect(code(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('DATABASE_UNAVAILABLE');
    expect(code(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe('DATABASE_UNAVAILABLE');
    expect(code(new Error('Connection terminated unexpectedly'))).toBe('DATABASE_UNAVAILABLE');
    expect(code(serverError('22012', 'division by zero'))).toBe('DATABASE_ERROR');
    expect(code(new TypeError('bug'))).toBe('INTERNAL_ERROR');
    expect(code(serverError('22012', 'division by zero'))).toBe('DATABASE_ERROR');
    expect(toGatewayError(serverError('22012', 'division by zero'), { aborted: true }).code).toBe('QUERY_CANCELED');
  });
});

describe('toJsonValue', () => {
  it('makes values JSON-safe', () => {
    expect(toJsonValue(Buffer.from([0, 255]))).toBe('\\x00ff');
    expect(toJsonValue(new Date('2024-01-02T03:04:05.678Z'))).toBe('2024-01-02T03:04:05.678Z');
    expect(toJsonValue([1, Number.POSITIVE_INFINITY, null, [Buffer.from('a')]])).toEqual([1, 'Infinity', null, ['\\x61']]);
    expect(toJsonValue(12n)).toBe(12);
    expect(toJsonValue(2n ** 64n)).toBe('18446744073709551616');
    expect(toJsonValue({ a: 1 })).toEqual({ a: 1 });
  });
});

describe('connectionConfig', () => {
  const parse = (o: Record<string, unknown>) => databaseSchema.parse({ url: 'postgres://u:p@db.example:5432/app', ...o });

  it('tls.mode decides; ssl parameters in the URL cannot override it', () => {
    const c = connectionConfig(parse({ url: 'postgres://u:p@db.example:5432/app?sslmode=disable', tls: { mode: 'verify-full', ca: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' } }));
    expect(c.connectionString).toBe('postgres://u:p@db.example:5432/app?options=-c+standard_conforming_strings%3Don');
    expect(c.ssl).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(connectionConfig(parse({ tls: { mode: 'require' } })).ssl).toEqual({ rejectUnauthorized: false });
    expect(connectionConfig(parse({})).ssl).toBe(false);
  });

  it('an sslmode in the URL applies when tls.mode is left at disable', () => {
    expect(connectionConfig(parse({ url: 'postgres://u:p@h/app?sslmode=require' })).ssl).toEqual({ rejectUnauthorized: false });
    expect(connectionConfig(parse({ url: 'postgres://u:p@h/app?sslmode=verify-full' })).ssl).toEqual({ rejectUnauthorized: true });
    expect(connectionConfig(parse({ url: 'postgres://u:p@h/app?sslmode=prefer' })).ssl).toBe(false);
  });

  it('pool settings and application_name pass through', () => {
    const c = connectionConfig(parse({ pool: { max: 3, idle_timeout_ms: 1000, connection_timeout_ms: 2000 }, application_name: 'x' }));
    expect(c).toMatchObject({ max: 3, idleTimeoutMillis: 1000, connectionTimeoutMillis: 2000, application_name: 'x' });
  });
});

describe('startup options: standard_conforming_strings is on whatever the server, role or database says', () => {
  it('adds it to the URL after any options of its own', () => {
    const parse = (url: string) => databaseSchema.parse({ url });
    expect(new URL(connectionConfig(parse('postgres://u@h/app')).connectionString as string).searchParams.get('options')).toBe('-c standard_conforming_strings=on');
    const own = connectionConfig(parse('postgres://u@h/app?options=-c%20work_mem%3D8MB'));
    expect(new URL(own.connectionString as string).searchParams.get('options')).toBe('-c work_mem=8MB -c standard_conforming_strings=on');
  });

  it('a database set to standard_conforming_strings = off still lexes literals like the guard', async () => {
    const scratch = await createScratchDatabase();
    try {
      const db = new URL(scratch.databaseUrl).pathname.slice(1);
      await adminQuery(scratch.databaseUrl, `ALTER DATABASE "${db}" SET standard_conforming_strings = off`);
      // the admin's own plain connection sees the database default…
      expect((await adminQuery<{ s: string }>(scratch.databaseUrl, "SELECT current_setting('standard_conforming_strings') AS s"))[0]?.s).toBe('off');
      // …the gateway's pool does not: the backslash stays a character, as the guard parsed it
      const url = new URL(scratch.gatewayUrl);
      url.searchParams.set('options', '-c work_mem=8MB');
      const pool = poolFor(url.toString());
      try {
        const r = await pool.runRead({ sql: "SELECT current_setting('standard_conforming_strings') AS s, current_setting('work_mem') AS w, 'a\\' AS lit", limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] });
        expect(r.rows).toEqual([['on', '8MB', 'a\\']]);
      } finally {
        await pool.end();
      }
    } finally {
      await scratch.drop();
    }
  });
});

describe('sampleSql', () => {
  it('escapes identifiers', () => {
    expect(sampleSql('app', 'we"ird; DROP', 3)).toBe('SELECT * FROM "app"."we""ird; DROP" LIMIT 3');
  });
});

describe('TLS', () => {
  it('tls.mode require against a server without TLS → DATABASE_UNAVAILABLE (TLS), nothing leaks', async () => {
    const t = testDatabase();
    const pool = poolFor(t.gatewayUrl, { tls: { mode: 'require' } });
    try {
      const err = (await rejection(pool.runRead({ sql: 'SELECT 1', limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] }))) as GatewayError;
      expect(err.code).toBe('DATABASE_UNAVAILABLE');
      expect(err.message).toMatch(/TLS/);
    } finally {
      await pool.end();
    }
  });
});
