/**
 * Guard benchmark: warm (decision-cache hit) and cold (parse + walk + decide) latency of
 * Guard.decide for a short statement and a ~40-line analytic query over the demo schema, plus
 * the statement identity (fingerprint + normalize) that decide leaves to its first reader (the
 * audit writer), and a reference row for the previous cache index (a Map keyed by the text).
 * Prints p50/p99; asserts nothing.
 *
 *   npx tsx bench/guard.ts            (also part of `npm run bench` via runGuardBench())
 *
 * Warm hits use a fresh copy of the SQL string per call (as a request parsed from JSON would be),
 * made ahead of the timed loop, so the figures include finding the text in the cache without a
 * hash V8 has cached, from memory that is not in the CPU cache.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { contextKey } from '../src/guard/cache.js';
import { Guard, loadParser } from '../src/guard/index.js';
import type { Decision, GuardRequest } from '../src/guard/types.js';
import { guardRequest } from '../test/unit/guard/fixtures/catalog.js';
import { ANALYTIC_40, SHORT_QUERY } from '../test/unit/guard/fixtures/queries.js';

export interface Row {
  name: string;
  n: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  /** The target this figure is judged against (p50, µs), when there is one. */
  targetP50Us?: number;
  targetP99Us?: number;
}

function percentile(sorted: Float64Array, p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

function summarize(name: string, samplesMs: Float64Array, targets: Partial<Row> = {}): Row {
  const sorted = Float64Array.from(samplesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    name,
    n: sorted.length,
    p50Us: percentile(sorted, 50) * 1000,
    p99Us: percentile(sorted, 99) * 1000,
    meanUs: (sum / sorted.length) * 1000,
    ...targets,
  };
}

/** Fresh, flat copies of a string (no cached hash), like strings parsed from a request body. */
function freshCopies(s: string, n: number): string[] {
  const buf = Buffer.from(s, 'utf8');
  return Array.from({ length: n }, () => buf.toString('utf8'));
}

function timeWarm(guard: Guard, sql: string, n: number): Float64Array {
  const base = guardRequest(sql);
  guard.decide(base); // fill the cache
  const reqs: GuardRequest[] = freshCopies(sql, n).map((s) => ({ ...base, sql: s }));
  for (let i = 0; i < Math.min(2000, n); i++) guard.decide(reqs[i] as GuardRequest); // JIT warm-up (hashes now cached for these)
  const fresh: GuardRequest[] = freshCopies(sql, n).map((s) => ({ ...base, sql: s }));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = fresh[i] as GuardRequest;
    const t0 = performance.now();
    guard.decide(r);
    out[i] = performance.now() - t0;
  }
  return out;
}

/**
 * The previous cache index, for a side-by-side reference: per context a Map keyed by the SQL text
 * (V8 hashes the whole fresh string), recency refreshed by delete + set.
 */
class TextKeyedReference {
  private readonly contexts = new Map<string, Map<string, Decision>>();
  get(ctx: string, sql: string): Decision | undefined {
    const inner = this.contexts.get(ctx);
    if (inner === undefined) return undefined;
    const hit = inner.get(sql);
    if (hit !== undefined) {
      inner.delete(sql);
      inner.set(sql, hit);
    }
    return hit;
  }
  set(ctx: string, sql: string, value: Decision): void {
    let inner = this.contexts.get(ctx);
    if (inner === undefined) this.contexts.set(ctx, (inner = new Map()));
    inner.set(sql, value);
  }
}

function timeWarmReference(guard: Guard, sql: string, n: number): Float64Array {
  const base = guardRequest(sql);
  const ref = new TextKeyedReference();
  ref.set(contextKey(base), sql, guard.decide(base));
  const lookup = (r: GuardRequest): void => {
    if (ref.get(contextKey(r), r.sql) === undefined) throw new Error('reference cache missed');
  };
  for (const r of freshCopies(sql, Math.min(2000, n)).map((s) => ({ ...base, sql: s }))) lookup(r);
  const fresh: GuardRequest[] = freshCopies(sql, n).map((s) => ({ ...base, sql: s }));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = fresh[i] as GuardRequest;
    const t0 = performance.now();
    lookup(r);
    out[i] = performance.now() - t0;
  }
  return out;
}

/**
 * Cold decisions (cache off). With `identity`, each decision's fingerprint and normalized text are
 * read too, right after decide: the work decide did itself before they became lazy (the audit
 * writer does it now, off the response path).
 */
function timeCold(sql: string, n: number, opts: ConstructorParameters<typeof Guard>[0], identity = false): Float64Array {
  const guard = new Guard({ ...opts, cacheSize: 0 });
  const req = guardRequest(sql);
  let sink = 0;
  const once = (): void => {
    const d = guard.decide(req);
    if (identity) sink += d.fingerprint.length + d.normalized.length;
  };
  for (let i = 0; i < Math.min(200, n); i++) once(); // warm-up
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    once();
    out[i] = performance.now() - t0;
  }
  if (sink < 0) console.log(sink);
  return out;
}

function fmt(n: number): string {
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0);
}

export async function runGuardBench(print: (line: string) => void = (l) => console.log(l)): Promise<Row[]> {
  await loadParser();
  const opts = { cacheSize: 10_000, maxStatementBytes: 100_000, maxAstNodes: 50_000 };
  const guard = new Guard(opts);
  const rows: Row[] = [
    summarize('warm hit, short statement', timeWarm(guard, SHORT_QUERY, 50_000), { targetP50Us: 1.5, targetP99Us: 5 }),
    summarize('warm hit, 40-line analytic query', timeWarm(guard, ANALYTIC_40, 10_000), { targetP50Us: 1.5, targetP99Us: 5 }),
    summarize('  reference: text-keyed Map lookup (old index)', timeWarmReference(guard, ANALYTIC_40, 10_000)),
    summarize('cold, short statement', timeCold(SHORT_QUERY, 5_000, opts), { targetP50Us: 40 }),
    summarize('cold, 40-line analytic query', timeCold(ANALYTIC_40, 1_000, opts), { targetP50Us: 400 }),
    summarize('  + fingerprint + normalize, short (audit writer)', timeCold(SHORT_QUERY, 5_000, opts, true)),
    summarize('  + fingerprint + normalize, 40-line (audit writer)', timeCold(ANALYTIC_40, 1_000, opts, true)),
  ];
  const header = ['case', 'n', 'p50 µs', 'p99 µs', 'mean µs', 'target'];
  const table = rows.map((r) => [
    r.name,
    String(r.n),
    fmt(r.p50Us),
    fmt(r.p99Us),
    fmt(r.meanUs),
    r.targetP50Us === undefined ? '' : `p50 ≤ ${r.targetP50Us}${r.targetP99Us === undefined ? '' : `, p99 ≤ ${r.targetP99Us}`}` + (r.p50Us <= r.targetP50Us && (r.targetP99Us === undefined || r.p99Us <= r.targetP99Us) ? ' ok' : ' MISSED'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  print(line(header));
  for (const row of table) print(line(row));
  print(
    `(cold = parse + walk + decide; "+ fingerprint + normalize" rows add reading the decision's lazy identity, as the audit writer ` +
      `does off the response path (decide itself did this before); Node ${process.version}, ANALYTIC_40 is ${ANALYTIC_40.split('\n').length} lines)`,
  );
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runGuardBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
