/**
 * Issue #10 item 2: long statements are judged on worker threads (src/judge/pool.ts). The pool
 * gives the same decisions and masking plans as the main thread's guard and masker, caches them
 * on the main thread, refuses a statement whose judging overruns its budget (and replaces the
 * worker), refuses GUARD_BUSY past its queue, and keeps the event loop free meanwhile.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JudgingPool, type JudgingPoolOptions } from '../../../src/judge/pool.js';
import { Masker } from '../../../src/mask/index.js';
import type { Guard } from '../../../src/guard/index.js';
import { guardRequest, testGuard } from '../guard/fixtures/catalog.js';
import { HASH_KEY, maskCatalog, maskPolicy } from '../mask/fixtures.js';

const GUARD = { cacheSize: 1000, maxStatementBytes: 100_000, maxAstNodes: 50_000 };

/** The shape: as many `, <table> cN` as fit in `bytes`. */
export function aliasesUpTo(bytes: number, table = 'app.customers'): string {
  let sql = `SELECT 1 FROM ${table}`;
  for (let i = 1; ; i++) {
    const next = `, ${table} c${i}`;
    if (sql.length + next.length > bytes) return sql;
    sql += next;
  }
}

let pools: JudgingPool[] = [];
function pool(opts: Partial<JudgingPoolOptions> = {}): JudgingPool {
  const p = new JudgingPool({ workers: 1, queue: 8, budgetMs: 30_000, minBytes: 1000, guard: GUARD, hashKey: HASH_KEY, ...opts });
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

let inline: Guard;
beforeAll(async () => {
  inline = await testGuard();
});

const catalog = maskCatalog();
const policy = maskPolicy();
const request = (sql: string) => guardRequest(sql, { policy, catalog });

describe('judging pool', () => {
  it('judges a long statement on a worker exactly as the main thread does, and caches it there', async () => {
    const p = pool();
    const guard = await testGuard();
    const masker = new Masker({ hashKey: HASH_KEY });
    const sql = `SELECT c.email, c.country FROM app.customers c WHERE c.id IN (${Array.from({ length: 300 }, (_, i) => i).join(', ')})`;
    expect(p.offloads(sql)).toBe(true);
    const d = await p.decide(request(sql), guard, masker);
    expect(p.stats().judged).toBe(1);
    const ref = inline.decide(request(sql));
    expect(d.decision).toBe('allow');
    expect({ ...d, elapsedUs: 0, cached: false }).toEqual({ ...ref, elapsedUs: 0, cached: false });
    expect(d.identity).toEqual({ fingerprint: ref.fingerprint, normalized: ref.normalized });
    // the masking plan made on the worker is the main thread's cached plan for this decision
    const plan = masker.plan({ decision: d, policy, catalog, searchPath: ['app', 'public'] });
    const refPlan = new Masker({ hashKey: HASH_KEY }).plan({ decision: ref, policy, catalog, searchPath: ['app', 'public'] });
    expect(plan).toEqual(refPlan);
    expect(plan.ok && plan.rewritten).toBe(true);
    // warm path: answered from the main thread's cache, no worker
    const again = await p.decide(request(sql), guard, masker);
    expect(again.cached).toBe(true);
    expect(p.stats().judged).toBe(1);
  });

  it('short statements are judged inline (no worker started)', async () => {
    const p = pool();
    const guard = await testGuard();
    const d = await p.decide(request('SELECT id FROM app.customers'), guard);
    expect(d.decision).toBe('allow');
    expect(p.stats()).toMatchObject({ workers: 0, judged: 0 });
  });

  it('a statement over the budget is refused STATEMENT_TOO_COMPLEX, not cached, and the worker is replaced', async () => {
    const p = pool({ budgetMs: 5 });
    const guard = await testGuard();
    const sql = aliasesUpTo(99_000);
    const d = await p.decide(request(sql), guard);
    expect(d.decision).toBe('block');
    expect(d.reasons.map((r) => r.code)).toEqual(['STATEMENT_TOO_COMPLEX']);
    expect(d.reasons[0]?.message).toContain('5 ms');
    expect(d.normalized).not.toContain('customers');
    expect(guard.lookup(request(sql))).toBeUndefined();
    expect(p.stats()).toMatchObject({ overBudget: 1, workers: 0 });
    // a later statement gets a fresh worker
    p.configure(GUARD, HASH_KEY);
    const ok = await pool({ budgetMs: 30_000 }).decide(request(aliasesUpTo(5_000)), guard);
    expect(ok.decision).toBe('allow');
  }, 60_000);

  it('past workers + queue a call is refused GUARD_BUSY at once; the others are judged', async () => {
    const p = pool({ workers: 1, queue: 1 });
    const guard = await testGuard();
    const texts = [aliasesUpTo(20_000), aliasesUpTo(20_001, 'app.orders'), aliasesUpTo(20_002, 'app.products')];
    const ds = await Promise.all(texts.map((t) => p.decide(request(t), guard)));
    expect(ds.map((d) => d.reasons.map((r) => r.code).join(',') || d.decision)).toEqual(['allow', 'allow', 'GUARD_BUSY']);
    expect(guard.lookup(request(texts[2] as string))).toBeUndefined();
  }, 60_000);

  it('a statement the worker cannot take fails closed INTERNAL_ERROR with its cause attached (for the log), not cached', async () => {
    const p = pool();
    const guard = await testGuard();
    const sql = aliasesUpTo(5_000);
    // a function cannot cross to a worker (DataCloneError): stands for any failure of the worker
    const req = { ...request(sql), policy: { ...policy, oops: () => 1 } as unknown as typeof policy };
    const d = await p.decide(req, guard);
    expect(d.reasons.map((r) => r.code)).toEqual(['INTERNAL_ERROR']);
    expect(d.cause).toBeInstanceOf(Error);
    expect(String((d.cause as Error).stack)).toMatch(/DataCloneError|could not be cloned/);
    expect(Object.keys(d)).not.toContain('cause');
    expect(JSON.stringify(d)).not.toContain('customers');
    expect(guard.lookup(req)).toBeUndefined();
    expect(p.stats().failed).toBe(1);
  });

  it('the event loop stays free while a slow statement is judged (inline it is blocked)', async () => {
    const sql = aliasesUpTo(99_000);
    const gapWhile = async (work: () => Promise<unknown>): Promise<number> => {
      let last = performance.now();
      let worst = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 5);
      await work();
      await new Promise((r) => setTimeout(r, 30)); // let the timer see the last gap
      clearInterval(timer);
      return worst;
    };
    const p = pool();
    await p.decide(request(aliasesUpTo(2_000, 'app.orders')), await testGuard()); // worker started and warm
    const offloaded = await gapWhile(() => p.decide(request(sql), inline));
    const blocked = await gapWhile(async () => {
      await new Promise((r) => setTimeout(r, 20));
      (await testGuard()).decide(request(`${sql} `));
    });
    // generous bounds: the inline judging of this statement takes ~0.2 s on an idle machine. Under
    // load (other test files on the same 2 cores) every gap grows, so the bound on the offloaded gap
    // is relative to the blocked one, never below 100 ms: the old inline path fails it (gap ≈ blocked).
    expect(blocked).toBeGreaterThan(offloaded);
    expect(offloaded).toBeLessThan(Math.max(100, blocked / 2));
  }, 60_000);
});
