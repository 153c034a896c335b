/**
 * The load generator: a child process (forked by bench/run.ts) that drives closed-loop clients,
 * so the servers under test keep their own event loop and the clients' CPU is accounted apart.
 *
 * Jobs: `mcp` — N real MCP clients (@modelcontextprotocol/client over Streamable HTTP, 2025 era or
 * the 2026-07-28 era) calling tool `query`; `raw` — N loops of pool.query on a pg.Pool (the floor).
 * Each client issues one call at a time until the deadline; calls that start after the warm-up
 * and finish before the deadline are measured. Bounded by the job's durations; loopback only.
 */
import { performance } from 'node:perf_hooks';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import pg from 'pg';
import { pointLookup, summarize, type LatencySummary } from './support.js';

export type Era = 'legacy' | 'modern';

interface JobBase {
  clients: number;
  warmupMs: number;
  measureMs: number;
  /** Cycle the literal id through 1..ids. */
  ids: number;
  /** A fresh literal per call (ids beyond the table, 0 rows): every statement text is new. */
  unique?: boolean;
}

export type LoadJob =
  | (JobBase & { kind: 'mcp'; url: string; token: string; era: Era })
  | (JobBase & { kind: 'raw'; dsn: string; poolMax: number });

export interface LoadResult {
  summary: LatencySummary;
  windowMs: number;
  /** CPU time of this (client) process during the measured window, per measured call. */
  clientCpuUsPerCall: number;
  firstError?: string;
}

export type ToChild = { type: 'run'; job: LoadJob } | { type: 'exit' };
/** measuring: the warm-up is over; measured: the loops are done, connections still open (sample CPU now). */
export type FromChild = { type: 'measuring' } | { type: 'measured' } | { type: 'done'; result: LoadResult } | { type: 'failed'; message: string };

type Call = (sql: string, expectRows: number | undefined) => Promise<string | undefined>;

interface Driver {
  calls: Call[];
  close(): Promise<void>;
}

async function mcpDriver(job: Extract<LoadJob, { kind: 'mcp' }>): Promise<Driver> {
  const clients: Client[] = [];
  try {
    for (let i = 0; i < job.clients; i++) {
      const client = new Client({ name: 'pgwarden-bench', version: '0.0.0' }, job.era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
      await client.connect(new StreamableHTTPClientTransport(new URL(job.url), { requestInit: { headers: { authorization: `Bearer ${job.token}` } } }));
      clients.push(client);
    }
  } catch (err) {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    throw err;
  }
  const calls = clients.map((client): Call => async (sql, expectRows) => {
    const res = (await client.callTool({ name: 'query', arguments: { sql } })) as {
      isError?: boolean;
      structuredContent?: { rows?: unknown[] };
      content?: { type: string; text?: string }[];
    };
    if (res.isError === true) return `tool error: ${(res.content?.[0]?.text ?? '').slice(0, 300)}`;
    const rows = res.structuredContent?.rows;
    if (!Array.isArray(rows)) return 'no rows in structuredContent';
    if (expectRows !== undefined && rows.length !== expectRows) return `expected ${expectRows} row(s), got ${rows.length}`;
    return undefined;
  });
  return { calls, close: async () => void (await Promise.all(clients.map((c) => c.close().catch(() => undefined)))) };
}

function rawDriver(job: Extract<LoadJob, { kind: 'raw' }>): Driver {
  const pool = new pg.Pool({ connectionString: job.dsn, max: job.poolMax });
  pool.on('error', () => undefined);
  const call: Call = async (sql, expectRows) => {
    const r = await pool.query(sql);
    if (expectRows !== undefined && r.rows.length !== expectRows) return `expected ${expectRows} row(s), got ${r.rows.length}`;
    return undefined;
  };
  return { calls: Array.from({ length: job.clients }, () => call), close: () => pool.end() };
}

/** Unique literals stay unique across jobs (rounds), or later rounds would hit the decision cache. */
let uniqueCounter = 0;

async function runJob(job: LoadJob, onMeasuring: () => void, onMeasured: () => void): Promise<LoadResult> {
  const driver = job.kind === 'mcp' ? await mcpDriver(job) : rawDriver(job);
  try {
    const t0 = performance.now();
    const measureStart = t0 + job.warmupMs;
    const end = measureStart + job.measureMs;
    let cpuAtStart = process.cpuUsage();
    const markMeasuring = (): void => {
      cpuAtStart = process.cpuUsage();
      onMeasuring();
    };
    let timer: NodeJS.Timeout | undefined;
    if (job.warmupMs > 0) timer = setTimeout(markMeasuring, job.warmupMs);
    else markMeasuring();
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let counter = 0;
    const loop = async (call: Call): Promise<void> => {
      for (;;) {
        const start = performance.now();
        if (start >= end) return;
        const n = counter++;
        const unique = job.unique === true;
        const id = unique ? 1_000_000 + uniqueCounter++ : (n % job.ids) + 1;
        let problem: string | undefined;
        try {
          problem = await call(pointLookup(id), unique ? 0 : 1);
        } catch (err) {
          problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
        const done = performance.now();
        if (problem !== undefined) {
          errors++;
          firstError ??= problem;
        } else if (start >= measureStart && done <= end) {
          latencies.push(done - start);
        }
      }
    };
    await Promise.all(driver.calls.map(loop));
    clearTimeout(timer);
    const cpu = process.cpuUsage(cpuAtStart);
    onMeasured();
    const summary = summarize(latencies, job.measureMs, errors);
    const result: LoadResult = {
      summary,
      windowMs: job.measureMs,
      clientCpuUsPerCall: summary.calls > 0 ? (cpu.user + cpu.system) / summary.calls : Number.NaN,
    };
    if (firstError !== undefined) result.firstError = firstError;
    return result;
  } finally {
    await driver.close();
  }
}

function send(msg: FromChild): void {
  process.send?.(msg);
}

if (process.send !== undefined) {
  process.on('message', (msg: ToChild) => {
    if (msg.type === 'exit') {
      process.disconnect();
      return;
    }
    runJob(
      msg.job,
      () => send({ type: 'measuring' }),
      () => send({ type: 'measured' }),
    ).then(
      (result) => send({ type: 'done', result }),
      (err: unknown) => send({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
    );
  });
}
