/**
 * A decision's fingerprint and normalized text are computed on first read (not by decide), once,
 * with exactly the values libpg-query gives; text that did not parse or was too complex never
 * reaches libpg-query's fingerprint/normalize; the raw text is never exposed; the audit record
 * built from the decision's identity carries the same values, computed by the writer.
 */
import { inspect } from 'node:util';
import { fingerprintSync, normalizeSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBody, snapshotEvent } from '../../../src/audit/record.js';
import { GENESIS_PREV } from '../../../src/audit/types.js';
import { LazyStatementIdentity, type Guard } from '../../../src/guard/index.js';
import { fingerprintAndNormalize } from '../../../src/guard/parse.js';
import type { Decision } from '../../../src/guard/types.js';
import { guardRequest, testGuard } from './fixtures/catalog.js';
import { ANALYTIC_40 } from './fixtures/queries.js';

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard();
});

function lazy(d: Decision): LazyStatementIdentity {
  expect(d.identity).toBeInstanceOf(LazyStatementIdentity);
  return d.identity as LazyStatementIdentity;
}

const NONE = { fingerprint: false, normalized: false };
const BOTH = { fingerprint: true, normalized: true };
const SECRET = "SELECT id FROM app.customers WHERE email = 'ada-secret@example.com'";

describe('lazy statement identity', () => {
  it('decide does not compute it; the first read does, once, shared with the cached copy', () => {
    guard.clearCache();
    const first = guard.decide(guardRequest(ANALYTIC_40));
    expect(first.decision).toBe('allow');
    expect(lazy(first).computed).toEqual(NONE);
    const hit = guard.decide(guardRequest(ANALYTIC_40));
    expect(hit.cached).toBe(true);
    expect(hit.identity).toBe(first.identity);
    expect(lazy(hit).computed).toEqual(NONE);
    expect(first.fingerprint).toBe(fingerprintSync(ANALYTIC_40));
    expect(first.normalized).toBe(normalizeSync(ANALYTIC_40));
    expect(lazy(hit).computed).toEqual(BOTH);
    expect(hit.fingerprint).toBe(first.fingerprint);
    expect(hit.normalized).toBe(first.normalized);
  });

  it('gives exactly the eager values (fingerprintAndNormalize), literals stripped', () => {
    for (const sql of [ANALYTIC_40, SECRET, 'SELECT 1', "COPY app.orders TO '/tmp/secret-file'", "PREPARE p AS SELECT 'secret-prep'"]) {
      const d = guard.decide(guardRequest(sql));
      expect({ fingerprint: d.fingerprint, normalized: d.normalized }, sql).toEqual(fingerprintAndNormalize(sql));
      expect(d.normalized).not.toContain('secret');
    }
  });

  it('is carried by spreads and JSON, invisible as a property, and never exposes the text', () => {
    const d = guard.decide(guardRequest(SECRET));
    expect(Object.keys(d)).toContain('fingerprint');
    expect(Object.keys(d)).toContain('normalized');
    expect(Object.keys(d)).not.toContain('identity');
    const copy = { ...d };
    expect(copy.fingerprint).toBe(fingerprintSync(SECRET));
    expect(copy.normalized).toBe('SELECT id FROM app.customers WHERE email = $1');
    const json = JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
    expect(json.fingerprint).toBe(d.fingerprint);
    expect(json.normalized).toBe(d.normalized);
    expect(JSON.stringify(d.identity)).toBe(JSON.stringify({ fingerprint: d.fingerprint, normalized: d.normalized }));
    // (the decision's `stmt` AST holds the literal, as before; the identity adds no copy of it)
    for (const shown of [JSON.stringify(d.identity), inspect(d.identity, { showHidden: true, getters: true }), String(d.identity)]) {
      expect(shown).not.toContain('ada-secret');
    }
  });

  it('keeps its key order (core fields, elapsedUs, cached, fingerprint, normalized) in the fresh and the cached copy', () => {
    guard.clearCache();
    const fresh = guard.decide(guardRequest(ANALYTIC_40));
    const hit = guard.decide(guardRequest(ANALYTIC_40));
    for (const d of [fresh, hit]) {
      expect(Object.keys(d).slice(-4)).toEqual(['elapsedUs', 'cached', 'fingerprint', 'normalized']);
      expect(Object.keys(d).slice(0, 4)).toEqual(['decision', 'kind', 'relations', 'functions']);
    }
    expect(Object.keys(hit)).toEqual(Object.keys(fresh));
    // a copy of the accessors reads the copy's own identity (Guard.remember relies on it)
    const props = Object.getOwnPropertyDescriptors(fresh) as PropertyDescriptorMap;
    props.identity = { value: { fingerprint: 'f', normalized: 'n' } };
    const other = Object.defineProperties({}, props) as Decision;
    expect([other.fingerprint, other.normalized]).toEqual(['f', 'n']);
  });

  it('a frozen cached decision reads lazily and stays read-only', () => {
    guard.clearCache();
    guard.decide(guardRequest('SELECT * FROM app.orders'));
    const hit = guard.decide(guardRequest('SELECT * FROM app.orders'));
    expect(Object.isFrozen(hit)).toBe(true);
    expect(hit.normalized).toBe('SELECT * FROM app.orders');
    expect(() => {
      (hit as { fingerprint: string }).fingerprint = 'x';
    }).toThrow(TypeError);
  });

  it('text that did not parse or was too complex gets the digest placeholder, never the parser', async () => {
    const unparsed = guard.decide(guardRequest("SELEC 'secret' FROM x"));
    expect(unparsed.fingerprint).toMatch(/^unparsed:[0-9a-f]{16}$/);
    expect(unparsed.normalized).toMatch(/^\/\* unparsed statement sha256:[0-9a-f]{16} \*\/$/);
    // parsed, but deeper than the walk accepts: the same placeholder (fingerprint would parse it)
    const shallow = await testGuard({ maxAstDepth: 20 });
    const deep = `SELECT ${'abs('.repeat(30)}1${')'.repeat(30)}`;
    const d = shallow.decide(guardRequest(deep));
    expect(d.reasons.map((r) => r.code)).toContain('STATEMENT_TOO_COMPLEX');
    expect(d.fingerprint).toMatch(/^unparsed:[0-9a-f]{16}$/);
    expect(d.fingerprint).not.toBe(fingerprintSync(deep));
    expect(new LazyStatementIdentity(deep, false).fingerprint).toBe(d.fingerprint);
  });

  it('the audit snapshot keeps the identity uncomputed; the writer builds the same record', () => {
    guard.clearCache();
    const d = guard.decide(guardRequest(SECRET));
    const pending = snapshotEvent({ decision: 'allowed', tool: 'query', statement: d.identity ?? null });
    expect(lazy(d).computed).toEqual(NONE);
    const body = buildRecordBody(pending, 1, GENESIS_PREV, { includeRawSql: false });
    expect(lazy(d).computed).toEqual(BOTH);
    const eager = buildRecordBody(
      snapshotEvent({ decision: 'allowed', tool: 'query', fingerprint: fingerprintSync(SECRET), normalized_sql: normalizeSync(SECRET) }),
      1,
      GENESIS_PREV,
      { includeRawSql: false },
    );
    expect({ ...body, ts: '' }).toEqual({ ...eager, ts: '' });
    expect(body.fingerprint).toBe(fingerprintSync(SECRET));
    expect(body.sql).toBe('SELECT id FROM app.customers WHERE email = $1');
  });
});
