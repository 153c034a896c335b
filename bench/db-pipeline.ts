/**
 * `npx tsx bench/db-pipeline.ts [--pg-bin DIR]`: what each part of the hardened read pipeline costs
 * on PostgreSQL's side (issue #13, stdio one client). One connection, the peers' point lookup, one
 * read at a time, through CappedQuery with different trusted steps around the statement, in
 * alternating windows (the variants share the machine's noise). Prints per variant the backend
 * process's CPU per read (/proc/<pid>/stat of the connection's backend), this process's CPU per
 * read, and the p50 round trip. Figures, not pass/fail.
 *
 * Environment: BENCH_CALLS (reads per window, default 2000), BENCH_ROUNDS (default 6).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DEFAULT_LIMITS } from '../src/config/schema.js';
import { CappedQuery, type TrustedStep } from '../src/db/capped-query.js';
import { readClosingSteps, readHardeningSteps } from '../src/db/read.js';
import { StatementCache } from '../src/db/statement-cache.js';
import { percentile, startBenchDatabase } from './support.js';

const { values } = parseArgs({ options: { 'pg-bin': { type: 'string' } } });
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const TICK_US = 1e6 / 100; // USER_HZ

function backendCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const hardening = readHardeningSteps({ limits: DEFAULT_LIMITS, searchPath: ['app'] });
const [begin, settings] = hardening as [TrustedStep, TrustedStep];
const closing = readClosingSteps();
const variants: { name: string; before: readonly TrustedStep[]; after: readonly TrustedStep[]; named?: boolean; cached?: boolean }[] = [
  { name: 'statement alone', before: [], after: [] },
  { name: '+ BEGIN READ ONLY, ROLLBACK', before: [begin], after: closing },
  { name: '+ settings (unnamed, before s9)', before: hardening, after: closing },
  // As served since session 9: the same pipeline with the statement from the connection's cache (src/db/statement-cache.ts).
  { name: '+ settings, statement cache (now)', before: hardening, after: closing, cached: true },
  { name: 'settings without BEGIN/ROLLBACK', before: [settings], after: [] },
  // What a driver with a statement cache (pgx's default mode, Toolbox's) sends for a text it has
  // seen: Bind/Execute of a named statement, no parse or plan (pg's own named queries; no hardening).
  { name: 'statement alone, prepared per text', before: [], after: [], named: true },
];

const db = await startBenchDatabase({ binDir: values['pg-bin'] });
const client = new pg.Client({ connectionString: db.seeded.gatewayUrl });
await client.connect();
const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const cache = new StatementCache(256);
const OWNER = { searchPath: ['app'] };
const totals = variants.map(() => ({ backend: 0, self: 0, reads: 0, lat: [] as number[] }));

async function window(v: number, calls: number, record: boolean): Promise<void> {
  const { before, after, named, cached } = variants[v]!;
  const b0 = backendCpuUs(pid);
  const c0 = process.cpuUsage();
  const lat: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const id = (i % 200) + 1;
    const text = `SELECT * FROM app.orders WHERE id = ${id}`;
    let rows: number;
    if (named === true) {
      rows = (await client.query({ name: `q${id}`, text, rowMode: 'array' })).rows.length;
    } else {
      const use = cached === true ? cache.use(OWNER, text) : undefined;
      const q = new CappedQuery(text, undefined, 101, { before, after, ...(use !== undefined ? { statement: use } : {}) });
      client.query(q as unknown as pg.QueryConfig);
      rows = (await q.done).rows.length;
      if (use !== undefined) cache.settle(use, true);
    }
    if (rows !== 1) throw new Error('expected one row');
    lat.push(performance.now() - t0);
  }
  if (!record) return;
  const c = process.cpuUsage(c0);
  const t = totals[v]!;
  t.backend += backendCpuUs(pid) - b0;
  t.self += c.user + c.system;
  t.reads += calls;
  t.lat.push(...lat);
}

try {
  for (let v = 0; v < variants.length; v++) await window(v, 500, false);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < variants.length; k++) await window((k + round) % variants.length, CALLS, true);
  }
  console.log(`PostgreSQL ${db.version}, ${ROUNDS} rounds × ${CALLS} reads per variant, one connection, one read at a time`);
  for (let v = 0; v < variants.length; v++) {
    const t = totals[v]!;
    const sorted = Float64Array.from(t.lat).sort();
    console.log(
      `${variants[v]!.name.padEnd(34)} backend ${(t.backend / t.reads).toFixed(1).padStart(6)} µs/read  client ${(t.self / t.reads).toFixed(1).padStart(6)} µs/read  p50 ${(percentile(sorted, 50) * 1000).toFixed(0)} µs`,
    );
  }
} finally {
  await client.end();
  await db.stop();
}
