/* global process, console */
// Bytes allocated per call from a sampling heap profile written by bench/heap-sample.mjs
// (bench/http-drive.ts HEAP=1): by layer (the nearest npm package or src/ directory on the
// allocating stack; Node internals charged to it), and with a layer regex, by function in the
// matching layers.   node bench/heap-summary.mjs <heap-<pid>.json> <calls> [layer-regex]
import { readFileSync } from 'node:fs';

const [file, callsArg, pattern] = process.argv.slice(2);
const calls = Number(callsArg);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const layerOf = (cf) => {
  const u = cf.url;
  if (!u || u.startsWith('node:')) return null;
  const pkg = u.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  const src = u.match(/dist\/(.+)\.js/);
  return src ? `src/${src[1].split('/')[0]}` : null;
};
const name = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/')}:${cf.lineNumber}`;
const byLayer = new Map();
const byFunction = new Map();
let total = 0;
const walk = (node, stack) => {
  const frames = [...stack, node.callFrame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    let i = frames.length - 1;
    while (i >= 0 && layerOf(frames[i]) === null) i--;
    const layer = i >= 0 ? layerOf(frames[i]) : '(no package frame)';
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + node.selfSize);
    if (pattern !== undefined && i >= 0 && new RegExp(pattern).test(layer)) {
      const key = name(frames[i]) + (i < frames.length - 1 ? ` > ${name(frames[frames.length - 1])}` : '');
      byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
    }
  }
  for (const child of node.children) walk(child, frames);
};
walk(profile.head, []);
const rows = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v / calls).toFixed(0).padStart(7)} B/call  ${k}`).join('\n');
console.log(`allocated per call: ${(total / calls / 1024).toFixed(1)} KB\n${rows(byLayer, 30)}`);
if (pattern !== undefined) console.log(`\nby function in layers matching ${pattern}\n${rows(byFunction, 40)}`);
