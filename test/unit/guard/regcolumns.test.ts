/**
 * Columns of object-identifier types in exposed tables (src/guard/regcolumns.ts): under
 * `catalogs: false` a statement that may output one (names it, `*`, a whole-row reference) is
 * SYSTEM_CATALOG — a stored regclass prints the name of any relation, hidden ones included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import { demoCatalog, demoPolicy, guardRequest, testGuard } from './fixtures/catalog.js';

const catalog = demoCatalog({
  version: 77,
  relations: [
    {
      schema: 'app', name: 'audit', kind: 'table',
      columns: [{ name: 'id', type: 'integer' }, { name: 'rel', type: 'regclass' }, { name: 'owners', type: 'regrole[]' }, { name: 'note', type: 'text' }],
    },
  ],
});

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard();
});

const codes = (sql: string, catalogs = false): string[] =>
  guard.decide(guardRequest(sql, { catalog, policy: demoPolicy({ catalogs }), policyVersion: catalogs ? 2 : 1 })).reasons.map((r) => r.code);

describe('reg-typed columns under catalogs: false', () => {
  it.each([
    'SELECT rel FROM app.audit',
    'SELECT a.rel::text FROM app.audit a',
    'SELECT * FROM app.audit',
    'SELECT a.* FROM app.audit a',
    'SELECT to_jsonb(a) FROM app.audit a',
    'SELECT owners FROM app.audit',
    'SELECT id FROM app.audit WHERE rel IS NOT NULL',
    'SELECT x FROM (SELECT rel AS x FROM app.audit) s',
  ])('refused: %s', (sql) => {
    expect(codes(sql)).toContain('SYSTEM_CATALOG');
  });

  it.each(['SELECT id, note FROM app.audit', 'SELECT count(*) FROM app.audit', 'SELECT a.note FROM app.audit a WHERE a.id = 1'])('allowed: %s', (sql) => {
    expect(codes(sql)).toEqual([]);
  });

  it('catalogs: true opens them', () => {
    expect(codes('SELECT rel FROM app.audit', true)).toEqual([]);
  });

  it('the message names the column and its type, not a value', () => {
    const d = guard.decide(guardRequest('SELECT rel FROM app.audit', { catalog, policyVersion: 1 }));
    expect(d.reasons[0]?.message).toContain('column rel of app.audit has type regclass');
  });
});
