/**
 * src/guard/pgquery.ts calls libpg-query's WebAssembly module itself (faster string transfer,
 * issue #13): every function must answer exactly as libpg-query's own wrapper does — the same
 * tree, fingerprint, normalized text, tokens, and the same errors with the same details — over
 * the whole corpus and inputs chosen to stress the string transfer (non-ASCII, 4-byte characters,
 * unpaired surrogates, short and long results, syntax errors, empty text).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as lib from 'libpg-query';
import * as door from '../../../src/guard/pgquery.js';
import { loadCorpus } from '../../corpus/index.js';
import { ALLOWED_QUERIES } from './fixtures/queries.js';

beforeAll(async () => {
  await Promise.all([lib.loadModule(), door.loadModule()]);
});

type Outcome = { ok: true; value: unknown } | { ok: false; name: string; message: string; details: unknown; ctor: string };

function outcome(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    const e = err as Error & { sqlDetails?: unknown };
    return { ok: false, name: e.name, message: e.message, details: e.sqlDetails, ctor: e.constructor.name };
  }
}

const HOSTILE: readonly string[] = [
  'SELECT 1',
  "SELECT 'héllo wörld', \"ñame\" FROM \"täble\"",
  "SELECT '😀', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢' AS \"𝔠𝔬𝔩\"",
  "SELECT '\ud800'",
  "SELECT 'a\udc00b' AS x",
  'SELECT "\ud83d" FROM t',
  'SELEC 1',
  "SELECT 'unterminated",
  'SELECT * FROM t WHERE é = 1 AND',
  '',
  ' ',
  '-- only a comment',
  `SELECT ${'"' + 'é'.repeat(70) + '"'} FROM t`,
  `SELECT ${Array.from({ length: 300 }, (_, i) => `c${i} + ${i}`).join(', ')} FROM t`,
  'SELECT $1, $2::int, E\'\\\\x\' FROM t',
  'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
];

const texts = [...new Set([...HOSTILE, ...ALLOWED_QUERIES, ...loadCorpus().map((c) => c.sql)])];

describe('src/guard/pgquery.ts answers as libpg-query', () => {
  it(`parseSync: the same tree or the same error (${texts.length} texts)`, () => {
    for (const sql of texts) expect(outcome(() => door.parseSync(sql)), sql.slice(0, 80)).toEqual(outcome(() => lib.parseSync(sql)));
  });

  it('fingerprintSync, normalizeSync, scanSync: the same value or the same error', () => {
    for (const sql of texts) {
      expect(outcome(() => door.fingerprintSync(sql)), sql.slice(0, 80)).toEqual(outcome(() => lib.fingerprintSync(sql)));
      expect(outcome(() => door.normalizeSync(sql)), sql.slice(0, 80)).toEqual(outcome(() => lib.normalizeSync(sql)));
      expect(outcome(() => door.scanSync(sql)), sql.slice(0, 80)).toEqual(outcome(() => lib.scanSync(sql)));
    }
  });

  it('a syntax error is a SqlError with libpg-query\'s details', () => {
    const o = outcome(() => door.parseSync('SELECT * FROM t WHERE'));
    expect(o).toMatchObject({ ok: false, name: 'SqlError', ctor: 'SqlError', details: { message: 'syntax error at end of input', cursorPosition: 21 } });
  });

  it('survives the module\'s memory growing between calls (results read after the call)', () => {
    const big = `SELECT ${Array.from({ length: 20_000 }, (_, i) => `'${'x'.repeat(i % 50)}' AS c${i}`).join(', ')}`;
    expect(door.parseSync(big)).toEqual(lib.parseSync(big));
    expect(door.parseSync('SELECT 1')).toEqual(lib.parseSync('SELECT 1'));
  });
});

describe('the libpg-query the door was checked against', () => {
  it('is pinned to one exact version (the door reads its WebAssembly structs and exports)', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['libpg-query']).toMatch(/^\d+\.\d+\.\d+$/);
    const installed = JSON.parse(await readFile(new URL('../../../node_modules/libpg-query/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(installed.version).toBe(pkg.dependencies['libpg-query']);
  });
});
