/**
 * Does judging long statements stall the event loop? (issue #10 item 2)
 *
 *   npm run bench:livez                          # BENCH_SECONDS=10 per row; rows idle, inline, workers
 *   BENCH_SECONDS=20 BENCH_LIVEZ_CLIENTS=2 npm run bench:livez -- --pg-bin /usr/lib/postgresql/15/bin
 *   BENCH_LIVEZ_ROWS=workers BENCH_PROFILE=/tmp/prof npm run bench:livez   # one row, CPU profiles of the gateway
 *
 * For each row it starts a real gateway (`pgwarden serve`, HTTP) over one throwaway PostgreSQL
 * with the demo data, then for BENCH_SECONDS runs BENCH_LIVEZ_CLIENTS (default 2) clients per
 * principal — one principal whose policy masks app.customers, one without masks — each sending
 * `query` calls back to back whose text is `SELECT 1 FROM app.customers, app.customers a<call>_1,
 * …` filled up to guard.max_statement_bytes (100 KB; the alias prefix is new on every call, so
 * the decision cache never helps), while a probe GETs /livez every 10 ms. It prints /livez
 * p50/p99/max latency, how many probes took over 100 ms, the calls answered and their codes.
 *
 * Rows: `idle` sends no statements (the probe alone: what the machine's load costs /livez);
 * `inline` is guard.judging.workers: 0 (the judging on the main thread, as before the
 * judging pool); `workers` is the default pool (2 workers). Both rows run in the same invocation
 * against the same database, so interference from other processes is comparable (not equal:
 * run it twice). Figures depend on the machine's load; the load average is printed with them.
 * The gateway's statement_timeout is 250 ms so the unmasked calls (allowed: an 8,000-way cross
 * join) end quickly in PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, percentile, startBenchDatabase } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE_ARGS = ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(ROOT, 'src/cli/main.ts')];
const SECONDS = Math.min(120, Math.max(2, Number(process.env.BENCH_SECONDS ?? 10)));
const CLIENTS = Math.min(16, Math.max(1, Number(process.env.BENCH_LIVEZ_CLIENTS ?? 2)));
const MAX_STATEMENT_BYTES = 100_000;
const ROWS = (process.env.BENCH_LIVEZ_ROWS ?? 'idle,inline,workers').split(',');
const PROFILE = process.env.BENCH_PROFILE;
const argv = process.argv.slice(2);
const pgBin = argv.includes('--pg-bin') ? argv[argv.indexOf('--pg-bin') + 1] : undefined;

/** The statement: one table named as many times as fit, each alias new on every call. */
export function slowStatement(prefix: string, bytes = MAX_STATEMENT_BYTES): string {
  let sql = 'SELECT 1 FROM app.customers';
  for (let i = 1; ; i++) {
    const next = `, app.customers ${prefix}_${i}`;
    if (sql.length + next.length > bytes) return sql;
    sql += next;
  }
}

interface Gateway {
  base: string;
  child: ChildProcess;
  tokens: { masked: string; plain: string };
  stderr: () => string;
}

