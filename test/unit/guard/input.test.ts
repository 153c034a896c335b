/**
 * Input checks, parser errors, limits and the safety of what the guard echoes back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import { lexStats } from '../../../src/guard/lex.js';
import { sanitizeParserMessage } from '../../../src/guard/parse.js';
import type { Decision } from '../../../src/guard/types.js';
import { guardRequest, testGuard } from './fixtures/catalog.js';

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard();
});

const decide = (sql: string): Decision => guard.decide(guardRequest(sql));
const codes = (d: Decision): string[] => d.reasons.map((r) => r.code);

describe('input checks before parsing', () => {
  it('refuses a NUL byte (the WASM parser would silently truncate at it)', () => {
    const d = decide('SELECT 1\0; DROP TABLE app.orders');
    expect(d.decision).toBe('block');
    expect(codes(d)).toEqual(['INVALID_INPUT']);
  });

  it('refuses an unpaired surrogate', () => {
    expect(codes(decide('SELECT 1 -- \uD800'))).toEqual(['INVALID_INPUT']);
  });

  it.each(['', '   ', '\n\t', '-- just a comment', '/* block */', ';', ';;', '/* a */ -- b\n ;'])('refuses empty text %j', (sql) => {
    const d = decide(sql);
    expect(d.decision).toBe('block');
    expect(codes(d)).toEqual(['EMPTY_STATEMENT']);
  });

  it('refuses a long comment-only text', () => {
    expect(codes(decide(`/* ${'x'.repeat(1000)} */ -- ${'y'.repeat(500)}`))).toEqual(['EMPTY_STATEMENT']);
  });

  it('refuses text over max_statement_bytes (UTF-8 bytes, not characters)', async () => {
    const g = await testGuard({ maxStatementBytes: 100 });
    expect(codes(g.decide(guardRequest(`SELECT '${'x'.repeat(120)}'`)))).toEqual(['STATEMENT_TOO_LARGE']);
    // 40 characters of 3 bytes each = 120 bytes
    expect(codes(g.decide(guardRequest(`SELECT '${'€'.repeat(40)}'`)))).toEqual(['STATEMENT_TOO_LARGE']);
    expect(g.decide(guardRequest(`SELECT '${'x'.repeat(50)}'`)).decision).toBe('allow');
  });
});

describe('parse errors', () => {
  it('reports PARSE_ERROR with a 1-based position', () => {
    const d = decide('SELECT * FROM app.orders WHERE');
    expect(codes(d)).toEqual(['PARSE_ERROR']);
    expect(d.position).toBe(31);
    expect(d.reasons[0]?.message).toContain('syntax error at end of input');
  });

  it('positions count characters, not bytes', () => {
    const d = decide("SELECT 'ääää' ä ä");
    expect(d.position).toBe(17);
  });

  it('echoes a keyword or identifier token', () => {
    const d = decide('SELECT FROM FROM app.orders');
    expect(d.reasons[0]?.message).toMatch(/at or near "FROM"/);
  });

  it.each([
    ["SELECT 'secret-one' 'secret-two'", 'secret'],
    ['SELECT $$secret-one$$ $$secret-two$$', 'secret'],
    ["SELECT 'unterminated secret", 'secret'],
    ["SELECT E'sec\\x72et' E'x'", 'sec'],
    ['SELECT 1 FROM t WHERE a = "unterminated-ident-secret', 'secret'],
  ])('never echoes a literal from the input: %s', (sql, secret) => {
    const d = decide(sql);
    expect(codes(d)).toEqual(['PARSE_ERROR']);
    for (const r of d.reasons) {
      expect(r.message).not.toContain(secret);
      expect(r.fix).not.toContain(secret);
    }
    expect(d.normalized).not.toContain(secret);
    expect(d.fingerprint).not.toContain(secret);
    expect(d.normalized).toMatch(/^\/\* unparsed statement sha256:[0-9a-f]{16} \*\/$/);
  });

  it('sanitizes parser messages', () => {
    expect(sanitizeParserMessage('syntax error at or near "\'x\'"')).toBe('syntax error');
    expect(sanitizeParserMessage('syntax error at or near "baz"')).toBe('syntax error at or near "baz"');
    expect(sanitizeParserMessage('unterminated quoted string at or near "\'abc"')).toBe('unterminated quoted string');
    expect(sanitizeParserMessage('syntax error at or near "$$x$$"')).toBe('syntax error');
    expect(sanitizeParserMessage('weird: "data" 123')).toBe('syntax error');
  });
});

describe('statement counting and parameters', () => {
  it.each([
    ['SELECT 1; SELECT 2', 2],
    ['SELECT 1; COMMIT; DROP TABLE app.orders', 3],
    ["SELECT '--'; DROP TABLE app.orders", 2],
    ["SELECT '/*'; DROP TABLE app.orders; SELECT '*/'", 3],
    ['SELECT $$;$$; DELETE FROM app.orders', 2],
    ['SELECT $a$ $b$ ; $a$; DELETE FROM app.orders', 2],
  ])('MULTI_STATEMENT for %s', (sql, n) => {
    const d = decide(sql);
    expect(d.decision).toBe('block');
    expect(codes(d)).toContain('MULTI_STATEMENT');
    expect(d.statementCount).toBe(n);
    expect(d.reasons.find((r) => r.code === 'MULTI_STATEMENT')?.message).toContain(`${n} statements`);
  });

  it('a trailing semicolon is one statement', () => {
    expect(decide('SELECT 1;').decision).toBe('allow');
    expect(decide('SELECT 1;;  ').decision).toBe('allow');
  });

  it('UNSUPPORTED_PARAMETERS for $n, unless the caller binds parameters', () => {
    expect(codes(decide('SELECT * FROM app.orders WHERE id = $1'))).toEqual(['UNSUPPORTED_PARAMETERS']);
    expect(guard.decide(guardRequest('SELECT * FROM app.orders WHERE id = $1', { parameters: true })).decision).toBe('allow');
    // a $1 inside a string is not a parameter
    expect(decide("SELECT '$1' AS x").decision).toBe('allow');
  });
});

