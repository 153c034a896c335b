/**
 * Start-up and memory of the built server (`npm run bench:startup`; issue #13).
 *
 * For each target (this checkout's dist/, plus BENCH_STARTUP_REF=<dir of an older built checkout>
 * as the row `ref`, plus BENCH_STARTUP_NODE=<another node binary> as rows `… node<major>`) and
 * transport (stdio, HTTP), in interleaved rounds (BENCH_ROUNDS, default 7): spawn
 * `node dist/cli/main.js serve` with the file audit sink on, send the first `tools/call` (a point
 * lookup; HTTP: polled every 5 ms until answered, 2025-era stateless; stdio: initialize,
 * initialized and the call written at once) and time spawn → answer, and the server's CPU until
 * then (/proc; steadier than the wall time when other work shares the cores). Then RSS 1 s after the
 * answer ("idle"), then BENCH_CALLS more calls (default 0; e.g. 100000) 16 in flight over stdio /
 * 16 keep-alive lanes over HTTP and RSS after them, and the server's CPU (/proc) per call.
 * Also the peak RSS (VmHWM) after the calls, and each sample on stderr as it is taken. BENCH_SMAPS=1
 * prints the largest mappings idle and after the calls; BENCH_HEAP_SPACES=1 loads
 * bench/heap-spaces.mjs into every server and prints V8's heap spaces after the calls, before and
 * after a full GC (with BENCH_SHOW_STDERR=1).
 * BENCH_NODE_ARGS adds node flags to every pgwarden process; BENCH_STARTUP_VARIANT="<flags>;<flags>"
 * adds this checkout run with those flags as more rows (e.g. --max-semi-space-size=2).
 * Options: --pg-bin DIR (the machine's PostgreSQL binaries), --transports stdio,http.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateToken } from '../src/auth/tokens.js';
import { formatTable, heading, median, startBenchDatabase, type Cell, writeBenchConfig } from './support.js';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 0);
const HEAP_SPACES = process.env['BENCH_HEAP_SPACES'] !== undefined;
const NODE_ARGS = [
  ...(HEAP_SPACES ? ['--import', pathToFileURL(join(ROOT, 'bench/heap-spaces.mjs')).href] : []),
  ...(process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
];
const { values: opts } = parseArgs({ options: { 'pg-bin': { type: 'string' }, transports: { type: 'string', default: 'stdio,http' } } });
const TRANSPORTS = (opts.transports ?? 'stdio,http').split(',') as ('stdio' | 'http')[];

interface Target {
  name: string;
  root: string;
  node: string;
  args?: string[];
}
interface Sample {
  startupMs: number;
  /** the server's CPU (user + system, all threads, /proc) from spawn to the first answer: steadier than wall time on a loaded machine */
  startupCpuMs: number;
  rssIdleMiB: number;
  rssAfterMiB?: number;
  /** the highest RSS of the process until then (VmHWM): the calls' peak, not only what is left after them */
  rssPeakMiB?: number;
  cpuUsPerCall?: number;
}

const targets: Target[] = [{ name: 'pgwarden', root: ROOT, node: process.execPath }];
// BENCH_STARTUP_REF=<dir>[,<dir>…]: rows ref, ref2, … (e.g. builds of several bundling variants)
for (const [i, dir] of (process.env['BENCH_STARTUP_REF'] ?? '').split(',').filter((d) => d !== '').entries())
  targets.push({ name: i === 0 ? 'ref' : `ref${i + 1}`, root: resolve(dir), node: process.execPath });
for (const v of (process.env['BENCH_STARTUP_VARIANT'] ?? '').split(';')) {
  const variant = v.split(' ').filter((a) => a !== '');
  if (variant.length > 0) targets.push({ name: `pgwarden ${variant.join(' ')}`, root: ROOT, node: process.execPath, args: variant });
}
const otherNode = process.env['BENCH_STARTUP_NODE'];
if (otherNode) for (const t of [...targets]) targets.push({ ...t, name: `${t.name} (${otherNode.split('/').slice(-1)[0]} ${nodeMajor(otherNode)})`, node: otherNode });

function nodeMajor(bin: string): string {
  return spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
}

const statusMiB = (pid: number, field: 'VmRSS' | 'VmHWM'): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const rssMiB = (pid: number): number => statusMiB(pid, 'VmRSS');
const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};
/** Debugging aid (BENCH_SMAPS=1): thread count and the largest mappings by RSS. */
function topMappings(pid: number): string {
  const threads = /Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  const maps: [string, number][] = [];
  let head = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) head = line.split(/\s+/).slice(5).join(' ') || `[anon ${line.split(' ')[0]}]`;
    const m = /^Rss:\s+(\d+) kB/.exec(line);
    if (m) maps.push([head, Number(m[1]) / 1024]);
  }
  maps.sort((a, b) => b[1] - a[1]);
  return `threads ${threads}\n${maps.slice(0, 12).map(([h, mb]) => `${mb.toFixed(1)} MiB ${h}`).join('\n')}\n`;
}
const sql = (id: number): string => `SELECT * FROM app.orders WHERE id = ${id}`;
const callMsg = (id: number): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query', arguments: { sql: sql((id % 50) + 1) } } });

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** stdio: newline-delimited JSON-RPC; resolves answers by id. */
function stdioChannel(child: ChildProcess): (msg: string, id: number) => Promise<string> {
  const waiting = new Map<number, (line: string) => void>();
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const id = (JSON.parse(line) as { id?: number }).id;
      if (id !== undefined) waiting.get(id)?.(line);
    }
  });
  return (msg, id) => new Promise((res) => (waiting.set(id, res), child.stdin?.write(msg + '\n')));
}

