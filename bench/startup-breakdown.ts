/**
 * Where a start's main-thread time goes in the shipped bundle (issue #13, start-up), from the
 * profiles of `BENCH_CPU_PROF=<dir> BENCH_PEERS=pgwarden npm run bench:peers` (node --cpu-prof):
 *
 *   npx tsx bench/startup-breakdown.ts <dir>/pgwarden-stdio-r1 [more dirs…]
 *
 * bench/profile-layers.ts charges every frame of the bundle to "src/cli" (the bundle's folder);
 * this script maps each dist/cli chunk to the package or src/ folder holding most of its bytes
 * (dist/bundle-meta.json, esbuild's metafile) and sums the samples from process start to the
 * first answered call per part: compiling JavaScript source, Node's module loading, the garbage
 * collector, idle (waiting for the database or a client), the parser's WebAssembly (instantiation
 * and lazy compilation on first call), the pg driver, and each bundled part (zod, the MCP SDK,
 * fastify, pgwarden's own folders). Several directories (rounds) are averaged. Shares stay
 * meaningful on a loaded machine; the ms are sampled wall time of the main thread and inflate
 * under contention. Run after a build of the same sources (the chunk names must match). Prints
 * figures; asserts nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Profiler } from 'node:inspector';
import { formatTable } from './support.js';

const ROOT = resolve(import.meta.dirname, '..');
const meta = JSON.parse(readFileSync(join(ROOT, 'dist/bundle-meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };

/** Chunk file name → the package or src/ folder with most bytes in it. */
const chunkOwner = new Map<string, string>();
for (const [out, o] of Object.entries(meta.outputs)) {
  const bytes = new Map<string, number>();
  for (const [file, v] of Object.entries(o.inputs)) {
    const owner = file.replace(/^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1').replace(/^src\/([^/]+)\/.*$/, 'src/$1');
    bytes.set(owner, (bytes.get(owner) ?? 0) + v.bytesInOutput);
  }
  const top = [...bytes].sort((a, b) => b[1] - a[1])[0];
  chunkOwner.set(out.split('/').pop() as string, top?.[0] ?? '?');
}

function part(owner: string): string {
  if (owner === 'zod') return 'zod (its import and the schemas built with it)';
  if (/^@modelcontextprotocol\/|hono/.test(owner)) return 'MCP SDK';
  if (/fastify|^ajv|find-my-way|fast-json-stringify|light-my-request|semver/.test(owner)) return 'fastify and its dependencies';
  if (/pino|sonic-boom|thread-stream/.test(owner)) return 'pino';
  if (owner === 'src/db') return 'src/db (pool, connection, catalog snapshot)';
  if (owner.startsWith('src/')) return 'pgwarden src/ (other folders)';
  return owner;
}

const WASM = 'libpg-query (wasm instantiation, lazy compilation on first call)';

const totals = new Map<string, number>();
let sum = 0;
const dirs = process.argv.slice(2);
for (const dir of dirs) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`${dir}: no .cpuprofile`);
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profiler.Profile;
  const endUs = (JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as { startup: { toUs: number } }).startup.toUs;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const classify = (id: number): string => {
    const frame = nodes.get(id)?.callFrame;
    const fn = frame?.functionName ?? '';
    if (fn === '(idle)') return 'idle (waiting: database, client, timers)';
    if (fn === '(garbage collector)') return 'garbage collector';
    if (/compileSourceTextModule|compileForInternalLoader|wrapSafe|compileFunction/.test(fn)) return 'compiling JavaScript source';
    if (/^wasm-function|GenericJSToWasm|^instantiate$/.test(fn) || frame?.url.startsWith('wasm')) return WASM;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = nodes.get(cur)?.callFrame.url ?? '';
      if (url.includes('node_modules/pg')) return 'pg driver';
      if (url.includes('libpg-query')) return WASM;
      if (url.includes('dist/cli/')) return part(chunkOwner.get(url.split('/').pop() as string) ?? '?');
    }
    return fn === '(program)' ? '(program: native, unattributed)' : 'Node internals (module loading, bootstrap)';
  };
  let t = p.startTime;
  const deltas = p.timeDeltas ?? [];
  const samples = p.samples ?? [];
  for (let i = 0; i + 1 < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t > endUs) break;
    const ms = (deltas[i + 1] ?? 0) / 1000;
    const k = classify(samples[i] as number);
    totals.set(k, (totals.get(k) ?? 0) + ms);
    sum += ms;
  }
}
console.log(`${dirs.length} start(s): ${(sum / dirs.length).toFixed(0)} ms of the main thread from process start to the first answer`);
const rows = [...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / dirs.length, (100 * v) / sum]);
console.log(formatTable(['part', 'ms per start', '% of the start'], rows, [0, 0, 0]));
