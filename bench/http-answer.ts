/**
 * The HTTP fast path's answer writer in one process (issue #13, session 8): the head and a point
 * lookup's result written on a ServerResponse over an in-memory socket, the one-string way
 * (src/http/fast-answer.ts, small answers) against the Buffer-per-part way (corked writev, as
 * before), alternating in rounds; and the bearer credential's SHA-256 with crypto.hash against
 * createHash. Prints µs per operation (median of rounds); asserts nothing.
 *
 *   npx tsx bench/http-answer.ts            (BENCH_ROUNDS, default 15; BENCH_N per round, default 20000)
 */
import { createHash, hash } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { Socket } from 'node:net';
import { writeFast } from '../src/http/fast-answer.js';
import { credentialDigest } from '../src/auth/tokens.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const N = Number(process.env.BENCH_N ?? 20000);

const req = new IncomingMessage(new Socket());
req.method = 'POST';
req.httpVersionMajor = 1;
req.httpVersionMinor = 1;
const sink = new Duplex({
  read() {},
  write(_chunk, _enc, cb) {
    cb();
  },
  writev(_chunks, cb) {
    cb();
  },
});
const text = JSON.stringify({ columns: [{ name: 'id', type: 'int4' }, { name: 'customer', type: 'text' }], rows: [{ id: 7, customer: 'c-7', total: '12.50' }], rowCount: 1, truncated: false, masked: [], elapsedMs: 1 });
const parts = ['{"content":[{"type":"text","text":', JSON.stringify(text), '}],"structuredContent":', text, '}'];

async function answer(small: number): Promise<void> {
  const res = new ServerResponse(req);
  res.assignSocket(sink as unknown as Socket);
  res.setHeader('x-request-id', 'c9a7d0e2-7b5e-4f7e-9c1e-1234567890ab');
  await writeFast(res, 7, Promise.resolve(parts), small);
  res.detachSocket(sink as unknown as Socket);
}

async function timeIt(f: () => Promise<void>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < N; i++) await f();
  return ((performance.now() - t) * 1000) / N;
}
function timeSync(f: () => void): number {
  const t = performance.now();
  for (let i = 0; i < N; i++) f();
  return ((performance.now() - t) * 1000) / N;
}

const token = 'pgw_' + 'a'.repeat(43);
const rows: Record<string, number[]> = { 'answer: one string': [], 'answer: Buffer per part, writev': [], 'digest: crypto.hash': [], 'digest: createHash': [] };
for (let r = 0; r < ROUNDS; r++) {
  rows['answer: one string']!.push(await timeIt(() => answer(Number.POSITIVE_INFINITY)));
  rows['answer: Buffer per part, writev']!.push(await timeIt(() => answer(-1)));
  rows['digest: crypto.hash']!.push(timeSync(() => void credentialDigest(token)));
  rows['digest: createHash']!.push(timeSync(() => void createHash('sha256').update(token, 'utf8').digest()));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
console.log(`crypto.hash available: ${typeof hash === 'function'}; ${ROUNDS} rounds × ${N}`);
for (const [name, xs] of Object.entries(rows)) console.log(`${name.padEnd(34)} ${median(xs).toFixed(2)} µs`);
