/**
 * The servers under test, built in-process:
 * - pgwarden: the real runtime (createRuntime + startHttp), one principal, read-only on schema
 *   app, rate limits raised out of the way, audit to a temporary file (the real default sink)
 *   or disabled (sink none) to show the audit's cost;
 * - baseline: the same HTTP layer (buildHttpApp: host check, rate limits, bearer auth, the SDK's
 *   createMcpHandler with a per-request McpServer and the shared JSON-schema validator) serving
 *   one bare tool `query` that runs pool.query(sql) directly — so the only difference is
 *   pgwarden's guard, hardened read path and audit.
 *
 * Both record per-stage timings (a few performance.now() calls per request) into a
 * StageRecorder, so every scenario can say where its time went.
 *
 * pgwarden's modules are imported lazily: the baseline and raw-pg parts work even when the
 * runtime cannot be built yet (e.g. the guard is missing).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { McpServer, type CallToolResult, type McpServerFactory } from '@modelcontextprotocol/server';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { parseConfig, type Config } from '../src/config/index.js';
import type { createRuntime as CreateRuntime } from '../src/app/runtime.js';
import type { startHttp as StartHttp } from '../src/cli/serve.js';
import { TokenStore } from '../src/auth/tokens.js';
import { buildHttpApp, startHttpServer } from '../src/http/index.js';
import { sharedJsonSchemaValidator } from '../src/mcp/validator.js';
import type { GatewayDeps } from '../src/core/gateway.js';
import type { DatabasePort, ReadRequest } from '../src/core/ports.js';
import type { GuardRequest } from '../src/guard/types.js';
import { pointLookup } from './support.js';

/** A bench-only bearer token (≥ 32 characters), generated per run. */
export const BENCH_TOKEN = `pgw_bench_${randomBytes(24).toString('base64url')}`;
export const BENCH_DATABASE = 'bench';

// ------------------------------------------------------------------------------------------
// Stage timings

export interface StageFigure {
  stage: string;
  count: number;
  meanUs: number;
  p50Us: number;
}

/** Per-stage durations; reset at the start of a measured window, read at its end. */
export class StageRecorder {
  private readonly samples = new Map<string, number[]>();
  /** BENCH_STAGES=0 disables the timers (the wrappers return the functions unchanged), to check their overhead. */
  readonly enabled = process.env.BENCH_STAGES !== '0';

  add(stage: string, ms: number): void {
    const list = this.samples.get(stage);
    if (list === undefined) this.samples.set(stage, [ms]);
    else if (list.length < 1_000_000) list.push(ms);
  }

  reset(): void {
    this.samples.clear();
  }

  snapshot(): StageFigure[] {
    return [...this.samples].map(([stage, list]) => {
      const sorted = Float64Array.from(list).sort();
      const sum = list.reduce((a, b) => a + b, 0);
      return { stage, count: list.length, meanUs: (sum * 1000) / list.length, p50Us: (sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN) * 1000 };
    });
  }

  timeSync<A extends unknown[], R>(stage: string, fn: (...args: A) => R): (...args: A) => R {
    if (!this.enabled) return fn;
    return (...args: A): R => {
      const t0 = performance.now();
      try {
        return fn(...args);
      } finally {
        this.add(stage, performance.now() - t0);
      }
    };
  }

  timeAsync<A extends unknown[], R>(stage: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    if (!this.enabled) return fn;
    return async (...args: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await fn(...args);
      } finally {
        this.add(stage, performance.now() - t0);
      }
    };
  }
}

// ------------------------------------------------------------------------------------------
// Configuration

export interface BenchConfigOptions {
  databaseUrl: string;
  audit: { sink: 'file'; path: string } | { sink: 'none' };
  poolMax: number;
  logLevel: string;
  /** Tracing on: export OTLP to this endpoint (a local sink in the bench). */
  otlpEndpoint?: string;
}

export function benchConfigInput(o: BenchConfigOptions): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 1_000_000_000, per_ip: 1_000_000_000 } },
    log: { level: o.logLevel },
    // The real defaults otherwise (file sink: fsync every 1 s, fail-closed).
    audit: o.audit,
    databases: { [BENCH_DATABASE]: { url: o.databaseUrl, search_path: ['app'], pool: { max: o.poolMax } } },
    principals: { bench: { policy: 'reader', tokens: [{ id: 'bench', token: BENCH_TOKEN }] } },
    policies: { reader: { databases: { [BENCH_DATABASE]: { mode: 'read-only', schemas: ['app'] } } } },
    ...(o.otlpEndpoint !== undefined ? { telemetry: { otlp_endpoint: o.otlpEndpoint } } : {}),
  };
}