async function run(target: Target, transport: 'stdio' | 'http', config: string, token: string): Promise<Sample> {
  const port = await freePort();
  const args = [...NODE_ARGS, ...(target.args ?? []), join(target.root, 'dist/cli/main.js'), 'serve', '--config', config, '--transport', transport];
  args.push(...(transport === 'http' ? ['--port', String(port)] : ['--principal', 'bench']));
  const t0 = performance.now();
  const child = spawn(target.node, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PGWARDEN_LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise((r) => child.once('exit', r));
  let call: (id: number) => Promise<string>;
  if (transport === 'stdio') {
    const send = stdioChannel(child);
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-startup', version: '0' } } };
    child.stdin?.write(JSON.stringify(init) + '\n' + JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
    call = (id) => send(callMsg(id), id);
  } else {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
    call = async (id) => (await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers, body: callMsg(id) })).text();
  }
  let first: string | undefined;
  while (first === undefined) {
    if (child.exitCode !== null) throw new Error(`${target.name} ${transport} exited: ${stderr}`);
    first = await call(1).catch(async () => (await new Promise((r) => setTimeout(r, 5)), undefined));
  }
  const startupMs = performance.now() - t0;
  const startupCpuMs = cpuMs(child.pid as number);
  if (!first.includes('rowCount')) throw new Error(`${target.name} ${transport}: unexpected first answer ${first.slice(0, 300)}`);
  await new Promise((r) => setTimeout(r, 1000));
  const sample: Sample = { startupMs, startupCpuMs, rssIdleMiB: rssMiB(child.pid as number) };
  if (process.env['BENCH_SMAPS']) process.stderr.write(topMappings(child.pid as number));
  if (CALLS > 0) {
    const cpu0 = cpuMs(child.pid as number);
    let next = 2;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < CALLS + 2) await call(next++);
    }));
    sample.cpuUsPerCall = ((cpuMs(child.pid as number) - cpu0) * 1000) / CALLS;
    await new Promise((r) => setTimeout(r, 1000));
    sample.rssAfterMiB = rssMiB(child.pid as number);
    sample.rssPeakMiB = statusMiB(child.pid as number, 'VmHWM');
    if (HEAP_SPACES) {
      // bench/heap-spaces.mjs prints V8's heap spaces (resident / used), a full GC, and them again
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 1500));
    }
    if (process.env['BENCH_SMAPS']) process.stderr.write(`after ${CALLS} calls (${target.name} ${transport}): ${topMappings(child.pid as number)}`);
  }
  child.stdin?.end();
  child.kill('SIGTERM');
  await exited;
  if (process.env['BENCH_SHOW_STDERR']) process.stderr.write(`--- ${target.name} ${transport} stderr (last 2000 chars)\n${stderr}\n`);
  return sample;
}

const db = await startBenchDatabase({ binDir: opts['pg-bin'] });
const dir = mkdtempSync(join(tmpdir(), 'pgwarden-startup-'));
try {
  const token = generateToken();
  const config = writeBenchConfig(dir, db.seeded.databaseUrl, token);
  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const transport of TRANSPORTS) for (const t of targets) {
      const key = `${t.name}\t${transport}`;
      const s = await run(t, transport, config, token);
      // each sample as it comes (a long run cut short keeps what it measured)
      process.stderr.write(`sample r${round + 1} ${t.name} ${transport}: ${JSON.stringify(s, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}\n`);
      samples.set(key, [...(samples.get(key) ?? []), s]);
    }
  }
  console.log(heading(`start-up and RSS, medians of ${ROUNDS} rounds (PostgreSQL ${db.version}, ${process.version}${NODE_ARGS.length ? `, ${NODE_ARGS.join(' ')}` : ''})`));
  const rows: Cell[][] = [...samples].map(([key, ss]) => {
    const [name, transport] = key.split('\t');
    const m = (f: (s: Sample) => number | undefined): number | undefined => {
      const v = ss.map(f).filter((x): x is number => x !== undefined);
      return v.length ? median(v) : undefined;
    };
    return [name, transport, m((s) => s.startupMs), Math.min(...ss.map((s) => s.startupMs)), m((s) => s.startupCpuMs), m((s) => s.rssIdleMiB), m((s) => s.rssAfterMiB), m((s) => s.rssPeakMiB), m((s) => s.cpuUsPerCall)];
  });
  console.log(formatTable(['server', 'transport', 'start-up ms', 'min ms', 'start-up CPU ms', 'RSS idle MiB', `RSS after ${CALLS} calls MiB`, 'peak RSS MiB', 'CPU µs/call'], rows, [0, 0, 0, 0, 0, 1, 1, 1, 0]));
} finally {
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}
