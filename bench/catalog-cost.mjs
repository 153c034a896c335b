/**
 * What the catalog snapshot costs a fresh process (issue #13, start-up): connects to
 * DATABASE_URL with the built pool (dist/), then loads the snapshot BENCH_ROUNDS times (default 4)
 * and prints each load's wall time, the process's CPU (all threads) and the digest's time; the
 * first load is the cold one a start pays. `node bench/catalog-cost.mjs [built checkout]` after a
 * build; plain node. Prints figures; asserts nothing.
 */
/* global console, performance, URL */
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const root = pathToFileURL(`${process.argv[2] ?? new URL('..', import.meta.url).pathname}/`).href;
const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL');
const { loadConfig } = await import(new URL('dist/config/index.js', root).href);
const { DatabasePool } = await import(new URL('dist/db/pool.js', root).href);
const catalog = await import(new URL('dist/db/catalog.js', root).href);
const config = await loadConfig({ env: { DATABASE_URL: url, PGWARDEN_TRANSPORT: 'stdio' } });
const pool = new DatabasePool(Object.values(config.databases)[0], { name: 'main' });
await pool.withTrustedRead(async (c) => c.query('SELECT 1')); // connected: only the snapshot is timed
const ms = (n) => n.toFixed(1).padStart(6);
for (let i = 0; i < Number(process.env.BENCH_ROUNDS ?? 4); i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const snapshot = await catalog.loadCatalog(pool, 1);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const d0 = performance.now();
  const digest = catalog.catalogDigest(snapshot);
  const functions = [...snapshot.functions.values()].reduce((n, l) => n + l.length, 0);
  console.log(`load ${i + 1}: ${ms(wall)} ms wall ${ms((c.user + c.system) / 1000)} ms CPU, digest ${ms(performance.now() - d0)} ms ${digest.slice(0, 12)} (${snapshot.relations.size} relations, ${functions} functions)`);
}
await pool.end();
