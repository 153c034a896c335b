/**
 * The cold path's shortcuts in function judging (issue #13) give the answers of the full work:
 * judgeFunction judges one overload per schema where judgeCandidate could not tell them apart
 * (sameVerdict), and effectiveSearchPath reuses its last answer only for the same, unchanged array.
 */
import { describe, expect, it } from 'vitest';
import { effectiveSearchPath, judgeCandidate, judgeFunction, sameVerdict, type FunctionRules, type FunctionVerdict } from '../../../src/guard/functions.js';
import type { CatalogFunction } from '../../../src/guard/types.js';
import { demoCatalog } from './fixtures/catalog.js';

const RULES: FunctionRules[] = [
  { mode: 'denylist', allow: [], deny: [] },
  { mode: 'denylist', allow: [], deny: [], catalogs: true },
  { mode: 'denylist', allow: ['app.*'], deny: ['upper', 'app.lookup_key'] },
  { mode: 'allowlist', allow: ['app.cents_to_eur', 'lower', 'pg_sleep'], deny: [] },
  { mode: 'allowlist', allow: ['app.*', 'pg_catalog.*'], deny: ['app.lookup*'], catalogs: true },
];

/** Overloads that differ in every field but schema and name, inside and outside pg_catalog. */
function variants(schema: string, name: string): CatalogFunction[] {
  const base: CatalogFunction = { schema, name, securityDefiner: false, volatility: 'immutable', language: 'internal' };
  return [
    base,
    { ...base, securityDefiner: true },
    { ...base, volatility: 'volatile', language: 'plpgsql' },
    { ...base, args: [25, 25], ret: 25, variadic: true, defaults: 1 },
    { ...base, args: [23], ret: 16 },
  ];
}

const NAMES = ['lower', 'sum', 'pg_sleep', 'pg_read_file', 'current_setting', 'pg_stat_get_activity', 'version', 'lookup_key', 'cents_to_eur', 'query_to_xml'];

describe('sameVerdict: judgeCandidate cannot tell such candidates apart', () => {
  it('gives equal verdicts for every pair it calls the same (any rules, catalogSafe or not)', () => {
    let same = 0;
    for (const schema of ['pg_catalog', 'app', 'information_schema']) {
      for (const name of NAMES) {
        const vs = variants(schema, name);
        for (const a of vs) {
          for (const b of vs) {
            if (!sameVerdict(a, b)) continue;
            same++;
            for (const rules of RULES) {
              for (const safe of [false, true]) expect(judgeCandidate(b, rules, 'p', safe)).toEqual(judgeCandidate(a, rules, 'p', safe));
            }
          }
        }
      }
    }
    expect(same).toBeGreaterThan(300);
  });

  it('tells apart other schemas, other names, and SECURITY DEFINER outside pg_catalog', () => {
    const [plain, definer] = variants('app', 'f') as [CatalogFunction, CatalogFunction];
    expect(sameVerdict(plain, definer)).toBe(false);
    expect(sameVerdict(plain, { ...plain, schema: 'public' })).toBe(false);
    expect(sameVerdict(plain, { ...plain, name: 'g' })).toBe(false);
    const [cat, catDefiner] = variants('pg_catalog', 'f') as [CatalogFunction, CatalogFunction];
    expect(sameVerdict(cat, catDefiner)).toBe(true);
  });
});

/** judgeFunction as it was: every candidate judged, in search-path order (the reference). */
function judgeEveryCandidate(parts: string[], candidates: CatalogFunction[], schemas: readonly string[], rules: FunctionRules): FunctionVerdict | undefined {
  let firstOk: FunctionVerdict | undefined;
  for (const s of schemas) {
    for (const fn of candidates) {
      if (fn.schema !== s) continue;
      const v = judgeCandidate(fn, rules, 'p', false);
      if (!v.ok) return v;
      firstOk ??= v;
    }
  }
  return firstOk;
}

describe('judgeFunction over overloads', () => {
  it('answers as judging every candidate would, for every built-in name of the demo catalog and user overloads', () => {
    const extra = [...variants('app', 'lower'), ...variants('app', 'cents_to_eur'), ...variants('public', 'sum'), ...variants('pg_catalog', 'pg_sleep')];
    const catalog = demoCatalog({ functions: extra, version: 7 });
    const path = ['app', 'public'];
    let overloaded = 0;
    for (const rules of RULES) {
      for (const [name, overloads] of catalog.functions) {
        const schemas = effectiveSearchPath(path);
        const candidates = overloads.filter((f) => schemas.includes(f.schema));
        if (candidates.length < 2) continue;
        overloaded++;
        const want = judgeEveryCandidate([name], candidates, schemas, rules);
        expect(judgeFunction([name], catalog, path, rules, 'p')).toEqual(want);
        for (const schema of new Set(candidates.map((c) => c.schema))) {
          expect(judgeFunction([schema, name], catalog, path, rules, 'p')).toEqual(judgeEveryCandidate([schema, name], candidates, [schema], rules));
        }
      }
    }
    expect(overloaded).toBeGreaterThan(100);
  });
});

describe('effectiveSearchPath', () => {
  it("puts pg_catalog first unless the path names it, and drops $user and pg_temp", () => {
    expect(effectiveSearchPath(['$user', 'app', 'public'])).toEqual(['pg_catalog', 'app', 'public']);
    expect(effectiveSearchPath(['app', 'pg_catalog', 'pg_temp'])).toEqual(['app', 'pg_catalog']);
  });

  it('answers for the array as it is now: the same array changed in place, or other arrays in turn', () => {
    const path = ['app', 'public'];
    expect(effectiveSearchPath(path)).toEqual(['pg_catalog', 'app', 'public']);
    expect(effectiveSearchPath(path)).toEqual(['pg_catalog', 'app', 'public']);
    path[0] = 'internal';
    expect(effectiveSearchPath(path)).toEqual(['pg_catalog', 'internal', 'public']);
    path.push('pg_catalog');
    expect(effectiveSearchPath(path)).toEqual(['internal', 'public', 'pg_catalog']);
    const other = ['public'];
    for (let i = 0; i < 3; i++) {
      expect(effectiveSearchPath(other)).toEqual(['pg_catalog', 'public']);
      expect(effectiveSearchPath(path)).toEqual(['internal', 'public', 'pg_catalog']);
    }
  });
});
