/**
 * stdio-only before/after driver (issue #13): one throwaway PostgreSQL, several pgwarden builds
 * served over stdio at once (one SDK client each), and short windows of the peers' point lookup
 * at 1 call in flight (and LANES more) that ALTERNATE between the builds, so the shared machine's
 * noise falls on every build alike.
 *
 *   npx tsx bench/stdio-drive.ts [dir[|node flags] …]      (default: this checkout; each dir has dist/)
 *
 * Prints per build and level: calls, server CPU per call (utime+stime over all windows, and the
 * median window), p50 median. Environment: BENCH_SECONDS (per window, default 2), BENCH_ROUNDS
 * (default 4), LANES (levels, default "1"). STRACE=1: first one `strace -f -c` window per build at
 * 1 call in flight: syscalls per call and CPU per thread. Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { percentile, startBenchDatabase, writeBenchConfig } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const STRACE = process.env.STRACE === '1';
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [resolve(import.meta.dirname, '..')];

function cpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
}
function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + ((Number(rest[11]) + Number(rest[12])) * 1000) / 100);
    } catch {
      // thread gone
    }
  }
  return out;
}

let nextId = 0;
async function drive(client: Client, lanes: number, seconds: number): Promise<number[]> {
  const lat: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        const res = (await client.callTool({ name: 'query', arguments: { sql: `SELECT * FROM app.orders WHERE id = ${(nextId++ % 200) + 1}` } })) as { isError?: boolean };
        if (res.isError === true) throw new Error('tool error');
        lat.push(performance.now() - s);
      }
    }),
  );
  return lat;
}

interface Served {
  root: string;
  pid: number;
  client: Client;
}

async function straceWindow(s: Served): Promise<string> {
  const out = join(tmpdir(), `strace-stdio-${s.pid}.txt`);
  const st: ChildProcess = spawn('strace', ['-c', '-f', '-p', String(s.pid), '-o', out], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const th0 = threads(s.pid);
  const lat = await drive(s.client, 1, SECONDS);
  const th1 = threads(s.pid);
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  const rows = readFileSync(out, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && /^\d/.test(f[0] as string))
    .map((f) => ({ name: f[f.length - 1] as string, calls: Number(f[3]) }))
    .filter((r) => Number.isFinite(r.calls) && r.name !== 'total')
    .sort((a, b) => b.calls - a.calls)
    .slice(0, 14);
  const per = (x: number): string => ((x * 1000) / lat.length).toFixed(0);
  return `  syscalls/call: ${rows.map((r) => `${r.name} ${(r.calls / lat.length).toFixed(2)}`).join(', ')}\n  threads µs/call (under strace): ${[...th1].map(([n, v]) => [n, v - (th0.get(n) ?? 0)] as const).filter(([, v]) => v > 0).map(([n, v]) => `${n} ${per(v)}`).join(', ')}`;
}

async function main(): Promise<void> {
  const db = await startBenchDatabase({ binDir: '/usr/lib/postgresql/15/bin' });
  const dir = mkdtempSync(join(tmpdir(), 'pgw-sdrive-'));
  const cfg = writeBenchConfig(dir, new URL(db.seeded.databaseUrl).href);
  const served: Served[] = [];
  try {
    for (const root of roots) {
      const [rootDir, rootFlags] = root.split('|') as [string, string | undefined];
      const args = [...(rootFlags ?? '').split(' ').filter(Boolean), join(resolve(rootDir), 'dist/cli/main.js'), 'serve', '--config', cfg, '--transport', 'stdio', '--principal', 'bench'];
      const transport = new StdioClientTransport({ command: process.execPath, args, env: { ...process.env, PGWARDEN_LOG_LEVEL: 'warn' } as Record<string, string>, stderr: 'inherit' });
      const client = new Client({ name: 'stdio-drive', version: '0' });
      await client.connect(transport);
      served.push({ root, pid: transport.pid as number, client });
      await drive(client, 1, 1); // warm
    }
    if (STRACE) for (const s of served) console.log(`${s.root}\n${await straceWindow(s)}`);
    const acc = new Map<string, { calls: number; cpu: number; perWindow: number[]; p50: number[] }>();
    for (let it = 0; it < ROUNDS; it++) {
      for (const lanes of (process.env.LANES ?? '1').split(',').map(Number)) {
        for (const s of it % 2 === 0 ? served : [...served].reverse()) {
          const cpu0 = cpuMs(s.pid);
          const lat = await drive(s.client, lanes, SECONDS);
          const cpu = cpuMs(s.pid) - cpu0;
          lat.sort((a, b) => a - b);
          const key = `${lanes}\t${s.root}`;
          const a = acc.get(key) ?? { calls: 0, cpu: 0, perWindow: [], p50: [] };
          a.calls += lat.length;
          a.cpu += cpu;
          a.perWindow.push((cpu * 1000) / lat.length);
          a.p50.push(percentile(lat, 50));
          acc.set(key, a);
        }
      }
    }
    for (const s of served) {
      const th0 = threads(s.pid);
      const n = (await drive(s.client, 1, SECONDS)).length;
      const th1 = threads(s.pid);
      console.log(`${s.root}: CPU µs/call by thread at 1 client: ${[...th1].map(([k, v]) => `${k} ${(((v - (th0.get(k) ?? 0)) * 1000) / n).toFixed(0)}`).join(', ')}`);
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    for (const [key, a] of acc) {
      console.log(`${key}\tcalls ${a.calls}\tCPU/call ${((a.cpu * 1000) / a.calls).toFixed(0)} µs (median window ${med(a.perWindow).toFixed(0)})\tp50 median ${med(a.p50).toFixed(3)} ms`);
    }
  } finally {
    for (const s of served) await s.client.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await db.stop();
  }
}

await main();