describe('pathological input is a coded refusal, never a throw', () => {
  it('10,000 nested parentheses', () => {
    const d = decide(`SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)}`);
    expect(d.decision).toBe('block');
    expect(codes(d)).toEqual(['STATEMENT_TOO_COMPLEX']);
  });

  it('a 4,000-term expression', () => {
    const d = decide(`SELECT ${Array.from({ length: 4000 }, (_, i) => `c${i}`).join(' + ')} FROM app.orders`);
    expect(d.decision).toBe('block');
    expect(codes(d)).toEqual(['STATEMENT_TOO_COMPLEX']);
  });

  it('a 20,000-term expression (would overflow the WASM stack)', () => {
    const d = decide(`SELECT ${'1+'.repeat(20_000)}1`);
    expect(codes(d)).toEqual(['STATEMENT_TOO_COMPLEX']);
  });

  it('deeply nested sub-selects, NOT chains, casts and CASE', () => {
    for (const sql of [
      `SELECT ${'(SELECT '.repeat(3000)}1${')'.repeat(3000)}`,
      `SELECT ${'NOT '.repeat(5000)}true`,
      `SELECT 1${'::int'.repeat(5000)}`,
      `SELECT ${'CASE WHEN true THEN 1 ELSE '.repeat(2000)}1${' END'.repeat(2000)}`,
      `SELECT 1${' UNION SELECT 1'.repeat(3000)}`,
      `SELECT ARRAY${'['.repeat(3000)}1${']'.repeat(3000)}`,
    ]) {
      const d = decide(sql);
      expect(d.decision).toBe('block');
      expect(codes(d)).toEqual(['STATEMENT_TOO_COMPLEX']);
    }
  });

  it('a parse tree over max_ast_nodes', async () => {
    const g = await testGuard({ maxAstNodes: 200 });
    const sql = `SELECT ${Array.from({ length: 150 }, (_, i) => `${i}`).join(', ')}`;
    expect(codes(g.decide(guardRequest(sql)))).toEqual(['STATEMENT_TOO_COMPLEX']);
  });

  it('a tree deeper than max depth even when the text is short', async () => {
    const g = await testGuard({ maxAstDepth: 20 });
    const sql = `SELECT ${'abs('.repeat(30)}1${')'.repeat(30)}`;
    expect(codes(g.decide(guardRequest(sql)))).toEqual(['STATEMENT_TOO_COMPLEX']);
  });

  it('a wide flat IN list is fine', () => {
    const sql = `SELECT * FROM app.orders WHERE id IN (${Array.from({ length: 3000 }, (_, i) => i).join(',')})`;
    expect(decide(sql).decision).toBe('allow');
  });
});

describe('lexical pre-scan', () => {
  it('ignores operators and parentheses inside literals, identifiers and comments', () => {
    const s = lexStats(`SELECT '(((+++' , "(((---", $$ ((( +++ $$, $t$ ((( $t$, E'\\' (((' /* ((( /* nested ((( */ */ -- (((\n 1`);
    expect(s.maxDepth).toBe(0);
    expect(s.chainTokens).toBe(1); // SELECT
    expect(s.hasTokens).toBe(true);
  });

  it('counts nesting and operators', () => {
    const s = lexStats('SELECT ((1 + 2) * 3)::int');
    expect(s.maxDepth).toBe(2);
    expect(s.chainTokens).toBe(4); // SELECT, +, *, ::
  });
});

describe('names from string literals are not echoed unless they resolve', () => {
  it.each([
    "SELECT 'sk_live_SECRET.abc'::regclass",
    "SELECT 'sk_live_SECRET'::regclass",
    "SELECT pg_relation_size('sk_live_SECRET')",
    "SELECT 'sk_live_SECRET(int)'::regprocedure",
    "SELECT to_regproc('sk_live_SECRET')",
  ])('%s', (sql) => {
    const d = decide(sql);
    expect(d.decision).toBe('block');
    expect(JSON.stringify([d.reasons, d.relations, d.functions, d.normalized])).not.toContain('SECRET');
  });
});

describe('fingerprint and normalized text', () => {
  it('groups statements that differ in constants and strips literals', () => {
    const a = decide("SELECT * FROM app.customers WHERE email = 'ada@example.com'");
    const b = decide("SELECT * FROM app.customers WHERE email = 'grace@example.com'");
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.normalized).toBe('SELECT * FROM app.customers WHERE email = $1');
    expect(a.normalized).not.toContain('ada');
  });

  it('never keeps literals that normalize leaves in utility statements', () => {
    for (const sql of ["COPY app.orders TO '/tmp/secret-file'", "COMMENT ON TABLE app.orders IS 'secret-comment'", "PREPARE p AS SELECT 'secret-prep'", "LOAD 'secret-lib'"]) {
      const d = decide(sql);
      expect(d.decision).toBe('block');
      expect(d.normalized).not.toContain('secret');
    }
  });
});
