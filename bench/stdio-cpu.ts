/**
 * The stdio fast path's own CPU per call, several builds in ONE process (issue #13): each build's
 * dist/ is imported side by side (its own runtime, audit file and pool on one throwaway
 * PostgreSQL), driven through its FastStdioTransport over in-memory streams (no pipe syscalls,
 * no second process), in alternating windows, so the machine's noise falls on every build alike.
 * What it measures is the JavaScript and database-socket work of a call (guard, core, db, audit,
 * the transport), the part a change in src/ moves; the pipe write stays out.
 *
 *   npx tsx bench/stdio-cpu.ts [dir …]        (default: this checkout; each dir has dist/)
 *
 * Environment: BENCH_CALLS (per window, default 2000), BENCH_ROUNDS (default 8). Prints per build
 * the process CPU (process.cpuUsage: all threads) per call over all windows and the median window,
 * and the p50 latency. Prints figures; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type * as ConfigModule from '../src/config/index.js';
import type * as LoggerModule from '../src/log/logger.js';
import type * as DatabasesModule from '../src/app/databases.js';
import type * as RuntimeModule from '../src/app/runtime.js';
import type * as BudgetModule from '../src/shared/budget.js';
import type * as StdioModule from '../src/mcp/stdio.js';
import type * as ToolCallModule from '../src/mcp/tool-call.js';
import { percentile, startBenchDatabase, writeBenchConfig } from './support.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [resolve(import.meta.dirname, '..')];

interface Served {
  root: string;
  /** Send one line; resolves with the next answer line. */
  call(line: string): Promise<string>;
  close(): Promise<void>;
}

async function serve(root: string, cfgPath: string, auditDir: string): Promise<Served> {
  const dist = (p: string): string => pathToFileURL(join(resolve(root), 'dist', p)).href;
  const { loadConfig } = (await import(dist('config/index.js'))) as typeof ConfigModule;
  const { createLogger } = (await import(dist('log/logger.js'))) as typeof LoggerModule;
  const { openDatabases, warmCatalogs } = (await import(dist('app/databases.js'))) as typeof DatabasesModule;
  const { createRuntime } = (await import(dist('app/runtime.js'))) as typeof RuntimeModule;
  const { resultBudget } = (await import(dist('shared/budget.js'))) as typeof BudgetModule;
  const { FastStdioTransport } = (await import(dist('mcp/stdio.js'))) as typeof StdioModule;
  const { directToolCaller } = (await import(dist('mcp/tool-call.js'))) as typeof ToolCallModule;
  const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
  const config = await loadConfig({ path: cfgPath, env: {} as NodeJS.ProcessEnv, overrides: { server: { transport: 'stdio' } } });
  config.audit.path = join(auditDir, `audit-${Math.random().toString(36).slice(2)}.ndjson`);
  const logger = createLogger('warn');
  const databases = openDatabases(config, logger);
  warmCatalogs(databases);
  const runtime = await createRuntime(config, logger, { databases });
  resultBudget.configure({ capacity: config.server.result_budget_bytes, waitMs: config.server.result_budget_wait_ms });
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const transport = new FastStdioTransport({ principal: 'bench', toolCall: directToolCaller(runtime.gateway), stdin, stdout });
  const handle = serveStdio(runtime.stdioFactory('bench'), { transport });
  let waiting: ((line: string) => void) | undefined;
  let buf = '';
  stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting;
      waiting = undefined;
      w?.(line);
    }
  });
  const call = (line: string): Promise<string> =>
    new Promise((r) => {
      waiting = r;
      stdin.write(line);
    });
  await call(`${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cpu', version: '0' } } })}\n`);
  stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return {
    root,
    call,
    close: async () => {
      stdin.end();
      await runtime.gateway.shutdown(1000);
      await handle.close().catch(() => undefined);
    },
  };
}

let nextId = 1;
async function window(s: Served, calls: number): Promise<{ cpuUs: number; lat: number[] }> {
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const id = nextId++;
    const line = `${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query', arguments: { sql: `SELECT * FROM app.orders WHERE id = ${(id % 200) + 1}` } } })}\n`;
    const t = performance.now();
    const answer = await s.call(line);
    lat.push(performance.now() - t);
    if (!answer.includes('"rowCount":1') || answer.includes('"isError":true')) throw new Error(`unexpected answer: ${answer.slice(0, 300)}`);
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: cpu.user + cpu.system, lat };
}

async function main(): Promise<void> {
  const db = await startBenchDatabase({ binDir: '/usr/lib/postgresql/15/bin' });
  const dir = mkdtempSync(join(tmpdir(), 'pgw-scpu-'));
  const cfg = writeBenchConfig(dir, new URL(db.seeded.databaseUrl).href);
  const served: Served[] = [];
  try {
    for (const root of roots) {
      const s = await serve(root, cfg, dir);
      served.push(s);
      await window(s, CALLS); // warm
    }
    const acc = new Map<string, { calls: number; cpu: number; perWindow: number[]; p50: number[] }>();
    for (let it = 0; it < ROUNDS; it++) {
      for (const s of it % 2 === 0 ? served : [...served].reverse()) {
        const w = await window(s, CALLS);
        w.lat.sort((a, b) => a - b);
        const a = acc.get(s.root) ?? { calls: 0, cpu: 0, perWindow: [], p50: [] };
        a.calls += CALLS;
        a.cpu += w.cpuUs;
        a.perWindow.push(w.cpuUs / CALLS);
        a.p50.push(percentile(w.lat, 50));
        acc.set(s.root, a);
      }
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    for (const [root, a] of acc) {
      console.log(`${root}\tcalls ${a.calls}\tCPU/call ${(a.cpu / a.calls).toFixed(1)} µs (median window ${med(a.perWindow).toFixed(1)}; windows ${a.perWindow.map((x) => x.toFixed(0)).join(' ')})\tp50 median ${(med(a.p50) * 1000).toFixed(0)} µs`);
    }
  } finally {
    for (const s of served) await s.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await db.stop();
  }
}

await main();
