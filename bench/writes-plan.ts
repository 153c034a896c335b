/**
 * Write-planning benchmark: the pure cost of planWrite (deep clone, AST transform, deparse, and the
 * verifying re-parse of every produced text) and of the guard's write rules, for a simple UPDATE,
 * an UPDATE … FROM with a WITH clause, and an INSERT … SELECT. Prints p50/p99 in µs; asserts nothing.
 *
 *   npx tsx bench/writes-plan.ts
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Guard, loadParser } from '../src/guard/index.js';
import { planWrite } from '../src/guard/write/index.js';
import { writeCatalog, writeRequest } from '../test/unit/guard/write/fixtures.js';

export interface PlanBenchRow {
  name: string;
  n: number;
  p50Us: number;
  p99Us: number;
}

const STATEMENTS: Record<string, string> = {
  'update by key': "UPDATE app.orders SET status = 'refunded' WHERE id = 42",
  'update from + with': "WITH r AS (SELECT id FROM app.customers WHERE city = 'Berlin') UPDATE app.orders o SET status = 'paid' FROM r WHERE r.id = o.customer_id AND o.placed_at > '2024-01-01'",
  'insert select': "INSERT INTO app.events (customer_id, kind, at) SELECT id, 'promo', now() FROM app.customers WHERE id <= 5",
};

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function time(name: string, n: number, fn: () => void): PlanBenchRow {
  for (let i = 0; i < Math.min(200, n); i++) fn();
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    s.push((performance.now() - t0) * 1000);
  }
  s.sort((a, b) => a - b);
  return { name, n, p50Us: Math.round(pct(s, 50) * 10) / 10, p99Us: Math.round(pct(s, 99) * 10) / 10 };
}

/** planWrite (verified and unverified) and the cold guard decision with write rules, per statement. */
export async function runBlastRadiusPlanBench(n = 2000): Promise<PlanBenchRow[]> {
  await loadParser();
  const guard = new Guard({ cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
  const catalog = writeCatalog();
  const rows: PlanBenchRow[] = [];
  for (const [label, sql] of Object.entries(STATEMENTS)) {
    const d = guard.decide(writeRequest(sql));
    if (d.decision !== 'allow') throw new Error(`${label}: ${d.reasons.map((r) => r.code).join(', ')}`);
    rows.push(time(`guard.decide (cold, execute) ${label}`, n, () => guard.decide(writeRequest(sql))));
    rows.push(time(`planWrite ${label}`, n, () => planWrite(d, catalog, ['app', 'public'])));
    rows.push(time(`planWrite unverified ${label}`, n, () => planWrite(d, catalog, ['app', 'public'], { verify: false })));
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await runBlastRadiusPlanBench();
  for (const r of rows) console.log(`${r.name.padEnd(52)} p50 ${String(r.p50Us).padStart(7)} µs   p99 ${String(r.p99Us).padStart(7)} µs   (n=${r.n})`);
}
