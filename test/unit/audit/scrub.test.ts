import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/audit/canonical.js';
import { buildRecordBody, snapshotEvent } from '../../../src/audit/record.js';
import { scanSqlLiterals, scrubField, scrubReasons, scrubSecrets, scrubSqlLiterals } from '../../../src/audit/scrub.js';
import { GENESIS_PREV } from '../../../src/audit/types.js';
import { sampleEvent } from './helpers.js';

describe('scrubSqlLiterals', () => {
  it.each([
    ["SELECT * FROM t WHERE a = 'x' AND b = 42", 'SELECT * FROM t WHERE a = ? AND b = ?'],
    ["SELECT E'it\\'s', 'it''s', B'101', X'ff', U&'d\\0061t'", 'SELECT ?, ?, ?, ?, ?'],
    ['SELECT $body$ secret $body$, $$x$$', 'SELECT ?, ?'],
    ['SELECT 1.5e3, .5, 0x1F, 1_000', 'SELECT ?, ?, ?, ?'],
    ['SELECT a -- ssn 123-45-6789\nFROM t /* pw /* nested */ x */', 'SELECT a  \nFROM t  '],
  ])('%s', (input, expected) => {
    expect(scrubSqlLiterals(input)).toBe(expected);
  });

  it('keeps parameters, identifiers with digits and quoted identifiers', () => {
    expect(scrubSqlLiterals('SELECT "col 1", t2.c3, $1, $12 FROM s1.t2')).toBe('SELECT "col 1", t2.c3, $1, $12 FROM s1.t2');
    expect(scrubSqlLiterals(`SELECT "it's" FROM t WHERE x = 'a'`)).toBe(`SELECT "it's" FROM t WHERE x = ?`);
  });

  it('does not leak the rest of an unterminated literal', () => {
    expect(scrubSqlLiterals("SELECT 'unterminated secret")).toBe('SELECT ?');
    expect(scrubSqlLiterals('SELECT $q$ unterminated secret')).toBe('SELECT ?');
  });
});

describe('scrubSecrets and fields', () => {
  it('removes DSN passwords, password= pairs and bearer tokens', () => {
    expect(scrubSecrets('postgres://app:p%40ss@db:5432/x')).toBe('postgres://app:***@db:5432/x');
    expect(scrubSecrets("host=db password='hunter2' user=x")).toBe('host=db password=*** user=x');
    expect(scrubSecrets('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer ***');
    expect(scrubSecrets('nothing here')).toBe('nothing here');
  });

  it('caps lengths and strips control characters; reasons must be codes', () => {
    expect(scrubField('a\nb\u0000c')).toBe('a?b?c');
    expect((scrubField('x'.repeat(10_000)) ?? '').length).toBeLessThan(600);
    expect(scrubReasons(['DENIED_TABLE', 'lower', "WHERE ssn = '1'"])).toEqual(['DENIED_TABLE', 'INVALID_REASON', 'INVALID_REASON']);
  });
});

describe('record body', () => {
  it('is built in canonical key order, so JSON.stringify equals the canonical JSON', () => {
    for (const decision of ['held', 'executed', 'blocked'] as const) {
      const body = buildRecordBody(snapshotEvent({ ...sampleEvent(decision, 3), sql_raw: 'SELECT 1' }), 7, GENESIS_PREV, { includeRawSql: true });
      expect(JSON.stringify(body)).toBe(canonicalJson(body));
      const gap = buildRecordBody({ decision: 'audit_gap', ts: new Date(0).toISOString(), dropped: 3 }, 8, GENESIS_PREV, { includeRawSql: false });
      expect(JSON.stringify(gap)).toBe(canonicalJson(gap));
    }
  });

  it('writes absent fields as null and never invents values', () => {
    const body = buildRecordBody(snapshotEvent({ decision: 'auth_failed', client: '10.0.0.1', rows: Number.NaN }), 1, GENESIS_PREV, { includeRawSql: false });
    expect(body).toMatchObject({ decision: 'auth_failed', client: '10.0.0.1', principal: null, rows: null, reasons: [], relations: [], sql: null, observed: false });
    expect(body).not.toHaveProperty('sql_raw');
  });

  it('canonicalJson sorts nested keys and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
});

describe('scrubSqlLiterals fast path', () => {
  it('returns exactly what the scanner returns, on random SQL-like text', () => {
    const alphabet = ["'", '"', '$', '1', '0', '.', '-', '/', '*', 'a', 'E', 'x', '_', ' ', ',', '(', ')', '\n', 'é', '=', '&', 'U', 'N'];
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let k = 0; k < 20_000; k++) {
      let text = '';
      const len = 1 + rand(24);
      for (let i = 0; i < len; i++) text += alphabet[rand(alphabet.length)];
      expect(scrubSqlLiterals(text)).toBe(scanSqlLiterals(text));
    }
  });

  it('leaves libpg-query normalized text untouched', () => {
    const normalized = 'SELECT c.id, sum(o.total_cents) FROM app.customers c JOIN app.orders o ON o.customer_id = c.id WHERE o.created_at > $1 LIMIT $2';
    expect(scrubSqlLiterals(normalized)).toBe(normalized);
  });
});
