/**
 * Plain string literals that standard_conforming_strings = off would lex differently (red team:
 * a server with it off ran the inside of a literal as SQL). See src/guard/literals.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../src/guard/index.js';
import { hasAmbiguousStringLiteral } from '../../../src/guard/literals.js';

beforeAll(async () => {
  await loadParser();
});

describe('hasAmbiguousStringLiteral', () => {
  it.each([
    String.raw`SELECT '\'' , (SELECT secret FROM internal.api_keys) AS s, ' AS t -- '` + '\n',
    String.raw`SELECT 'x\' AS a`,
    String.raw`SELECT 'a\\\' AS a`,
    String.raw`SELECT N'\'' , 1, ' -- '` + '\n',
    "SELECT 'a'\n" + String.raw`'\'' , 1, ' -- '` + '\n',
    "SELECT 'a'  -- c\n" + String.raw`'b\'` + "'",
  ])('true: %s', (sql) => {
    expect(hasAmbiguousStringLiteral(sql)).toBe(true);
  });

  it.each([
    'SELECT 1',
    "SELECT 'it''s'",
    String.raw`SELECT '\d+', 'C:\temp\x', '\\'`,
    String.raw`SELECT E'it\'s', e'x\\', $$a\'b$$, $t$\'$t$`,
    String.raw`SELECT B'101', X'ff', "col\name" FROM app.orders`,
    "SELECT 'a'\n'b\\c'",
    String.raw`SELECT 1 -- a comment with \' in it`,
    String.raw`SELECT 1 /* \' */`,
  ])('false: %s', (sql) => {
    expect(hasAmbiguousStringLiteral(sql)).toBe(false);
  });

  it('fails closed when the text cannot be scanned', () => {
    expect(hasAmbiguousStringLiteral("SELECT '\\")).toBe(true);
  });
});
