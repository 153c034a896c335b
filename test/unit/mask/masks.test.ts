import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskSpecSchema } from '../../../src/config/schema.js';
import { deriveMaskKey, hmacHex } from '../../../src/mask/key.js';
import { maskExpression, maskText, projectionSql, stringTypeCast } from '../../../src/mask/masks.js';
import { validateMasking } from '../../../src/mask/index.js';

const spec = (s: Record<string, unknown>) => maskSpecSchema.parse(s);
const key = deriveMaskKey('unit-test-mask-key-0123456789');

describe('mask key', () => {
  it('derives a key from the secret (the secret itself never reaches SQL) and pads it per RFC 2104', () => {
    const derived = createHmac('sha256', 'unit-test-mask-key-0123456789').update('pgwarden/mask/v1').digest();
    expect(key.derived.equals(derived)).toBe(true);
    expect(key.ipadHex).toHaveLength(128);
    expect(key.ipadHex.slice(64)).toBe('36'.repeat(32));
    expect(key.opadHex.slice(64)).toBe('5c'.repeat(32));
    const sql = maskExpression({ column: 'ssn', type: 'text', spec: spec({ mask: 'hash' }) }, key);
    expect(sql).not.toContain(Buffer.from('unit-test-mask-key-0123456789').toString('hex'));
    expect(sql).not.toContain(key.derived.toString('hex'));
  });

  it('hmacHex is HMAC-SHA-256 with the derived key, truncated', () => {
    expect(hmacHex(key, '101-11-4243', 16)).toBe(createHmac('sha256', key.derived).update('101-11-4243').digest('hex').slice(0, 16));
    expect(hmacHex(key, 'a', 64)).toHaveLength(64);
  });

  it('different secrets give unrelated hashes', () => {
    expect(hmacHex(deriveMaskKey('another-secret-key-0123456'), 'x', 16)).not.toBe(hmacHex(key, 'x', 16));
  });
});

describe('maskText (reference implementation)', () => {
  it('redact, null, partial, email, hash', () => {
    expect(maskText(spec({ mask: 'redact' }), 'Ada Lovelace', key)).toBe('***');
    expect(maskText(spec({ mask: 'redact', value: '[hidden]' }), 'x', key)).toBe('[hidden]');
    expect(maskText(spec({ mask: 'null' }), 'x', key)).toBeNull();
    expect(maskText(spec({ mask: 'partial', keep_last: 4 }), '+1-555-1037-7919', key)).toBe('***7919');
    expect(maskText(spec({ mask: 'partial', keep_first: 2, keep_last: 2 }), 'abcdefgh', key)).toBe('ab***gh');
    expect(maskText(spec({ mask: 'partial', keep_first: 2, keep_last: 2 }), 'abcd', key)).toBe('***');
    expect(maskText(spec({ mask: 'partial', keep_last: 0 }), 'abcd', key)).toBe('***');
    expect(maskText(spec({ mask: 'email' }), 'customer0001@mail.test', key)).toBe('***@mail.test');
    expect(maskText(spec({ mask: 'email' }), 'no-at-sign', key)).toBe('***');
    expect(maskText(spec({ mask: 'hash' }), '101-11-4243', key)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('NULL stays NULL for every mask', () => {
    for (const m of ['redact', 'null', 'partial', 'email', 'hash']) expect(maskText(spec({ mask: m }), null, key)).toBeNull();
  });
});

describe('mask SQL', () => {
  const col = (mask: Record<string, unknown>, type = 'text') => maskExpression({ column: 'c"x', type, spec: spec(mask) }, key);

  it('calls only pg_catalog-qualified functions and no operator (operators resolve through the search_path)', () => {
    for (const m of [{ mask: 'redact' }, { mask: 'partial' }, { mask: 'email' }, { mask: 'hash' }]) {
      const sql = col(m);
      expect(sql).not.toMatch(/\|\||[<>=]|~~/);
      for (const fn of sql.matchAll(/([a-z_0-9.]+)\(/g)) expect(fn[1], sql).toMatch(/^pg_catalog\.|^CAST$/i);
    }
  });

  it('quotes identifiers and literals', () => {
    expect(col({ mask: 'redact', value: "it's" })).toContain("'it''s'");
    expect(col({ mask: 'redact' })).toContain('"c""x"');
  });

  it('keeps the type for null masks and built-in string types, text otherwise', () => {
    expect(col({ mask: 'null' }, 'integer')).toBe('CAST(NULL AS integer)');
    expect(col({ mask: 'redact' }, 'character varying(20)')).toMatch(/^CAST\(.* AS varchar\(20\)\)$/);
    expect(col({ mask: 'redact' }, 'character(3)')).toMatch(/AS bpchar\(3\)\)$/);
    expect(col({ mask: 'redact' }, 'date')).toMatch(/^CASE/);
    expect(stringTypeCast('app.mytext')).toBeUndefined();
  });

  it('puts the key blocks in scalar sub-selects (InitPlans: EXPLAIN shows them only with VERBOSE)', () => {
    const sql = col({ mask: 'hash' });
    expect(sql).toContain(`(SELECT CAST('\\x${key.ipadHex}' AS bytea))`);
    expect(sql).toContain(`(SELECT CAST('\\x${key.opadHex}' AS bytea))`);
  });

  it('projects every column in order, ONLY when the reference had it', () => {
    const rm = {
      key: 'app.t', schema: 'app', name: 't',
      columns: [{ name: 'id', type: 'int' }, { name: 'e', type: 'text' }],
      masks: new Map([['e', { column: 'e', type: 'text', spec: spec({ mask: 'redact' }) }]]),
    };
    expect(projectionSql(rm, true, key)).toBe(`SELECT "id", CASE WHEN "e" IS NULL THEN NULL ELSE '***' END AS "e" FROM "app"."t"`);
    expect(projectionSql(rm, false, key)).toContain('FROM ONLY "app"."t"');
  });
});

describe('validateMasking', () => {
  const cfg = (masks: Record<string, unknown>, hashKey?: string) => ({
    masking: hashKey === undefined ? {} : { hash_key: hashKey },
    policies: { p: { observe: false, databases: { d: { masks, mask_trusted_functions: ['app.f', 'nodot'] } } } },
  });
  it('reports hash masks without a key and malformed trusted function names', () => {
    const problems = validateMasking(cfg({ 'app.t.c': spec({ mask: 'hash' }) }) as never);
    expect(problems.some((p) => p.includes('masking.hash_key'))).toBe(true);
    expect(problems.some((p) => p.includes('nodot'))).toBe(true);
    expect(validateMasking(cfg({ 'app.t.c': spec({ mask: 'hash' }) }, 'k'.repeat(16)) as never).filter((p) => p.includes('hash_key'))).toEqual([]);
  });
});
