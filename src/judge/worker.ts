/**
 * A judging worker (worker_threads): the guard's parse + walk + policy, the masking plan
 * (walk, rewrite, deparse, re-parse) and the statement's fingerprint/normalized text, for one
 * statement at a time, off the main thread. See pool.ts for who sends what and why.
 *
 * Guarantees: answers every judge message with exactly one result or failed message, in order;
 * holds no decision cache (the main thread caches); keeps one catalog snapshot per database.
 * Runs at a lower scheduling priority than the main thread where the OS allows (workerData.nice).
 * Does not: do I/O, log, or enforce a time budget (the pool terminates a worker that overruns).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Guard, loadParser } from '../guard/index.js';
import { Masker } from '../mask/index.js';
import type { CatalogSnapshot } from '../guard/types.js';
import type { DecisionData, FromWorker, JudgeMessage, JudgeResult, ToWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('src/judge/worker.ts runs as a worker thread only');

let guard: Guard | undefined;
let masker = new Masker();
const catalogs = new Map<string, { id: number; snapshot: CatalogSnapshot }>();

function send(msg: FromWorker): void {
  port?.postMessage(msg);
}

function judge(msg: JudgeMessage): void {
  if (guard === undefined) throw new Error('judging worker used before it was configured');
  if (msg.catalog !== undefined) catalogs.set(msg.req.database, { id: msg.catalogId, snapshot: msg.catalog });
  const held = catalogs.get(msg.req.database);
  if (held === undefined || held.id !== msg.catalogId) throw new Error('judging worker lacks the catalog snapshot it was asked to use');
  const req = { ...msg.req, catalog: held.snapshot };
  const d = guard.decide(req);
  // spreading reads the lazy fingerprint/normalized getters: both are computed here, off the main thread
  const decision: DecisionData = { ...d, cached: false };
  let mask;
  if (msg.mask && d.decision !== 'block' && d.stmt !== undefined && req.policy !== undefined) {
    mask = masker.plan({ decision: d, policy: req.policy, catalog: held.snapshot, searchPath: req.searchPath });
  }
  const { stmt, ...rest } = decision;
  const result: JudgeResult = { decision: rest, ...(mask !== undefined ? { mask } : {}) };
  send({ type: 'result', id: msg.id, json: JSON.stringify(result), ...(stmt !== undefined && d.decision !== 'block' ? { stmt: JSON.stringify(stmt) } : {}) });
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'configure') {
    // the worker caches nothing: every decision it makes is cached by the main thread's guard
    guard = new Guard({ ...msg.guard, cacheSize: 0 });
    masker = new Masker({ hashKey: msg.hashKey });
    return;
  }
  try {
    judge(msg);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'failed', id: msg.id, error: { name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) } });
  }
});

/**
 * Lower this thread's scheduling priority (Linux: a thread is a task with its own nice value;
 * /proc/thread-self names its id). With cores contended, the main thread — HTTP, /livez, the
 * audit writer, every short statement — then runs before judging long statements. Best effort:
 * elsewhere, or when refused, the worker runs at the process's priority.
 */
function lowerPriority(increment: number): void {
  if (increment <= 0) return;
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    if (!Number.isInteger(tid) || tid <= 0) return;
    setPriority(tid, Math.min(19, getPriority(tid) + increment));
  } catch {
    // not Linux, or not permitted: keep the process's priority
  }
}

lowerPriority(Number((workerData as { nice?: number } | null)?.nice ?? 0));
await loadParser();
await Masker.ready();
send({ type: 'ready' });