export function benchConfig(o: BenchConfigOptions): Config {
  return parseConfig(benchConfigInput(o), { source: 'bench configuration' });
}

/** Logs go where the process would send them, but to /dev/null: their cost stays, the noise does not. */
export function benchLogger(level: string): Logger {
  return pino({ level, base: { service: 'pgwarden' } }, pino.destination({ dest: '/dev/null', sync: false }));
}

// ------------------------------------------------------------------------------------------
// Servers under test

/** One server-side piece, callable alone (sequential, in-process) to time it without HTTP or clients. */
export interface Component {
  name: string;
  kind: 'sync' | 'async';
  /** `i` varies the literal; the returned value is ignored. */
  run(i: number): unknown;
}

export interface ServerUnderTest {
  name: string;
  mcpUrl: string;
  token: string;
  stages: StageRecorder;
  /** The server's pieces, built from requests captured during the scenarios (empty before the first call). */
  components(): Component[];
  stop(): Promise<void>;
}

/** What the MCP factory receives for an authenticated HTTP request (see src/http/context.ts). */
function fakeFactoryContext(): Parameters<McpServerFactory>[0] {
  const extra = { principal: 'bench', tokenId: 'bench', requestId: 'bench-req', signal: new AbortController().signal, clientAddress: '127.0.0.1' };
  return { authInfo: { token: 'bench', clientId: 'bench', scopes: [], extra } } as unknown as Parameters<McpServerFactory>[0];
}

/** The baseline: same HTTP layer and SDK, one bare `query` tool over pool.query. */
export async function startBaseline(options: { config: Config; databaseUrl: string; logger: Logger }): Promise<ServerUnderTest> {
  const { config } = options;
  const stages = new StageRecorder();
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: config.databases[BENCH_DATABASE]?.pool.max ?? 10 });
  pool.on('error', () => undefined);
  const runQuery = stages.timeAsync('tool: pool.query', (sql: string) => pool.query({ text: sql, rowMode: 'array' }));
  const handle = stages.timeAsync('tool handler (total)', async (sql: string): Promise<CallToolResult> => {
    const r = await runQuery(sql);
    const payload = {
      columns: r.fields.map((f) => ({ name: f.name, type: f.dataTypeID })),
      rows: r.rows as unknown[][],
      rowCount: r.rows.length,
      truncated: false,
    };
    return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
  });
  const factory: McpServerFactory = stages.timeSync('mcp server construction', () => {
    const server = new McpServer({ name: 'baseline', version: '0.0.0' }, { capabilities: { tools: {} }, jsonSchemaValidator: sharedJsonSchemaValidator });
    server.registerTool(
      'query',
      {
        title: 'Run one SQL statement',
        description: 'Run one SQL statement and get rows back.',
        inputSchema: z.object({ sql: z.string().describe('One PostgreSQL statement.') }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      },
      async ({ sql }) => handle(sql),
    );
    return server;
  });
  const app = await buildHttpApp({
    server: config.server,
    authenticator: TokenStore.fromConfig(config),
    mcpFactory: factory,
    readiness: async () => true,
    logger: options.logger,
  });
  const http = await startHttpServer(app, config.server);
  const components = (): Component[] => [
    { name: 'MCP server build (baseline: 1 tool)', kind: 'sync', run: () => factory(fakeFactoryContext()) },
    { name: 'pool.query (baseline tool)', kind: 'async', run: (i) => pool.query({ text: pointLookup((i % 200) + 1), rowMode: 'array' }) },
  ];
  return {
    name: 'baseline',
    mcpUrl: `${http.url}/mcp`,
    token: BENCH_TOKEN,
    stages,
    components,
    stop: async () => {
      await http.stop();
      await pool.end();
    },
  };
}

