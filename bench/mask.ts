/**
 * Masking benchmark: what Masker.plan() costs per statement, for a policy with masks over the
 * demo schema (no database: the rewrite is pure). Prints p50/p99 µs; asserts nothing.
 *
 *   npx tsx bench/mask.ts            (bench/run.ts picks up runMaskBench() when listed)
 *
 * Rows: a statement that reads no masked table (the check only; the original text runs), a
 * cached plan (the guard's decision cache returns the same Decision, so the plan is reused), and
 * a cold rewrite (walk, clone, replace, deparse, re-parse and compare) of a short and a larger
 * query. The guard's own cost is not included (see bench/guard.ts).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Guard, loadParser } from '../src/guard/index.js';
import type { Decision } from '../src/guard/types.js';
import { Masker } from '../src/mask/index.js';
import { guardRequest } from '../test/unit/guard/fixtures/catalog.js';
import { HASH_KEY, maskCatalog, maskPolicy } from '../test/unit/mask/fixtures.js';

const SHORT = 'SELECT id, email, ssn FROM app.customers WHERE id = 42';
const LARGER = `WITH recent AS (
  SELECT o.customer_id, o.total_cents, o.placed_at, o.shipping_address
  FROM app.orders o
  WHERE o.placed_at > now() - interval '90 days' AND o.status IN ('paid', 'shipped', 'delivered')
), per_customer AS (
  SELECT r.customer_id, count(*) AS orders, sum(r.total_cents) AS spent, max(r.placed_at) AS last_order
  FROM recent r GROUP BY r.customer_id
)
SELECT c.id, c.email, c.country, p.orders, p.spent, p.last_order,
       rank() OVER (PARTITION BY c.country ORDER BY p.spent DESC) AS country_rank,
       (SELECT count(*) FROM app.support_tickets t WHERE t.customer_id = c.id AND t.closed_at IS NULL) AS open_tickets
FROM per_customer p
JOIN app.customers c ON c.id = p.customer_id
LEFT JOIN LATERAL (SELECT e.kind FROM app.events e WHERE e.customer_id = c.id ORDER BY e.at DESC LIMIT 1) last_event ON true
WHERE c.marketing_opt_in
ORDER BY p.spent DESC
LIMIT 50`;
const UNMASKED = 'SELECT p.category, count(*), avg(p.price_cents) FROM app.products p JOIN app.order_items i ON i.product_id = p.id GROUP BY 1';

interface Row {
  name: string;
  p50Us: number;
  p99Us: number;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function time(name: string, n: number, fn: (i: number) => void): Row {
  for (let i = 0; i < Math.min(200, n); i++) fn(i);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    out[i] = (performance.now() - t0) * 1000;
  }
  out.sort();
  return { name, p50Us: pct(out, 50), p99Us: pct(out, 99) };
}

export async function runMaskBench(print: (line: string) => void = (l) => console.log(l)): Promise<Row[]> {
  await loadParser();
  const catalog = maskCatalog();
  const policy = maskPolicy();
  const guard = new Guard({ cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
  const decide = (sql: string): Decision => guard.decide(guardRequest(sql, { policy, catalog }));
  const masker = new Masker({ hashKey: HASH_KEY });
  const req = (decision: Decision) => ({ decision, policy, catalog, searchPath: ['app', 'public'] as const });
  // fresh decisions (new tree objects) so every cold call computes the plan
  const fresh = (sql: string, n: number): Decision[] => Array.from({ length: n + 200 }, () => decide(sql));
  const rows: Row[] = [];
  const unmasked = fresh(UNMASKED, 2000);
  rows.push(time('no masked table (check only)', 2000, (i) => void masker.plan(req(unmasked[i] as Decision))));
  const cached = decide(SHORT);
  rows.push(time('cached plan (same decision)', 20_000, () => void masker.plan(req(cached))));
  const short = fresh(SHORT, 2000);
  rows.push(time('cold rewrite, short query', 2000, (i) => void masker.plan(req(short[i] as Decision))));
  const larger = fresh(LARGER, 500);
  rows.push(time('cold rewrite, 20-line query', 500, (i) => void masker.plan(req(larger[i] as Decision))));
  const sample = masker.plan(req(decide(SHORT)));
  if (!sample.ok || !sample.rewritten) throw new Error('bench: the short query was not rewritten');
  const w = Math.max(...rows.map((r) => r.name.length));
  print(`${'case'.padEnd(w)}  ${'p50 µs'.padStart(8)}  ${'p99 µs'.padStart(8)}`);
  for (const r of rows) print(`${r.name.padEnd(w)}  ${r.p50Us.toFixed(1).padStart(8)}  ${r.p99Us.toFixed(1).padStart(8)}`);
  print(`(Masker.plan only; Node ${process.version}; a rewrite = walk + copy + replace + deparse + re-parse + compare)`);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runMaskBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
