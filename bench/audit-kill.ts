/**
 * How many acknowledged calls can a `kill -9` of the gateway lose from the audit log?
 *
 *   npx tsx bench/audit-kill.ts [ROUNDS] [SECONDS] [CLIENTS]
 *
 * Each round starts a real gateway (`pgwarden serve`, HTTP, file sink, fsync: interval) over a
 * throwaway PostgreSQL with the demo data, runs CLIENTS concurrent MCP clients that call `query`
 * with a distinct column alias per call (`SELECT 1 AS m<n>`: the alias survives normalization, so
 * each call's record can be found), kills the gateway with SIGKILL after SECONDS, and counts the
 * calls whose response the client received but whose record is not in the file. Prints one line
 * per round. Figures depend on the machine's load; this prints the load average with them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startBenchDatabase } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const NODE_ARGS = ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, MAIN];

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 10); // under load, 3 s rounds are spent connecting (docs/audit.md)
const clients = Number(process.argv[4] ?? 16);

async function round(databaseUrl: string, n: number): Promise<{ acked: number; recorded: number; lost: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-kill-'));
  const audit = path.join(dir, 'audit.ndjson');
  const token = randomBytes(24).toString('hex');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const cfg = path.join(dir, 'pgwarden.yaml');
  writeFileSync(
    cfg,
    [
      'server: { host: 127.0.0.1, port: ' + port + ', rate_limit: { per_principal: 1000000, per_ip: 1000000 } }',
      `log: { level: ${process.env.BENCH_DEBUG ? 'debug' : 'warn'} }`,
      `audit: { sink: file, path: ${audit}, fsync: ${process.env.BENCH_FSYNC ?? 'interval'} }`,
      'databases:',
      '  shop: { url: "${DATABASE_URL}", search_path: [app] }',
      'principals:',
      `  agent: { policy: ro, tokens: [{ token: "${token}" }] }`,
      'policies:',
      '  ro: { databases: { shop: { mode: read-only, schemas: [app] } } }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [...NODE_ARGS, 'serve', '--config', cfg], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/livez`);
      if (r.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`gateway did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const acked: string[] = [];
  let next = 0;
  let stop = false;
  const workers = Array.from({ length: clients }, async () => {
    const client = new Client({ name: 'kill-bench', version: '0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    } catch (err) {
      process.stderr.write(`connect failed: ${String(err)}\n`);
      return;
    }
    while (!stop) {
      const marker = `m${n}_${next++}`;
      try {
        const res = (await client.callTool({ name: 'query', arguments: { sql: `SELECT 1 AS ${marker}` } })) as { isError?: boolean };
        if (res.isError !== true) acked.push(marker);
        else if (process.env.BENCH_DEBUG) process.stderr.write(`${JSON.stringify(res).slice(0, 300)}\n`);
      } catch (err) {
        if (process.env.BENCH_DEBUG && !stop) process.stderr.write(`${String(err)}\n`);
        return; // the gateway is gone
      }
    }
  });
  const exited = new Promise((r) => child.once('exit', r));
  for (let t = 0; t < seconds; t++) {
    await new Promise((r) => setTimeout(r, 1000));
    if (process.env.BENCH_DEBUG) process.stderr.write(`t=${t + 1}s acked=${acked.length} lines=${existsSync(audit) ? readFileSync(audit, 'utf8').split('\n').length - 1 : 0}\n`);
  }
  child.kill('SIGKILL');
  stop = true;
  await Promise.allSettled(workers);
  await exited;
  if (process.env.BENCH_DEBUG) process.stderr.write(stderr.split('\n').filter((l) => !l.includes('"incoming request"') && !l.includes('"request completed"')).join('\n').slice(-6000));
  const text = existsSync(audit) ? readFileSync(audit, 'utf8') : '';
  const recorded = new Set<string>();
  for (const m of text.matchAll(/AS (m\d+_\d+)/g)) recorded.add(m[1] as string);
  const lost = acked.filter((m) => !recorded.has(m)).length;
  return { acked: acked.length, recorded: recorded.size, lost };
}

const db = await startBenchDatabase();
try {
  process.stdout.write(`kill -9 audit loss: ${rounds} rounds × ${seconds} s, ${clients} clients, load average ${loadavg()[0]?.toFixed(1)} on this machine\n`);
  let total = 0;
  let totalLost = 0;
  for (let i = 0; i < rounds; i++) {
    const r = await round(db.seeded.gatewayUrl, i);
    total += r.acked;
    totalLost += r.lost;
    process.stdout.write(`round ${i + 1}: ${r.acked} acknowledged calls, ${r.recorded} recorded, ${r.lost} acknowledged but not recorded\n`);
  }
  process.stdout.write(`total: ${totalLost} of ${total} acknowledged calls lost (load average now ${loadavg()[0]?.toFixed(1)})\n`);
} finally {
  await db.stop();
}
