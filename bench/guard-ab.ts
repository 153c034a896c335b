/**
 * Guard A/B: cold (cache off) and warm Guard.decide of two built checkouts, interleaved call by
 * call in one process, so both see the same machine load (on a shared machine only such ratios
 * mean anything). Prints p50 (p25–p75) per build and the ratio of the p50s; asserts nothing.
 *
 *   npx tsc -p tsconfig.build.json
 *   npx tsx bench/guard-ab.ts <before checkout> [<after checkout>, default .]
 *   BENCH_AB_SRC=1 npx tsx bench/guard-ab.ts <before checkout>   (each checkout's src/ through tsx, as bench/guard.ts runs)
 *
 * Each checkout needs a built dist/ (dist/guard/index.js), or with BENCH_AB_SRC=1 its src/. Both judge the same requests (the
 * fixtures of this checkout: demo catalog and policy, SHORT_QUERY and ANALYTIC_40); the order
 * of the two calls alternates from one pair to the next.
 *
 * The build in the second slot runs slower in such a process whatever it is (two copies of one
 * build: ≈ 1.02–1.03× on the 40-line text, ≈ 1.06–1.07× on the short one, Node 20, 2026-12-07),
 * so the script runs twice, in two child processes, once with before loaded first and in the first
 * slot and once with after there, and prints the ratio with that position effect divided out: the
 * geometric mean of the two runs' after ÷ before (BENCH_AB_ORDER=before-first or after-first runs
 * one order alone).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Guard as GuardClass } from '../src/guard/index.js';
import { guardRequest } from '../test/unit/guard/fixtures/catalog.js';
import { ANALYTIC_40, SHORT_QUERY } from '../test/unit/guard/fixtures/queries.js';

type GuardModule = { Guard: typeof GuardClass; loadParser(): Promise<void> };

async function load(dir: string): Promise<GuardModule> {
  const entry = process.env.BENCH_AB_SRC === '1' ? 'src/guard/index.ts' : 'dist/guard/index.js';
  const m = (await import(pathToFileURL(resolve(dir, entry)).href)) as GuardModule;
  await m.loadParser();
  return m;
}

const OPTS = { maxStatementBytes: 100_000, maxAstNodes: 50_000 };

/** Quartiles (µs) of `n` interleaved calls per guard; `fresh` gives each warm call a new copy of the text. */
function interleaved(guards: GuardClass[], sql: string, n: number, fresh: boolean): [number, number, number][] {
  const base = guardRequest(sql);
  const reqs = fresh ? Array.from({ length: n }, () => ({ ...base, sql: Buffer.from(sql).toString() })) : [];
  for (let w = 0; w < 300; w++) for (const g of guards) g.decide(base);
  const out = guards.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const req = fresh ? reqs[i]! : base;
    for (let k = 0; k < guards.length; k++) {
      const j = i % 2 === 0 ? k : guards.length - 1 - k;
      const t0 = performance.now();
      guards[j]!.decide(req);
      out[j]![i] = performance.now() - t0;
    }
  }
  return out.map((a) => {
    const s = Float64Array.from(a).sort();
    const q = (p: number): number => (s[Math.min(n - 1, Math.floor(n * p))] as number) * 1000;
    return [q(0.5), q(0.25), q(0.75)];
  });
}

async function main(): Promise<void> {
  const dirs = [process.argv[2], process.argv[3] ?? '.'];
  if (dirs[0] === undefined) throw new Error('usage: npx tsx bench/guard-ab.ts <before checkout> [<after checkout>]');
  const order = process.env.BENCH_AB_ORDER;
  if (order === undefined) return bothOrders();
  const afterFirst = order === 'after-first';
  // after-first: the after build is loaded first and takes the first slot of the interleaving
  const mods: GuardModule[] = [];
  for (const d of afterFirst ? [dirs[1], dirs[0]] : dirs) mods.push(await load(d as string));
  const cases: [string, string, number, number | undefined][] = [
    ['cold, 40-line analytic query', ANALYTIC_40, 3000, 0],
    ['cold, short statement', SHORT_QUERY, 9000, 0],
    ['warm hit, 40-line analytic query', ANALYTIC_40, 20_000, undefined],
  ];
  const f = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));
  console.log(`before: ${dirs[0]}  after: ${dirs[1]}  (${process.env.BENCH_AB_SRC === '1' ? 'src/ through tsx' : 'dist/'}; ${afterFirst ? 'after' : 'before'} loaded first and in the first slot; p50 µs, p25–p75)`);
  for (const [name, sql, n, cacheSize] of cases) {
    const guards = mods.map((m) => new m.Guard({ ...OPTS, cacheSize: cacheSize ?? 10_000 }));
    const [first, second] = interleaved(guards, sql, n, cacheSize === undefined) as [[number, number, number], [number, number, number]];
    const [a, b] = afterFirst ? [second, first] : [first, second];
    console.log(`${name.padEnd(34)} before ${f(a[0])} (${f(a[1])}–${f(a[2])})  after ${f(b[0])} (${f(b[1])}–${f(b[2])})  after/before ${(b[0] / a[0]).toFixed(3)}`);
    console.log(`${RESULT}${JSON.stringify({ name, ratio: b[0] / a[0] })}`);
  }
  console.log(`Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

const RESULT = 'guard-ab-result ';

/** Run both load orders in child processes; print their lines and the ratio without the position effect. */
function bothOrders(): void {
  const runs = (['before-first', 'after-first'] as const).map((o) => {
    const out = execFileSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env: { ...process.env, BENCH_AB_ORDER: o }, encoding: 'utf8' });
    const ratios = new Map<string, number>();
    for (const line of out.split('\n')) {
      if (line.startsWith(RESULT)) {
        const r = JSON.parse(line.slice(RESULT.length)) as { name: string; ratio: number };
        ratios.set(r.name, r.ratio);
      } else if (line !== '') console.log(line);
    }
    return ratios;
  });
  console.log('after/before with the position effect divided out (geometric mean of the two orders; position effect = how much slower the build in the second slot ran):');
  for (const [name, r1] of runs[0] as Map<string, number>) {
    const r2 = (runs[1] as Map<string, number>).get(name) as number;
    console.log(`${name.padEnd(34)} after/before ${Math.sqrt(r1 * r2).toFixed(3)}  (position effect ${Math.sqrt(r1 / r2).toFixed(3)})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
