/**
 * HTTP-only before/after driver (issue #13): one throwaway PostgreSQL, several pgwarden builds
 * served over HTTP at once, and short 1-client and N-client windows of the peers' point lookup
 * that ALTERNATE between the builds, so the shared machine's noise falls on every build alike
 * (bench:peers runs a build's scenario as a whole; under load single rounds moved 2×).
 *
 *   npx tsx bench/http-drive.ts [dir[|node flags] …]      (default: this checkout; each dir has dist/)
 *
 * Prints per build and level: calls, server CPU per call (utime+stime over all windows, and the
 * median window), p50. Environment: BENCH_SECONDS (per window, default 3), BENCH_ROUNDS (window
 * pairs, default 2), BENCH_CLIENTS (16), LANES (levels, default "1,<clients>"), NODE_FLAGS (for
 * every build). STRACE=1: first one strace -c -f window per build and level: syscalls per call,
 * user/sys split and CPU per thread (main vs V8/libuv threads). HEAP=1: one N-client window per
 * build under V8's sampling heap profiler counting collected objects too (bench/heap-sample.mjs);
 * `node bench/heap-sample.mjs`'s profile lands in $TMPDIR/heap-<pid>.json; summarize it with
 * `node bench/heap-summary.mjs <file> <calls>` (bytes allocated per call by layer and function).
 * BENCH_WINDOWS=1: also one line per window (CPU per call, calls/s, p50), to see a fresh process
 * warm up (V8 compiles the hot path in the first ≈ 20–30 s of load). BENCH_PREWARM=<s>: the first
 * build is driven alone at N clients for that long before the others start, so a warm process and
 * fresh ones (the same directory may be named twice) share every later window's noise.
 * Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { generateToken } from '../src/auth/tokens.js';
import { percentile, startBenchDatabase, writeBenchConfig } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const STRACE = process.env.STRACE === '1';
const HEAP = process.env.HEAP === '1';
const WINDOWS = process.env.BENCH_WINDOWS === '1';
const PREWARM = Number(process.env.BENCH_PREWARM ?? 0);
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [resolve(import.meta.dirname, '..')];

function cpuMs(pid: number): number {
  const [u, s] = cpuSplit(pid);
  return u + s;
}
function cpuSplit(pid: number): [number, number] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return [(Number(rest[11]) * 1000) / 100, (Number(rest[12]) * 1000) / 100];
}
function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")) + (tid === String(pid) ? "*main" : `#${tid}`);
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + ((Number(rest[11]) + Number(rest[12])) * 1000) / 100);
    } catch {
      // thread gone
    }
  }
  return out;
}
async function freePort(): Promise<number> {
  return await new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function call(client: Client, id: number): Promise<void> {
  const res = (await client.callTool({ name: 'query', arguments: { sql: `SELECT * FROM app.orders WHERE id = ${id}` } })) as { isError?: boolean };
  if (res.isError === true) throw new Error('tool error');
}

/** `lanes` concurrent callers over `clients` for `seconds`: each call's latency (ms). */
async function drive(clients: Client[], lanes: number, seconds: number): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const c = clients[lane % clients.length] as Client;
      while (performance.now() < deadline) {
        const s = performance.now();
        await call(c, (next++ % 200) + 1);
        lat.push(performance.now() - s);
      }
    }),
  );
  return lat;
}

async function measure(pid: number, clients: Client[], lanes: number, seconds: number, strace: boolean): Promise<string> {
  let st: ChildProcess | undefined;
  const out = join(tmpdir(), `strace-${pid}-${lanes}.txt`);
  if (strace) {
    st = spawn('strace', ['-c', '-f', '-p', String(pid), '-o', out], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
  }
  const cpu0 = cpuMs(pid);
  const split0 = cpuSplit(pid);
  const th0 = threads(pid);
  const t0 = performance.now();
  const lat = await drive(clients, lanes, seconds);
  const ms = performance.now() - t0;
  const cpu = cpuMs(pid) - cpu0;
  const split1 = cpuSplit(pid);
  const th1 = threads(pid);
  lat.sort((a, b) => a - b);
  const per = (x: number): string => ((x * 1000) / lat.length).toFixed(0);
  let line = `${lanes} clients: p50 ${percentile(lat, 50).toFixed(2)} ms, ${((lat.length * 1000) / ms).toFixed(0)} calls/s, ${per(cpu)} µs CPU/call (user ${per(split1[0] - split0[0])} sys ${per(split1[1] - split0[1])})`;
  line += `\n   threads µs/call: ${[...th1].map(([n, v]) => [n, v - (th0.get(n) ?? 0)] as const).filter(([, v]) => v > 0).map(([n, v]) => `${n} ${per(v)}`).join(', ')}`;
  if (st !== undefined) {
    st.kill('SIGINT');
    await new Promise((r) => st.once('exit', r));
    const text = readFileSync(out, 'utf8');
    const rows = text
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 5 && /^\d/.test(f[0] as string));
    const per = rows
      .map((f) => ({ name: f[f.length - 1] as string, calls: Number(f[3]) }))
      .filter((r) => Number.isFinite(r.calls))
      .sort((a, b) => b.calls - a.calls)
      .slice(0, 14)
      .map((r) => `${r.name} ${(r.calls / lat.length).toFixed(2)}`);
    line += `\n   syscalls/call: ${per.join(', ')}`;
  }
  return line;
}

