/**
 * Issue #10 item 2: the masking rewrite's synchronous work is bounded. The statement, one
 * masked table named 8,300 times in 98.5 KB, froze the process 9.3 s (rewrite, deparse, re-parse
 * and compare of ~8 MB of SQL); it is now refused STATEMENT_TOO_COMPLEX before the rewrite
 * starts. On 344cc74 it was rewritten (ok: true) after seconds of work.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_REWRITE_BYTES } from '../../../src/mask/index.js';
import { MaskHarness } from './fixtures.js';

let h: MaskHarness;
beforeAll(async () => {
  h = await MaskHarness.create();
});

function aliases(n: number): string {
  return 'SELECT 1 FROM app.customers' + Array.from({ length: n }, (_, i) => `, app.customers c${i + 1}`).join('');
}

/** As many `, app.customers cN` as fit in `bytes` (the shape at max_statement_bytes). */
function aliasesUpTo(bytes: number): string {
  let sql = 'SELECT 1 FROM app.customers';
  for (let i = 1; ; i++) {
    const next = `, app.customers c${i}`;
    if (sql.length + next.length > bytes) return sql;
    sql += next;
  }
}

describe('masking rewrite work bound', () => {
  it("a 98.5 KB statement naming a masked table ~5,000 times is refused STATEMENT_TOO_COMPLEX, quickly", () => {
    const sql = aliasesUpTo(98_500);
    expect(sql.length).toBeGreaterThan(98_000);
    const started = performance.now();
    const { plan } = h.plan(sql);
    const ms = performance.now() - started;
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.reasons.map((r) => r.code)).toEqual(['STATEMENT_TOO_COMPLEX']);
    // guard + mask walk only (no rewrite): well under the seconds the rewrite took, even on a loaded machine
    expect(ms).toBeLessThan(3_000);
  });

  it('the bound sits between tens and hundreds of masked references', () => {
    const few = h.plan(aliases(20)).plan;
    expect(few.ok && few.rewritten).toBe(true);
    const many = h.plan(aliases(400)).plan;
    expect(many.ok).toBe(false);
    if (!many.ok) expect(many.reasons[0]?.message).toContain(String(MAX_REWRITE_BYTES));
  });

  it('typed whole-row values are bounded too: 2,000 `o` references are refused STATEMENT_TOO_COMPLEX, quickly', () => {
    // each reference becomes a CASE over a cast (~65 bytes): 2,000 of them would add ~130 KB
    const sql = `SELECT COALESCE(o${', o'.repeat(1999)}) FROM app.orders o`;
    const started = performance.now();
    const { plan } = h.plan(sql);
    const ms = performance.now() - started;
    expect(plan.ok ? 'ok' : plan.reasons.map((r) => `${r.code} ${r.message}`).join('; ')).toMatch(/^STATEMENT_TOO_COMPLEX Masking: typed whole-row values would add more than 65536 bytes/);
    expect(ms).toBeLessThan(3_000);
    // a realistic number of whole rows is typed
    const few = h.plan(`SELECT COALESCE(o${', o'.repeat(200)}) FROM app.orders o`).plan;
    expect(few.ok && few.rewritten && few.sql.includes('CAST(o AS app.orders)')).toBe(true);
  });
});
