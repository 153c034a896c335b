/**
 * Where a call's CPU goes, layer by layer, from the profiles of `BENCH_CPU_PROF=<dir> npm run
 * bench:peers` (node --cpu-prof of pgwarden's server processes):
 *
 *   npx tsx bench/profile-layers.ts <dir>/pgwarden-http-r1 [more dirs…] [--window startup|one|many] [--top 25] [--incl REGEX]…
 *
 * For each directory: its .cpuprofile is cut to the measured window in window.json (start-up to
 * the first answered call, 1 client or N clients) and the samples are summed, per call, three ways:
 *  - self time by layer (npm package, src/ directory, node: module, or a native bucket such as
 *    (garbage collector) and (program));
 *  - the same with Node internals and native frames charged to the nearest caller that is a
 *    package or one of our directories ("by calling layer": e.g. socket writes pg asked for);
 *  - the top self-time functions.
 * Several directories (rounds) are pooled. Proportions stay meaningful on a loaded machine; the
 * µs figures are sampled wall time while the thread was busy, so they inflate under CPU
 * contention. Prints figures; asserts nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Profiler } from 'node:inspector';
import { category } from './profile.js';
import { formatTable } from './support.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { window: { type: 'string', default: 'many' }, top: { type: 'string', default: '25' }, incl: { type: 'string', multiple: true, default: [] } },
});
const which = values.window === 'one' || values.window === 'startup' ? values.window : 'many';
const TOP = Number(values.top);

const internal = (c: string): boolean => c.startsWith('node:') || c.startsWith('(');

const self = new Map<string, number>();
const calling = new Map<string, number>();
const fns = new Map<string, number>();
/** --incl <regex>: inclusive time of samples with a frame (function name + url) matching it. */
const inclusive = new Map<string, number>((values.incl ?? []).map((r) => [r, 0]));
const inclRe = [...inclusive.keys()].map((r) => [r, new RegExp(r)] as const);
let busy = 0;
let idle = 0;
let calls = 0;

for (const dir of positionals) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) {
    console.error(`${dir}: no .cpuprofile (did the server exit normally?)`);
    continue;
  }
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profiler.Profile;
  const win = (JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as Record<string, { fromUs: number; toUs: number; calls: number }>)[which];
  if (win === undefined) continue;
  calls += win.calls;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const callerCat = new Map<number, string>();
  const callerOf = (id: number): string => {
    const hit = callerCat.get(id);
    if (hit !== undefined) return hit;
    let cur: number | undefined = id;
    let found = '(root)';
    while (cur !== undefined) {
      const c = category((byId.get(cur) as Profiler.ProfileNode).callFrame);
      if (!internal(c) && c !== '(root)') {
        found = c;
        break;
      }
      cur = parent.get(cur);
    }
    if (cur === undefined) found = category((byId.get(id) as Profiler.ProfileNode).callFrame);
    callerCat.set(id, found);
    return found;
  };
  let t = profile.startTime;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t < win.fromUs || t > win.toUs) continue;
    const dt = deltas[i + 1] ?? deltas[i] ?? 0; // a sample stands for the interval until the next one
    const node = byId.get(samples[i] as number) as Profiler.ProfileNode;
    const fr = node.callFrame;
    if (fr.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const c = category(fr);
    self.set(c, (self.get(c) ?? 0) + dt);
    const cc = callerOf(node.id);
    calling.set(cc, (calling.get(cc) ?? 0) + dt);
    const where = fr.url === '' ? '' : ` ${fr.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|dist)\//, '$1/')}:${fr.lineNumber + 1}`;
    const key = `${fr.functionName || '(anonymous)'}${where}`;
    fns.set(key, (fns.get(key) ?? 0) + dt);
    if (inclRe.length > 0) {
      const stack: string[] = [];
      for (let cur: number | undefined = node.id; cur !== undefined; cur = parent.get(cur)) {
        const f = (byId.get(cur) as Profiler.ProfileNode).callFrame;
        stack.push(`${f.functionName} ${f.url}:${f.lineNumber + 1}`);
      }
      for (const [r, re] of inclRe) if (stack.some((x) => re.test(x))) inclusive.set(r, (inclusive.get(r) ?? 0) + dt);
    }
  }
}

const rows = (m: Map<string, number>): (string | number)[][] =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([k, us]) => [k, us / calls, (100 * us) / busy]);
console.log(`${positionals.length} profile(s), window ${which}: ${calls} calls, busy ${(busy / calls).toFixed(0)} µs/call, idle ${(idle / 1000).toFixed(0)} ms`);
console.log('\nself time by layer');
console.log(formatTable(['layer', 'µs/call', '% of busy'], rows(self), [0, 1, 1]));
console.log('\nby calling layer (node internals and native frames charged to the nearest package / src caller)');
console.log(formatTable(['layer', 'µs/call', '% of busy'], rows(calling), [0, 1, 1]));
if (inclusive.size > 0) {
  console.log('\ninclusive (samples with a matching frame on the stack)');
  console.log(formatTable(['frame regex', 'µs/call', '% of busy'], [...inclusive].map(([k, us]) => [k, us / calls, (100 * us) / busy]), [0, 1, 1]));
}
/** Layers of a call, from the "by calling layer" sums. */
const GROUPS: [string, RegExp][] = [
  ['MCP SDK (JSON-RPC, transports, Node <-> Web Request/Response)', /^@modelcontextprotocol\//],
  ['zod (message, argument and result schemas)', /^zod$/],
  ['HTTP server (fastify, rate limits, src/http, node:http)', /^(fastify|find-my-way|@fastify\/|secure-json-parse|avvio|light-my-request|fast-json-stringify|toad-cache|src\/http|node:_http|node:net)/],
  ['database path (src/db, pg)', /^(src\/db|pg|pg-pool|pg-protocol|pg-types|pg-cursor|postgres-)/],
  ['audit writer (src/audit)', /^src\/audit$/],
  ['gateway core, guard, masking, tools (src/core, guard, mask, mcp, auth, telemetry)', /^src\/(core|guard|mask|mcp|auth|telemetry|app|config)$|^wasm|^libpg-query/],
  ['logging (pino)', /^(pino|@pinojs|sonic-boom)/],
  ['garbage collector', /^\(garbage collector\)$/],
];
const groups = new Map<string, number>();
for (const [c, us] of calling) {
  const g = GROUPS.find(([, re]) => re.test(c))?.[0] ?? 'other (Node internals, microtasks, stdio)';
  groups.set(g, (groups.get(g) ?? 0) + us);
}
console.log('\nby layer of the call (from the calling-layer sums)');
console.log(formatTable(['layer', 'µs/call', '% of busy'], [...groups].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, us / calls, (100 * us) / busy]), [0, 1, 1]));
console.log('\ntop functions (self)');
console.log(formatTable(['function', 'µs/call', '% of busy'], rows(fns), [0, 1, 1]));