/** Wrap the runtime's stages with timers (bench-only; private fields reached through a cast). Returns its components. */
function instrument(runtime: { gateway: object; httpFactory: McpServerFactory }, stages: StageRecorder): () => Component[] {
  const gateway = runtime.gateway as { query: (...args: never[]) => Promise<unknown> } & { deps?: GatewayDeps; p?: { deps: GatewayDeps } };
  gateway.query = stages.timeAsync('gateway.query (core total)', gateway.query.bind(gateway));
  // since the gateway split (src/core/call/plumbing.ts) the deps live on the call plumbing; older checkouts keep them on the gateway
  const deps = gateway.p?.deps ?? gateway.deps;
  if (deps === undefined) throw new Error('bench: the gateway exposes no deps (neither .p.deps nor .deps)');
  const guard = deps.guard;
  const decide = guard.decide.bind(guard);
  let guardRequest: GuardRequest | undefined;
  const timedDecide = stages.timeSync('guard.decide', decide);
  guard.decide = (req) => {
    guardRequest ??= req;
    return timedDecide(req);
  };
  const audit = deps.audit;
  audit.record = stages.timeSync('audit.record (enqueue)', audit.record.bind(audit));
  let readRequest: ReadRequest | undefined;
  let runRead: DatabasePort['runRead'] | undefined;
  for (const db of deps.databases.values()) {
    const original = db.runRead.bind(db);
    runRead ??= original;
    const timed = stages.timeAsync('db.runRead (hardened read)', original);
    db.runRead = (req) => {
      readRequest ??= req;
      return timed(req);
    };
    // The pool checkout inside runRead (a private method of DatabasePool): time spent waiting for a connection.
    const pool = (db as { pool?: { checkout?: (signal: AbortSignal) => Promise<unknown> } }).pool;
    if (pool?.checkout !== undefined) pool.checkout = stages.timeAsync('db pool checkout (wait)', pool.checkout.bind(pool));
    db.catalog = stages.timeAsync('db.catalog (snapshot)', db.catalog.bind(db));
  }
  const factory = runtime.httpFactory;
  runtime.httpFactory = stages.timeSync('mcp server construction', factory);

  return () => {
    const list: Component[] = [{ name: 'MCP server build (pgwarden: 5 tools)', kind: 'sync', run: () => factory(fakeFactoryContext()) }];
    const g = guardRequest;
    if (g !== undefined) {
      list.push({ name: 'guard.decide, cache hit (ids 1..200)', kind: 'sync', run: (i) => decide({ ...g, sql: pointLookup((i % 200) + 1) }) });
      let fresh = 0;
      list.push({ name: 'guard.decide, cache miss (new literal)', kind: 'sync', run: () => decide({ ...g, sql: pointLookup(5_000_000 + fresh++) }) });
    }
    const r = readRequest;
    const read = runRead;
    if (r !== undefined && read !== undefined) {
      const { signal: _signal, ...rest } = r;
      list.push({ name: 'DatabasePool.runRead (pgwarden read path)', kind: 'async', run: (i) => read({ ...rest, sql: pointLookup((i % 200) + 1) }) });
    }
    return list;
  };
}

/**
 * pgwarden itself: createRuntime + startHttp, as `pgwarden serve` does. With `root`, the runtime of
 * another checkout of pgwarden (a directory with src/, e.g. an older commit unpacked with
 * `git archive`), configured by its own config parser: a reference row for before/after
 * comparisons interleaved in one run (BENCH_REF).
 */
export async function startPgwarden(options: {
  name: string;
  audit: 'file' | 'none';
  databaseUrl: string;
  poolMax: number;
  logLevel: string;
  otlpEndpoint?: string;
  root?: string;
}): Promise<ServerUnderTest> {
  const src = options.root === undefined ? new URL('../src/', import.meta.url) : pathToFileURL(join(resolve(options.root), 'src') + '/');
  const [{ createRuntime }, { startHttp }, { parseConfig: parse }] = (await Promise.all([
    // the composition root moved from core/wiring.ts to app/runtime.ts; older checkouts keep the old path
    import(new URL(existsSync(new URL('app/runtime.ts', src)) ? 'app/runtime.ts' : 'core/wiring.ts', src).href),
    import(new URL('cli/serve.ts', src).href),
    import(new URL('config/index.ts', src).href),
  ])) as [{ createRuntime: typeof CreateRuntime }, { startHttp: typeof StartHttp }, { parseConfig: typeof parseConfig }];
  const dir = await mkdtemp(join(tmpdir(), 'pgwarden-bench-audit-'));
  const input = benchConfigInput({
    databaseUrl: options.databaseUrl,
    audit: options.audit === 'file' ? { sink: 'file', path: join(dir, 'audit.ndjson') } : { sink: 'none' },
    poolMax: options.poolMax,
    logLevel: options.logLevel,
    ...(options.otlpEndpoint !== undefined ? { otlpEndpoint: options.otlpEndpoint } : {}),
  });
  const config = parse(input, { source: 'bench configuration' });
  const logger = benchLogger(options.logLevel);
  const stages = new StageRecorder();
  const runtime = await createRuntime(config, logger);
  const components = instrument(runtime, stages);
  const running = await startHttp(runtime, config, logger);
  return {
    name: options.name,
    mcpUrl: `${running.url}/mcp`,
    token: BENCH_TOKEN,
    stages,
    components,
    stop: async () => {
      await running.stop('bench');
      await runtime.telemetry.shutdown().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An OTLP/HTTP receiver on loopback that accepts and discards exports (tracing-on rows). */
export async function startOtlpSink(): Promise<{ endpoint: string; received: () => number; stop: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  let received = 0;
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      received += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received: () => received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
