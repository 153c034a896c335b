/**
 * Names that are Object.prototype members (`constructor`, `toString`, `__proto__` …) are ordinary
 * SQL names: the guard judges them like any other unknown name and never fails with
 * INTERNAL_ERROR (a function named `constructor` found Object's constructor in a by-name table
 * and made the guard throw).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Guard, loadParser } from '../../../src/guard/index.js';
import { guardRequest } from './fixtures/catalog.js';

const NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'prototype', 'length', 'name'];

const TEMPLATES = [
  (n: string) => `SELECT "${n}"('app.customers')`,
  (n: string) => `SELECT "${n}"(1, 'x', 'y')`,
  (n: string) => `SELECT pg_catalog."${n}"('app.customers')`,
  (n: string) => `SELECT * FROM "${n}"`,
  (n: string) => `SELECT * FROM app."${n}"`,
  (n: string) => `SELECT "${n}" FROM app.customers`,
  (n: string) => `SELECT 'x'::"${n}"`,
  (n: string) => `SELECT 1 OPERATOR(pg_catalog.+) 2, to_regclass('${n}'), to_regproc('${n}')`,
  (n: string) => `WITH "${n}" AS (SELECT 1) SELECT * FROM "${n}"`,
];

let guard: Guard;
beforeAll(async () => {
  await loadParser();
  guard = new Guard({ cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
});

describe('Object.prototype member names', () => {
  it('are judged, never INTERNAL_ERROR', () => {
    for (const n of NAMES) {
      for (const t of TEMPLATES) {
        for (const tool of ['query', 'check'] as const) {
          const sql = t(n);
          const d = guard.decide(guardRequest(sql, { tool }));
          expect(d.reasons.map((r) => r.code), sql).not.toContain('INTERNAL_ERROR');
        }
      }
    }
  });

  it('a function named constructor is an unknown function', () => {
    const d = guard.decide(guardRequest(`SELECT "constructor"('x')`));
    expect(d.decision).toBe('block');
    expect(d.reasons.map((r) => r.code)).toEqual(['FUNCTION_NOT_ALLOWED']);
  });
});
