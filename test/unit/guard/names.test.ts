/**
 * Name helpers and policy patterns.
 */
import { describe, expect, it } from 'vitest';
import { splitOperatorName, splitQualifiedName } from '../../../src/guard/names.js';
import { matches } from '../../../src/guard/patterns.js';

describe('splitQualifiedName (regclass/regproc literal text)', () => {
  it.each([
    ['internal.api_keys', ['internal', 'api_keys']],
    ['INTERNAL.API_KEYS', ['internal', 'api_keys']],
    ['"Internal"."Api Keys"', ['Internal', 'Api Keys']],
    [' internal . api_keys ', ['internal', 'api_keys']],
    ['"a""b".c', ['a"b', 'c']],
    ['pg_catalog.pg_read_file(text, bigint)', ['pg_catalog', 'pg_read_file']],
    ['db.s.t', ['db', 's', 't']],
  ])('%s', (text, parts) => {
    expect(splitQualifiedName(text)).toEqual(parts);
  });

  it.each(['', '.', 'a.', '"unterminated', 'a.b.c.d', '""'])('rejects %j', (text) => {
    expect(splitQualifiedName(text)).toBeUndefined();
  });

  it('splits operator names', () => {
    expect(splitOperatorName('app.===')).toEqual(['app', '===']);
    expect(splitOperatorName('+(int4,int4)')).toEqual(['+']);
  });
});

describe('policy patterns', () => {
  it('* matches within one part only; no dot means any schema', () => {
    expect(matches('internal.*', 'internal', 'api_keys')).toBe(true);
    expect(matches('internal.*', 'internals', 'x')).toBe(false);
    expect(matches('*.api_keys', 'internal', 'api_keys')).toBe(true);
    expect(matches('app.order*', 'app', 'order_items')).toBe(true);
    expect(matches('app.order*', 'app', 'orders.x')).toBe(false);
    expect(matches('api_keys', 'internal', 'api_keys')).toBe(true);
    expect(matches('app.a.b', 'app', 'a.b')).toBe(true);
    expect(matches('APP.ORDERS', 'app', 'orders')).toBe(false);
    expect(matches('app.(x)+', 'app', 'xx')).toBe(false);
  });

  it('deny patterns fail closed on quoted names with a dot: * also matches the dot (red team)', () => {
    expect(matches('app.secret*', 'app', 'secret.v2', true)).toBe(true);
    expect(matches('app.*', 'app', 'a.b', true)).toBe(true);
    expect(matches('app.secret*', 'app', 'public_notes', true)).toBe(false);
    expect(matches('app.secret*', 'apps', 'secret', true)).toBe(false);
  });
});