async function startGateway(databaseUrl: string, workers: number): Promise<Gateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-livez-'));
  const masked = `pgw_masked_${randomBytes(20).toString('hex')}`;
  const plain = `pgw_plain_${randomBytes(20).toString('hex')}`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const cfg = path.join(dir, 'pgwarden.yaml');
  writeFileSync(
    cfg,
    [
      `server: { host: 127.0.0.1, port: ${port}, rate_limit: { per_principal: 1000000, per_ip: 1000000 } }`,
      'log: { level: warn }',
      `audit: { sink: file, path: ${path.join(dir, 'audit.ndjson')} }`,
      `guard: { max_statement_bytes: ${MAX_STATEMENT_BYTES}, judging: { workers: ${workers} } }`,
      'databases:',
      '  shop: { url: "${DATABASE_URL}", search_path: [app], limits: { statement_timeout_ms: 250 } }',
      'principals:',
      `  masked: { policy: masked, tokens: [{ token: "${masked}" }] }`,
      `  plain: { policy: plain, tokens: [{ token: "${plain}" }] }`,
      'policies:',
      '  plain: { databases: { shop: { mode: read-only, schemas: [app] } } }',
      '  masked:',
      '    databases:',
      '      shop:',
      '        mode: read-only',
      '        schemas: [app]',
      "        masks: { app.customers.email: { mask: email }, app.customers.full_name: { mask: redact } }",
      '',
    ].join('\n'),
  );
  const prof = PROFILE !== undefined ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [];
  const child = spawn(process.execPath, [...prof, ...NODE_ARGS, 'serve', '--config', cfg], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/livez`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, child, tokens: { masked, plain }, stderr: () => stderr };
}

/** One `query` call as a stateless JSON-RPC POST; returns the refusal codes ('' when it ran). */
async function call(base: string, token: string, sql: string): Promise<string> {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql } } }),
  });
  const text = await res.text();
  const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('') || text;
  try {
    const msg = JSON.parse(data) as { result?: { isError?: boolean; structuredContent?: { reasons?: { code: string }[]; code?: string } } };
    const sc = msg.result?.structuredContent;
    if (msg.result?.isError !== true) return 'ran';
    return (sc?.reasons ?? []).map((r) => r.code).join('+') || sc?.code || 'error';
  } catch {
    return `http ${res.status}`;
  }
}

const ROW_NAMES: Record<string, string> = {
  idle: 'idle (no statements: the floor)',
  inline: 'inline (guard.judging.workers: 0)',
  workers: 'workers (default pool, 2)',
};

interface RowResult {
  row: string;
  probes: number[];
  calls: Map<string, number>;
}

async function runRow(databaseUrl: string, row: string): Promise<RowResult> {
  const gw = await startGateway(databaseUrl, row === 'inline' ? 0 : 2);
  const calls = new Map<string, number>();
  const probes: number[] = [];
  let stop = false;
  let n = 0;
  try {
    // warm up: one call each (parser, catalog, worker start), not measured
    await Promise.all([call(gw.base, gw.tokens.masked, slowStatement('w0')), call(gw.base, gw.tokens.plain, slowStatement('w1'))]);
    const loops = [gw.tokens.masked, gw.tokens.plain].flatMap((token) =>
      Array.from({ length: row === 'idle' ? 0 : CLIENTS }, async () => {
        while (!stop) {
          const kind = token === gw.tokens.masked ? 'masked' : 'unmasked';
          const outcome = await call(gw.base, token, slowStatement(`a${n++}`)).catch((e: unknown) => `failed ${String(e)}`);
          const key = `${kind}: ${outcome}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
        }
      }),
    );
    const probe = (async () => {
      while (!stop) {
        const t0 = performance.now();
        await fetch(`${gw.base}/livez`).then((r) => r.arrayBuffer());
        probes.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    stop = true;
    await Promise.all([...loops, probe]);
  } finally {
    gw.child.kill('SIGTERM');
    await new Promise((r) => (gw.child.exitCode !== null ? r(undefined) : gw.child.once('exit', r)));
  }
  return { row, probes, calls };
}

const db = await startBenchDatabase({ binDir: pgBin });
try {
  process.stdout.write(
    `/livez while ${MAX_STATEMENT_BYTES}-byte statements are judged: ${SECONDS} s per row, ${CLIENTS} client(s) masked + ${CLIENTS} unmasked, ` +
      `PostgreSQL ${db.version}, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)}\n`,
  );
  const results: RowResult[] = [];
  for (const row of ROWS) results.push(await runRow(db.seeded.gatewayUrl, row));
  const table = results.map((r) => {
    const sorted = [...r.probes].sort((a, b) => a - b);
    const calls = [...r.calls.entries()].sort().map(([k, v]) => `${k} ×${v}`).join('; ');
    return [
      ROW_NAMES[r.row] ?? r.row,
      sorted.length,
      percentile(sorted, 50),
      percentile(sorted, 99),
      sorted[sorted.length - 1] ?? 0,
      sorted.filter((x) => x > 100).length,
      calls,
    ];
  });
  process.stdout.write(`${formatTable(['row', 'probes', 'p50 ms', 'p99 ms', 'max ms', '> 100 ms', 'calls answered'], table, [0, 0, 1, 1, 1, 0])}\n`);
  process.stdout.write(`load average now ${loadavg()[0]?.toFixed(1)}\n`);
} finally {
  await db.stop();
}
