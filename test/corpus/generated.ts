/**
 * Corpus cases whose text is too large or too deep to write by hand: pathological nesting,
 * very wide statements, oversized text, and smuggling hidden far beyond the first kilobytes.
 * Sizes are chosen against the default guard limits (max_statement_bytes 100 000,
 * max_ast_nodes 50 000); every one of them must be blocked.
 */
import type { CorpusCase } from './index.js';

function gen(n: number, c: Omit<CorpusCase, 'id' | 'class' | 'expect' | 'tool' | 'parseError' | 'codes' | 'codesAny'> & Partial<CorpusCase>): CorpusCase {
  return {
    id: `generated#${n}`,
    class: 'generated',
    expect: 'block',
    tool: 'query',
    parseError: false,
    codes: [],
    codesAny: [],
    ...c,
  };
}

export function generatedCases(): CorpusCase[] {
  return [
    gen(1, {
      sql: `SELECT ${Array.from({ length: 30_000 }, () => '1').join('+')}`,
      codesAny: ['STATEMENT_TOO_COMPLEX', 'PARSE_ERROR'],
      why: 'a 30 000-deep left-nested expression (60 KB) must fail closed, not overflow the walker',
    }),
    gen(2, {
      sql: `SELECT ${'('.repeat(20_000)}1${')'.repeat(20_000)}`,
      codesAny: ['STATEMENT_TOO_COMPLEX', 'PARSE_ERROR'],
      parseError: true,
      why: '20 000 nested parentheses exhaust the parser stack: a parse error, never a crash',
    }),
    gen(3, {
      sql: `SELECT ${'(SELECT '.repeat(3_000)}1${')'.repeat(3_000)}`,
      codesAny: ['STATEMENT_TOO_COMPLEX', 'PARSE_ERROR'],
      why: '3 000 nested scalar subqueries are deeper than the guard evaluates',
    }),
    gen(4, {
      sql: `SELECT ${Array.from({ length: 20_000 }, () => '1+1').join(',')}`,
      codes: ['STATEMENT_TOO_COMPLEX'],
      why: 'a flat 20 000-column select list (80 KB) parses but has far more than max_ast_nodes nodes',
    }),
    gen(5, {
      sql: `SELECT id FROM app.orders WHERE id IN (${Array.from({ length: 20_000 }, (_, i) => `${i % 10}+1`).join(',')})`,
      codes: ['STATEMENT_TOO_COMPLEX'],
      why: 'a 20 000-element IN list of expressions exceeds max_ast_nodes',
    }),
    gen(6, {
      sql: `SELECT '${'x'.repeat(200_000)}' AS padding`,
      codes: ['STATEMENT_TOO_LARGE'],
      why: 'a 200 KB statement is refused before parsing',
    }),
    gen(7, {
      sql: 'SELECT 1;'.repeat(1_000),
      codes: ['MULTI_STATEMENT'],
      why: 'a thousand statements in one text',
    }),
    gen(8, {
      sql: `SELECT id${' '.repeat(60_000)}FROM internal.api_keys`,
      codesAny: ['DENIED_TABLE', 'DENIED_SCHEMA'],
      why: 'the denied relation sits 60 KB into the text: no prefix-only inspection',
    }),
    gen(9, {
      sql: `SELECT 1 /*${'x'.repeat(90_000)}*/; DROP TABLE app.orders`,
      codes: ['MULTI_STATEMENT'],
      why: 'a second statement hidden behind a 90 KB comment',
    }),
    gen(10, {
      sql: `SELECT ${Array.from({ length: 300 }, (_, i) => `o.total_cents + ${i}`).join(', ')}, pg_read_file('/etc/passwd') FROM app.orders o`,
      codes: ['UNSAFE_FUNCTION'],
      why: 'an unsafe call after 300 harmless expressions (within every limit): every node is visited',
    }),
    gen(11, {
      sql: `${'SELECT 1 UNION ALL '.repeat(1_500)}SELECT count(*)::int FROM internal.api_keys`,
      codesAny: ['DENIED_TABLE', 'DENIED_SCHEMA', 'STATEMENT_TOO_COMPLEX'],
      why: 'a denied table as the 1 501st branch of a UNION chain',
    }),
    gen(12, {
      sql: `SELECT ${Array.from({ length: 2_000 }, (_, i) => `o.total_cents + ${i}`).join(', ')}, pg_read_file('/etc/passwd') FROM app.orders o`,
      codesAny: ['UNSAFE_FUNCTION', 'STATEMENT_TOO_COMPLEX'],
      why: 'an unsafe call after 2 000 harmless expressions (beyond the pre-parse operator budget)',
    }),
    gen(13, {
      sql: `SELECT ${Array.from({ length: 200 }, () => 'coalesce(').join('')}pg_read_file('/etc/passwd')${')'.repeat(200)}`,
      codesAny: ['UNSAFE_FUNCTION', 'STATEMENT_TOO_COMPLEX'],
      why: 'an unsafe call nested 200 function calls deep',
    }),
    gen(14, {
      sql: `SELECT * FROM app.orders WHERE ${Array.from({ length: 200 }, (_, i) => `id <> ${i}`).join(' AND ')} AND customer_id IN (SELECT customer_id FROM internal.staff_notes)`,
      codesAny: ['DENIED_TABLE', 'DENIED_SCHEMA'],
      why: 'a denied subquery after 200 harmless conjuncts',
    }),
  ];
}
