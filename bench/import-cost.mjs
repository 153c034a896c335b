/**
 * What each import costs a fresh process (issue #13, start-up): imports the packages and the built
 * modules (dist/) in the order `pgwarden serve` needs them and prints each step's marginal CPU and
 * wall time, the median over BENCH_ROUNDS fresh processes (default 5). Run with plain node after a
 * build (tsx would add its own loader): `node bench/import-cost.mjs [specifier…]`. Prints figures;
 * asserts nothing. This is tsc's module tree (dist/ without dist/cli); the command as shipped is the
 * production bundle in dist/cli (scripts/build-bundle.mjs), measured by `npm run bench:startup`.
 */
/* global console, performance, URL */
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const DEFAULT_STEPS = [
  'zod', 'yaml', 'pino', 'pg', 'pg-cursor', '@modelcontextprotocol/server', '@modelcontextprotocol/server/stdio', 'libpg-query', 'pgsql-deparser',
  'config/index.js', 'guard/index.js', 'mask/index.js', 'audit/index.js', 'db/pool.js', 'db/writes/index.js', 'telemetry/index.js',
  'core/gateway.js', 'mcp/server.js', 'judge/pool.js', 'app/runtime.js', 'http/index.js',
];

if (process.argv[2] === '--child') {
  const out = [];
  for (const step of process.argv.slice(3)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await import(step.endsWith('.js') ? pathToFileURL(DIST + step).href : step);
    const c = process.cpuUsage(c0);
    out.push([(c.user + c.system) / 1000, performance.now() - t0]);
  }
  process.stdout.write(JSON.stringify(out));
} else {
  const steps = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_STEPS;
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const runs = [];
  for (let i = 0; i < rounds; i++) runs.push(JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', ...steps], { encoding: 'utf8' })));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  let cpu = 0;
  console.log(`| import (in this order) | CPU ms | wall ms |\n|---|--:|--:|`);
  steps.forEach((step, i) => {
    const c = median(runs.map((r) => r[i][0]));
    cpu += c;
    console.log(`| ${step} | ${c.toFixed(0)} | ${median(runs.map((r) => r[i][1])).toFixed(0)} |`);
  });
  console.log(`| total | ${cpu.toFixed(0)} | |`);
}