async function window(pid: number, clients: Client[], lanes: number, seconds: number): Promise<{ calls: number; cpuMs: number; p50: number }> {
  const cpu0 = cpuMs(pid);
  const lat = await drive(clients, lanes, seconds);
  const cpu = cpuMs(pid) - cpu0;
  lat.sort((a, b) => a - b);
  return { calls: lat.length, cpuMs: cpu, p50: percentile(lat, 50) };
}

async function main(): Promise<void> {
  const db = await startBenchDatabase({ binDir: '/usr/lib/postgresql/15/bin' });
  const dir = mkdtempSync(join(tmpdir(), 'pgw-drive-'));
  const token = generateToken();
  const cfg = writeBenchConfig(dir, new URL(db.seeded.databaseUrl).href, token);
  interface Served {
    root: string;
    pid: number;
    clients: Client[];
    child: ChildProcess;
  }
  const served: Served[] = [];
  try {
    for (const root of roots) {
      const port = await freePort();
      const [rootDir, rootFlags] = root.split('|') as [string, string | undefined];
      const child = spawn(process.execPath, [...(process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean), ...(rootFlags ?? '').split(' ').filter(Boolean), ...(HEAP ? ['--import', join(import.meta.dirname, 'heap-sample.mjs')] : []), join(resolve(rootDir), 'dist/cli/main.js'), 'serve', '--config', cfg, '--transport', 'http', '--port', String(port)], {
        stdio: ['ignore', process.env.NODE_FLAGS ? 'inherit' : 'ignore', 'inherit'],
        env: { ...process.env, PGWARDEN_LOG_LEVEL: 'warn' },
      });
      const url = new URL(`http://127.0.0.1:${port}/mcp`);
      const clients: Client[] = [];
      for (let tries = 0; clients.length === 0; tries++) {
        try {
          const c = new Client({ name: 'drive', version: '0' });
          await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
          clients.push(c);
        } catch (err) {
          if (tries > 300) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      for (let i = 1; i < CLIENTS; i++) {
        const c = new Client({ name: 'drive', version: '0' });
        await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
        clients.push(c);
      }
      served.push({ root, pid: child.pid as number, clients, child });
      await measure(child.pid as number, clients, CLIENTS, 1, false);
      await measure(child.pid as number, clients, 1, 1, false);
      // BENCH_PREWARM=<s>: the first build is driven that long at N clients before the others start
      if (PREWARM > 0 && served.length === 1 && roots.length > 1) await window(child.pid as number, clients, CLIENTS, PREWARM);
    }
    if (HEAP) {
      for (const s of served) {
        process.kill(s.pid, 'SIGUSR2');
        await new Promise((r) => setTimeout(r, 300));
        const w = await window(s.pid, s.clients, Number(process.env.HEAP_LANES ?? CLIENTS), SECONDS);
        process.kill(s.pid, 'SIGUSR2');
        await new Promise((r) => setTimeout(r, 1500));
        console.log(`heap ${s.root} pid ${s.pid} calls ${w.calls}`);
      }
    }
    if (STRACE) {
      for (const s of served) console.log(`${s.root}\n  strace ${await measure(s.pid, s.clients, 1, SECONDS, true)}\n  strace ${await measure(s.pid, s.clients, CLIENTS, SECONDS, true)}`);
    }
    // alternate short windows: the machine's noise is shared by every build
    const acc = new Map<string, { calls: number; cpu: number; perWindow: number[]; p50: number[] }>();
    for (let it = 0; it < ROUNDS; it++) {
      for (const lanes of (process.env.LANES ?? `1,${CLIENTS}`).split(',').map(Number)) {
        const order = it % 2 === 0 ? served : [...served].reverse();
        for (const s of order) {
          const w = await window(s.pid, s.clients, lanes, SECONDS);
          const key = `${lanes}\t${s.root}${roots.indexOf(s.root) === served.indexOf(s) ? '' : `#${served.indexOf(s) + 1}`}`;
          const a = acc.get(key) ?? { calls: 0, cpu: 0, perWindow: [], p50: [] };
          a.calls += w.calls;
          a.cpu += w.cpuMs;
          a.perWindow.push((w.cpuMs * 1000) / w.calls);
          a.p50.push(w.p50);
          acc.set(key, a);
          if (WINDOWS) console.log(`window ${it + 1}\t${key}\t${((w.cpuMs * 1000) / w.calls).toFixed(0)} µs CPU/call\t${((w.calls * 1000) / (SECONDS * 1000)).toFixed(0)} calls/s\tp50 ${w.p50.toFixed(2)} ms`);
        }
      }
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    for (const [key, a] of acc) {
      console.log(`${key}\tcalls ${a.calls}\tCPU/call ${((a.cpu * 1000) / a.calls).toFixed(0)} µs (median window ${med(a.perWindow).toFixed(0)})\tp50 median ${med(a.p50).toFixed(2)} ms`);
    }
  } finally {
    for (const s of served) {
      await Promise.all(s.clients.map((c) => c.close().catch(() => undefined)));
      s.child.kill('SIGTERM');
      await new Promise((r) => (s.child.exitCode !== null ? r(undefined) : s.child.once('exit', r)));
    }
    rmSync(dir, { recursive: true, force: true });
    await db.stop();
  }
}

await main();
