/**
 * Issue #10 item 1, end to end: a real `pgwarden serve` process with a 256 MB heap
 * (--max-old-space-size=256) and default limits (max_bytes 4 MiB, result budget 32 MiB) takes 16
 * concurrent calls whose rows are 1 MB each (501 of them per call), twice over. The process
 * lives, its RSS stays under RSS_LIMIT, and every call answers: capped (truncated by bytes) or
 * refused with a retryable code.
 * On 344cc74 the process died ("JavaScript heap out of memory"): each call buffered and decoded
 * 501 MB of rows before the byte cap applied. Runs on Node 20 and Node 24 (.ci/run) with one bound:
 * before the parser was kept off V8's optimizing wasm compiler (src/guard/wasm-tiering.ts), Node 24
 * peaked at 775–890 MB here (the recompilation of libpg-query's parser loop, not the rows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../support/pg.js';
import { PGWARDEN_MAIN } from '../../support/cli.js';

const MAIN = PGWARDEN_MAIN;
const TOKEN = 'pgw_memory_e2e_0123456789abcdefghijklmnopqrstuv';
/**
 * The RSS the process must stay under, on Node 20 and Node 24: the 256 MB heap limit plus what
 * lives outside the V8 heap (code, socket and response buffers). Measured here
 * (2 loaded cores, 2026-12-07): idle 119–142 MB, peak 275–314 MB on Node 20 and 279–353 MB on
 * Node 24. Before src/guard/wasm-tiering.ts: 354–434 MB on Node 20, 775–890 MB on Node 24; on
 * 344cc74 the process died at ≈ 435 MB.
 */
const RSS_LIMIT = 400 * 1024 * 1024;
const CONCURRENT = 16;

let child: ChildProcess;
let url = '';
let stderr = '';
let peakRss = 0;
let sampler: NodeJS.Timeout | undefined;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-memory-'));
  const file = path.join(dir, 'pgwarden.yaml');
  writeFileSync(
    file,
    [
      'server: { host: 127.0.0.1, port: 0, rate_limit: { per_principal: 100000, per_ip: 100000 } }',
      `audit: { sink: file, path: ${path.join(dir, 'audit.jsonl')}, fsync: never }`,
      'databases:',
      '  shop:',
      `    url: ${testDatabase().gatewayUrl}`,
      '    search_path: [app]',
      '    limits: { statement_timeout_ms: 30000 }',
      // Calls queue for the 10 connections rather than fail on a pool-full timeout (issue #10 item 6's business).
      '    pool: { max: 10, connection_timeout_ms: 60000 }',
      'principals:',
      `  agent: { policy: reader, tokens: [{ token: ${TOKEN} }] }`,
      'policies:',
      '  reader:',
      '    databases:',
      '      shop: { mode: read-only, schemas: [app] }',
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PGWARDEN_') && k !== 'DATABASE_URL') env[k] = v;
  child = spawn(
    process.execPath,
    ['--max-old-space-size=256', MAIN, 'serve', '--config', file],
    { env: { ...env, NODE_OPTIONS: '', PGWARDEN_LOG_LEVEL: 'info' }, cwd: dir },
  );
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line: ${stderr}`)), 30_000);
    child.stderr?.on('data', () => {
      const m = /"endpoint":"(http:\/\/127\.0\.0\.1:\d+)\/mcp"/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, 500));
  console.log(`[memory e2e] idle RSS ${(rssOf(child.pid as number) / 1024 / 1024).toFixed(0)} MB`);
  sampler = setInterval(() => {
    if (child.pid !== undefined) peakRss = Math.max(peakRss, rssOf(child.pid));
  }, 25);
}, 60_000);

afterAll(() => {
  clearInterval(sampler);
  child?.kill('SIGKILL');
});

interface Outcome {
  status: number;
  kind: 'capped' | 'refused' | 'other';
  detail: string;
}

async function call(sql: string): Promise<Outcome> {
  try {
    const res = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql } } }),
    });
    const text = await res.text();
    const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('') || text;
    const msg = JSON.parse(data) as { result?: { isError?: boolean; structuredContent?: { truncated?: boolean; truncatedBy?: string; reasons?: { code: string }[] } } };
    const sc = msg.result?.structuredContent;
    if (msg.result?.isError !== true && sc?.truncated === true) return { status: res.status, kind: 'capped', detail: `rows truncated by ${String(sc.truncatedBy)}` };
    const codes = (sc?.reasons ?? []).map((r) => r.code);
    if (codes.length > 0 && codes.every((c) => c === 'RESULT_BUDGET_EXHAUSTED' || c === 'RESULT_TOO_LARGE')) return { status: res.status, kind: 'refused', detail: codes.join(',') };
    return { status: res.status, kind: 'other', detail: text.slice(0, 300) };
  } catch (err) {
    return { status: 0, kind: 'other', detail: String(err) };
  }
}

describe('a 256 MB heap under 16 concurrent calls of 1 MB rows', () => {
  for (const [name, sql] of [
    ['repeat', "SELECT repeat('x', 1048576) AS x FROM generate_series(1, 501)"],
    ['md5 rows', 'SELECT repeat(md5(g::text), 31250) AS x FROM generate_series(1, 1001) g'],
  ] as const) {
    it(`${name}: the process lives, RSS stays under ${RSS_LIMIT / 1024 / 1024} MB, every call is capped or refused`, async () => {
      const outcomes = await Promise.all(Array.from({ length: CONCURRENT }, () => call(sql)));
      const summary = outcomes.map((o) => `${o.kind}:${o.detail}`);
      console.log(`[memory e2e] ${name}: peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB; ${outcomes.filter((o) => o.kind === 'capped').length} capped, ${outcomes.filter((o) => o.kind === 'refused').length} refused`);
      expect(child.exitCode, stderr.slice(-2000)).toBeNull();
      expect(outcomes.filter((o) => o.kind === 'other'), summary.join('\n')).toEqual([]);
      expect(outcomes.every((o) => o.status === 200)).toBe(true);
      expect(outcomes.filter((o) => o.kind === 'capped').length).toBeGreaterThan(0);
      expect((await fetch(`${url}/livez`)).status).toBe(200);
      expect(peakRss).toBeLessThan(RSS_LIMIT);
    }, 120_000);
  }
});
