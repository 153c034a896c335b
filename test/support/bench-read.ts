/**
 * Cost of the hardened read path vs a raw pg.Pool query, for a point lookup.
 * Run: npx tsx test/support/bench-read.ts [iterations]   (starts its own throwaway PostgreSQL;
 * PGWARDEN_TEST_PG_BIN selects the machine's binaries). Prints figures; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { databaseSchema, DEFAULT_LIMITS } from '../../src/config/schema.js';
import { loadCatalog } from '../../src/db/catalog.js';
import { DatabasePool } from '../../src/db/pool.js';
import { seedDemo } from '../../src/demo/embedded.js';
import { modeFromEnv, startPrivateServer } from './cluster.js';

const iterations = Math.min(Number(process.argv[2] ?? 2000), 20_000);

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const total = samples.reduce((a, b) => a + b, 0);
  return `${label.padEnd(34)} p50 ${(at(0.5) * 1000).toFixed(0).padStart(5)} µs  p95 ${(at(0.95) * 1000).toFixed(0).padStart(5)} µs  ${(samples.length / (total / 1000)).toFixed(0).padStart(6)} /s`;
}

async function time(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

const mode = modeFromEnv();
const server = await startPrivateServer({ mode: mode.mode === 'binary' ? 'binary' : 'embedded', ...(mode.binDir !== undefined ? { binDir: mode.binDir } : {}) });
try {
  const seeded = await seedDemo(server.server.adminUrl, 'demo');
  const raw = new pg.Pool({ connectionString: seeded.gatewayUrl, max: 1 });
  const pool = new DatabasePool(databaseSchema.parse({ url: seeded.gatewayUrl, search_path: ['app'], pool: { max: 1 } }));
  const read = (i: number) => ({ sql: `SELECT * FROM customers WHERE id = ${1 + (i % 200)}`, limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] });
  // warm up
  await time(200, (i) => raw.query('SELECT * FROM app.customers WHERE id = $1', [1 + (i % 200)]));
  await time(200, (i) => pool.runRead(read(i)));

  const results = [
    summary('raw pool.query (simple protocol)', await time(iterations, (i) => raw.query(`SELECT * FROM app.customers WHERE id = ${1 + (i % 200)}`))),
    summary('raw pool.query ($1, extended)', await time(iterations, (i) => raw.query('SELECT * FROM app.customers WHERE id = $1', [1 + (i % 200)]))),
    summary('runRead (hardened, cursor)', await time(iterations, (i) => pool.runRead(read(i)))),
    summary('runRead + SET LOCAL ROLE', await time(iterations, (i) => pool.runRead({ ...read(i), role: seeded.readerRole }))),
  ];
  console.log(`PostgreSQL (${server.server.kind}), ${iterations} sequential point lookups, one connection:`);
  for (const line of results) console.log('  ' + line);
  const catalogTimes = await time(10, (i) => loadCatalog(pool, i));
  console.log('  ' + summary('loadCatalog (whole snapshot)', catalogTimes).replace(/\s+\d+ \/s$/, ''));
  await raw.end();
  await pool.end();
} finally {
  await server.dispose();
}
