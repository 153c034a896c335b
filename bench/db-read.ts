/**
 * `npx tsx bench/db-read.ts [--pg-bin DIR] [--prof]`: the hardened read path alone (DatabasePool.runRead,
 * no MCP, no HTTP), the peers bench's point lookup, closed loop at 1 and at BENCH_CLIENTS reads in
 * flight. Prints CPU per read of this process (the gateway's side of the database path), reads/s,
 * and how many connections the pool opened in each window. BENCH_UNIX=1 connects over the server's
 * Unix-domain socket instead of TCP on loopback. BENCH_CACHE_AB=1: two pools, the statement cache
 * on and off (src/db/statement-cache.ts), in alternating 1-in-flight windows (BENCH_ROUNDS, default
 * 8): CPU per read of this process and p50 per variant. Figures, not pass/fail.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { databaseSchema, DEFAULT_LIMITS } from '../src/config/schema.js';
import { DatabasePool } from '../src/db/pool.js';
import { startBenchDatabase } from './support.js';

const { values } = parseArgs({ options: { 'pg-bin': { type: 'string' } } });
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);

const db = await startBenchDatabase({ binDir: values['pg-bin'] });
// BENCH_UNIX=1: the same server over its Unix-domain socket instead of TCP on loopback.
const url = new URL(db.seeded.gatewayUrl);
if (process.env.BENCH_UNIX === '1') url.searchParams.set('host', db.server.dataDir);
const config = databaseSchema.parse({ url: url.href, search_path: ['app'], pool: { max: 10 } });
const pool = new DatabasePool(config);
let connects = 0;
(pool as unknown as { pool: { on(e: 'connect', f: () => void): void } }).pool.on('connect', () => (connects += 1));

async function window(lanes: number): Promise<string> {
  const c0 = connects;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  let reads = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < deadline) {
        const id = (next++ % 200) + 1;
        const r = await pool.runRead({ limits: DEFAULT_LIMITS, searchPath: ['app'], sql: `SELECT * FROM app.orders WHERE id = ${id}` });
        if (r.rowCount !== 1) throw new Error(`expected one row for id ${id}`);
        reads += 1;
      }
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return `${lanes} in flight: ${((cpu.user + cpu.system) / reads).toFixed(1)} µs CPU/read, ${((reads * 1000) / ms).toFixed(0)} reads/s, ${connects - c0} connections opened`;
}

async function cacheAb(): Promise<void> {
  const variants = [
    { name: 'statement cache on ', pool, cpu: 0, reads: 0, lat: [] as number[] },
    { name: 'statement cache off', pool: new DatabasePool(config, { statementCache: 0 }), cpu: 0, reads: 0, lat: [] as number[] },
  ];
  const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
  for (let round = -1; round < rounds; round++) {
    for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
      const cpu0 = process.cpuUsage();
      const deadline = performance.now() + SECONDS * 1000;
      let reads = 0;
      const lat: number[] = [];
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const r = await v.pool.runRead({ limits: DEFAULT_LIMITS, searchPath: ['app'], sql: `SELECT * FROM app.orders WHERE id = ${(reads % 200) + 1}` });
        if (r.rowCount !== 1) throw new Error('expected one row');
        lat.push(performance.now() - t0);
        reads += 1;
      }
      if (round < 0) continue; // warm-up
      const cpu = process.cpuUsage(cpu0);
      v.cpu += cpu.user + cpu.system;
      v.reads += reads;
      v.lat.push(...lat);
    }
  }
  for (const v of variants) {
    const sorted = v.lat.sort((a, b) => a - b);
    console.log(`${v.name}: ${(v.cpu / v.reads).toFixed(1)} µs CPU/read, p50 ${((sorted[Math.floor(sorted.length / 2)] ?? 0) * 1000).toFixed(0)} µs, ${v.reads} reads`);
  }
  await variants[1]?.pool.end();
}

try {
  if (process.env.BENCH_CACHE_AB === '1') {
    await cacheAb();
  } else {
    console.log(`warm-up ${await window(1)}`);
    console.log(await window(1));
    console.log(await window(CLIENTS));
    console.log(await window(CLIENTS));
  }
} finally {
  await pool.end();
  await db.stop();
}
