import { describe, expect, it } from 'vitest';
import { codeLabel, decisionLabel, errorInfo, kindLabel, nameLabel, operationLabel, operationName, querySummary, redactLiterals } from '../../../src/telemetry/sanitize.js';
import { dbOperationInfo } from '../../../src/telemetry/info.js';
import { GatewayError } from '../../../src/core/errors.js';

describe('redactLiterals', () => {
  it.each([
    ["SELECT * FROM app.customers WHERE email = 'secret-literal@x.test'", 'SELECT * FROM app.customers WHERE email = ?'],
    ["SELECT 'it''s secret-literal'", 'SELECT ?'],
    ["SELECT E'secret-literal\\' still', 1", 'SELECT E?, ?'],
    ['SELECT $$secret-literal$$, $tag$ secret-literal $ $tag$', 'SELECT ?, ?'],
    ["SELECT B'1010', X'ff', U&'secret-literal'", "SELECT B?, X?, U&?"],
    ['SELECT 42, 3.14, .5, 1e-7, 0x1F, 1_000', 'SELECT ?, ?, ?, ?, ?, ?'],
    ['SELECT $1, $22 FROM t1 WHERE a$b = $3', 'SELECT $1, $22 FROM t1 WHERE a$b = $3'],
    [`SELECT "secret-literal""x" FROM "my''table"`, `SELECT "secret-literal""x" FROM "my''table"`],
    ['SELECT 1 -- secret-literal\n, 2 /* secret-literal /* nested */ still */ FROM t', 'SELECT ? , ? FROM t'],
    ["CREATE TABLE t (a text DEFAULT 'secret-literal')", 'CREATE TABLE t (a text DEFAULT ?)'],
    ["COPY (SELECT $1) TO '/tmp/secret-literal'", 'COPY (SELECT $1) TO ?'],
    ["SELECT 'unterminated secret-literal", 'SELECT ?'],
    ['SELECT $q$ unterminated secret-literal', 'SELECT ?'],
  ])('%s', (input, expected) => {
    expect(redactLiterals(input)).toBe(expected);
  });

  it('caps the length', () => {
    const out = redactLiterals(`SELECT ${'a, '.repeat(5000)}b`, 100);
    expect(out.length).toBe(100);
    expect(out.endsWith('…')).toBe(true);
  });
});

describe('bounded labels', () => {
  it('keep known vocabulary and map anything else to other', () => {
    expect(decisionLabel('blocked')).toBe('blocked');
    expect(decisionLabel("x' OR 1=1")).toBe('other');
    expect(kindLabel('read')).toBe('read');
    expect(kindLabel('SELECT secret')).toBe('other');
    expect(codeLabel('DENIED_TABLE')).toBe('DENIED_TABLE');
    expect(codeLabel('22P02')).toBe('22P02');
    expect(codeLabel('secret-literal')).toBe('OTHER');
    expect(nameLabel('query')).toBe('query');
    expect(nameLabel('x'.repeat(100))).toBe('other');
    expect(operationLabel('SELECT INTO')).toBe('SELECT INTO');
    expect(operationLabel("SELECT 'x'")).toBe('OTHER');
  });
});

describe('operationName / querySummary', () => {
  it('names the operation from the classification', () => {
    expect(operationName({ kind: 'read', relations: [] })).toBe('SELECT');
    expect(operationName({ kind: 'explain', relations: [] })).toBe('EXPLAIN');
    expect(operationName({ kind: 'write', writeKind: 'delete', relations: [] })).toBe('DELETE');
    expect(operationName({ kind: 'write', writeKind: 'create_table_as', relations: [] })).toBe('CREATE TABLE AS');
  });

  it('summarizes operation and relations', () => {
    expect(querySummary({ kind: 'read', relations: ['app.customers', 'app.orders'] })).toBe('SELECT app.customers app.orders');
    expect(querySummary({ kind: 'read', relations: [] })).toBe('SELECT');
    expect(querySummary({ kind: 'read', relations: Array.from({ length: 100 }, (_, i) => `app.table_${i}`) }).length).toBe(255);
  });

  it('dbOperationInfo sets db.collection.name only for one relation', () => {
    expect(dbOperationInfo('main', { kind: 'read', relations: ['app.orders'], normalized: 'SELECT * FROM app.orders WHERE id = $1' })).toEqual({
      database: 'main',
      operation: 'SELECT',
      collection: 'app.orders',
      summary: 'SELECT app.orders',
      normalizedSql: 'SELECT * FROM app.orders WHERE id = $1',
    });
    expect(dbOperationInfo('main', { kind: 'read', relations: ['app.a', 'app.b'], normalized: '' }).collection).toBeUndefined();
  });
});

describe('errorInfo', () => {
  it('reads codes, never messages', () => {
    const pgError = Object.assign(new Error('invalid input syntax for type integer: "secret-literal"'), { code: '22P02' });
    expect(errorInfo(pgError)).toEqual({ sqlstate: '22P02', type: '22P02' });
    const gw = new GatewayError('STATEMENT_TIMEOUT', 'timed out', { details: { sqlstate: '57014' } });
    expect(errorInfo(gw)).toEqual({ sqlstate: '57014', type: '57014' });
    expect(errorInfo(new GatewayError('DENIED_TABLE', 'no'))).toEqual({ type: 'DENIED_TABLE' });
    expect(errorInfo(new TypeError('secret-literal'))).toEqual({ type: 'TypeError' });
    expect(errorInfo('secret-literal')).toEqual({ type: 'Error' });
    expect(JSON.stringify(errorInfo(pgError))).not.toContain('secret-literal');
  });
});
