/**
 * The judging pool: long statements are judged (parse, walk, policy, masking plan, fingerprint)
 * on worker threads, so that no statement an agent sends can hold the event loop (and with it
 * /livez, every other agent's call and the audit writer) for more than a bounded time.
 *
 * Why worker_threads directly and not a pool library (piscina): each worker keeps per-database
 * catalog snapshots that are sent to it once per catalog version (a catalog of a real database
 * is thousands of functions and types: cloning it per call would put the cost back on the main
 * thread), which needs per-worker routing a task pool does not offer; the rest (bounded queue,
 * terminate-and-replace on an overrun budget) is ~200 lines, and no dependency is added to the
 * install (issue #13 counts its size).
 *
 * Guarantees:
 * - the warm path stays on the main thread: a cached decision is answered without a worker;
 *   statements shorter than `minBytes` (UTF-8) are judged inline as before (cheap: ≈ 35 µs for a
 *   short query, a few ms at the threshold), so only long, cold statements pay a worker round trip;
 * - a statement whose judging runs longer than `budgetMs` is refused STATEMENT_TOO_COMPLEX (fail
 *   closed); its worker is terminated and replaced, so the budget also bounds the worker's time;
 * - at most `workers` statements are judged at once and at most `queue` wait; past that the call
 *   is refused GUARD_BUSY (retryable) at once; neither refusal is cached;
 * - a worker that fails (throws, runs out of its heap, exits) fails the call closed with
 *   INTERNAL_ERROR; the decision carries the cause (non-enumerable `cause`), which the gateway
 *   logs once with the request id and stack (no SQL text);
 * - decisions and masking plans made by a worker are cached by the main thread's guard and
 *   masker exactly as if made there (same keys), so later calls take the warm path;
 * - workers run at a lower scheduling priority (nice +WORKER_NICE on Linux), so a contended
 *   machine serves the main thread first;
 * - workers start lazily (a gateway that never sees a long statement starts none) and are unref'd;
 *   close() terminates them.
 * Does not: bound the main thread's own work after judging (the write planner has its budget,
 * src/guard/write; the masked rewrite is bounded by MAX_REWRITE_BYTES), nor make a refusal's
 * timing independent of the statement (how long judging takes is visible to the caller anyway).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GuardOptions } from '../guard/index.js';
import { digestPlaceholder } from '../guard/parse.js';
import { reason, type Reason } from '../guard/reasons.js';
import type { CatalogSnapshot, Decision, GuardRequest } from '../guard/types.js';
import type { MaskPlan, MaskRequest } from '../mask/index.js';
import type { FromWorker, JudgeMessage, JudgeResult, ToWorker } from './protocol.js';

export interface JudgingPoolOptions {
  /** Worker threads (0: judge everything inline, on the main thread). */
  workers: number;
  /** Statements waiting for a worker at most; more are refused GUARD_BUSY. */
  queue: number;
  /** Longest a worker may judge one statement (ms); longer is STATEMENT_TOO_COMPLEX. */
  budgetMs: number;
  /** Statements of at least this many UTF-8 bytes are judged on a worker (when not cached). */
  minBytes: number;
  /** The guard's limits (the same the main thread's guard uses). */
  guard: GuardOptions;
  /** masking.hash_key. */
  hashKey?: string | undefined;
  /** Old-generation heap of each worker (MB). Default 256. */
  workerHeapMb?: number;
  /** Nice increment of the worker threads (Linux; default WORKER_NICE). */
  workerNice?: number;
  logger?: { error(obj: object, msg?: string): void };
}

/** The main thread's guard as the pool uses it (src/guard Guard). */
export interface PoolGuard {
  decide(req: GuardRequest): Decision;
  lookup?(req: GuardRequest): Decision | undefined;
  remember?(req: GuardRequest, decision: Decision): Decision | undefined;
}

/** The main thread's masker as the pool uses it (src/mask Masker). */
export interface PoolMasker {
  remember(req: MaskRequest, plan: MaskPlan): void;
}

export interface JudgingStats {
  workers: number;
  busy: number;
  queued: number;
  judged: number;
  overBudget: number;
  refusedBusy: number;
  failed: number;
}

type Outcome =
  | { kind: 'result'; decision: Decision; mask?: MaskPlan }
  | { kind: 'over-budget' }
  | { kind: 'failed'; error: { name: string; message: string; stack?: string } };

interface Job {
  id: number;
  req: GuardRequest;
  mask: boolean;
  resolve: (outcome: Outcome) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
  /** database → id of the catalog snapshot this worker holds. */
  catalogs: Map<string, number>;
  /** The worker's last 'error' event (reported when it exits). */
  error?: Error;
}

/**
 * Workers run this much nicer than the process (Linux): the main thread's work (HTTP, /livez, the
 * audit writer, short statements) runs first when cores are contended; judging takes what is left.
 */
export const WORKER_NICE = 10;

/** Consecutive workers that die before becoming ready after which the pool judges inline. */
const MAX_START_FAILURES = 3;

export class JudgingPool {
  private options: JudgingPoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly catalogIds = new WeakMap<CatalogSnapshot, number>();
  private nextCatalogId = 1;
  private nextJobId = 1;
  private startFailures = 0;
  private broken = false;
  private closed = false;
  private readonly counts = { judged: 0, overBudget: 0, refusedBusy: 0, failed: 0 };

  constructor(options: JudgingPoolOptions) {
    this.options = options;
  }

  /** Whether `sql` would be judged on a worker when not cached. */
  offloads(sql: string): boolean {
    const min = this.options.minBytes;
    if (this.options.workers <= 0 || this.broken || this.closed) return false;
    if (sql.length * 3 < min) return false;
    return sql.length >= min || Buffer.byteLength(sql, 'utf8') >= min;
  }

  /**
   * Judge one request: from the guard's cache, inline (short text), or on a worker. Never
   * rejects. `masker` (when the policy has masks) receives the worker's masking plan.
   */
  async decide(req: GuardRequest, guard: PoolGuard, masker?: PoolMasker): Promise<Decision> {
    if (!this.offloads(req.sql) || guard.lookup === undefined || guard.remember === undefined) return guard.decide(req);
    const hit = guard.lookup(req);
    if (hit !== undefined) return hit;
    const t0 = performance.now();
    const running = this.slots.filter((s) => s.job !== undefined).length;
    if (running + this.queue.length >= this.options.workers + this.options.queue) {
      this.counts.refusedBusy++;
      return refusal(req.sql, t0, reason('GUARD_BUSY'));
    }
    const outcome = await new Promise<Outcome>((resolve) => {
      this.queue.push({ id: this.nextJobId++, req, mask: masker !== undefined, resolve });
      this.pump();
    });
    if (outcome.kind === 'over-budget') {
      this.counts.overBudget++;
      return refusal(
        req.sql,
        t0,
        reason('STATEMENT_TOO_COMPLEX', `Judging the statement took longer than the gateway allows (${this.options.budgetMs} ms).`, 'Send a shorter or simpler statement: fewer relations, expressions or terms.'),
      );
    }
    if (outcome.kind === 'failed') {
      this.counts.failed++;
      // the cause travels with the decision: the gateway logs it once, with the request id
      const d = refusal(req.sql, t0, reason('INTERNAL_ERROR', 'The guard failed to judge the statement.'));
      const cause = Object.assign(new Error(outcome.error.message), { name: outcome.error.name, stack: outcome.error.stack ?? `${outcome.error.name}: ${outcome.error.message}` });
      Object.defineProperty(d, 'cause', { value: cause });
      return d;
    }
    this.counts.judged++;
    const decision = outcome.decision;
    Object.defineProperty(decision, 'identity', { value: { fingerprint: decision.fingerprint, normalized: decision.normalized } });
    const cached = decision.reasons.some((r) => r.code === 'INTERNAL_ERROR') ? undefined : guard.remember(req, decision);
    if (outcome.mask !== undefined && masker !== undefined && req.policy !== undefined) {
      // keyed by the decision objects too, so that answering the plan never parses the tree
      for (const d of cached !== undefined ? [decision, cached] : [decision]) {
        masker.remember({ decision: d, policy: req.policy, catalog: req.catalog, searchPath: req.searchPath }, outcome.mask);
      }
    }
    return decision;
  }

  /** New guard limits or masking key (reload): workers judge the next statement with them. */
  configure(guard: GuardOptions, hashKey: string | undefined): void {
    this.options = { ...this.options, guard, hashKey };
    for (const slot of this.slots) slot.worker.postMessage(this.configureMessage());
  }

  stats(): JudgingStats {
    return { workers: this.slots.length, busy: this.slots.filter((s) => s.job !== undefined).length, queued: this.queue.length, ...this.counts };
  }

  /** Terminate every worker; queued and running statements fail closed. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const job of this.queue.splice(0)) job.resolve({ kind: 'failed', error: { name: 'Error', message: 'the judging pool is closed' } });
    await Promise.all(
      slots.map((s) => {
        if (s.timer) clearTimeout(s.timer);
        s.job?.resolve({ kind: 'failed', error: { name: 'Error', message: 'the judging pool is closed' } });
        return s.worker.terminate();
      }),
    );
  }

  // ------------------------------------------------------------------ internals

  private configureMessage(): ToWorker {
    return { type: 'configure', guard: this.options.guard, hashKey: this.options.hashKey };
  }

  /** Hand queued jobs to idle ready workers; start workers up to the limit while jobs wait. */
  private pump(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.find((s) => s.ready && s.job === undefined);
      if (idle !== undefined) {
        this.dispatch(idle, this.queue.shift() as Job);
        continue;
      }
      const starting = this.slots.filter((s) => !s.ready).length;
      if (this.slots.length < this.options.workers && starting < this.queue.length) {
        this.spawn();
        continue;
      }
      break;
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    const { catalog, ...rest } = job.req;
    let catalogId = this.catalogIds.get(catalog);
    if (catalogId === undefined) {
      catalogId = this.nextCatalogId++;
      this.catalogIds.set(catalog, catalogId);
    }
    const send = slot.catalogs.get(job.req.database) !== catalogId;
    const msg: JudgeMessage = { type: 'judge', id: job.id, req: rest, catalogId, mask: job.mask, ...(send ? { catalog } : {}) };
    try {
      slot.worker.postMessage(msg);
    } catch (err) {
      job.resolve({ kind: 'failed', error: errorData(err) });
      return;
    }
    slot.catalogs.set(job.req.database, catalogId);
    slot.job = job;
    slot.timer = setTimeout(() => this.overrun(slot), this.options.budgetMs);
  }

  private overrun(slot: Slot): void {
    const job = slot.job;
    slot.job = undefined;
    this.remove(slot);
    void slot.worker.terminate();
    job?.resolve({ kind: 'over-budget' });
    this.pump();
  }

  private spawn(): void {
    const { file, options } = workerEntry();
    const worker = new Worker(file, {
      ...options,
      workerData: { nice: this.options.workerNice ?? WORKER_NICE },
      resourceLimits: { maxOldGenerationSizeMb: this.options.workerHeapMb ?? 256 },
    });
    worker.unref();
    const slot: Slot = { worker, ready: false, catalogs: new Map() };
    this.slots.push(slot);
    worker.postMessage(this.configureMessage());
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err) => {
      slot.error = err;
    });
    worker.on('exit', (code) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      this.pump();
      return;
    }
    const job = slot.job;
    if (job === undefined || job.id !== msg.id) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.job = undefined;
    if (msg.type === 'result') {
      const result = JSON.parse(msg.json) as JudgeResult;
      const decision = result.decision as Decision;
      if (msg.stmt !== undefined) lazyStmt(decision, msg.stmt);
      job.resolve({ kind: 'result', decision, ...(result.mask !== undefined ? { mask: result.mask } : {}) });
    }
    else job.resolve({ kind: 'failed', error: msg.error });
    this.pump();
  }

  private onExit(slot: Slot, code: number): void {
    if (!this.slots.includes(slot)) return; // terminated on purpose (budget, close)
    this.remove(slot);
    if (slot.timer) clearTimeout(slot.timer);
    const error = slot.error !== undefined ? errorData(slot.error) : { name: 'Error', message: `judging worker exited with code ${code}` };
    if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
      // the worker cannot start here (e.g. its script is missing): judge inline from now on
      this.broken = true;
      this.options.logger?.error({ cause: error }, 'judging workers fail to start: long statements are judged on the main thread');
      for (const job of this.queue.splice(0)) job.resolve({ kind: 'failed', error });
    }
    slot.job?.resolve({ kind: 'failed', error });
    slot.job = undefined;
    this.pump();
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }
}

/** Define `stmt` as a getter that parses `json` on first read (and memoizes it). */
function lazyStmt(decision: Decision, json: string): void {
  let tree: Decision['stmt'];
  Object.defineProperty(decision, 'stmt', {
    enumerable: true,
    configurable: false,
    get: () => (tree ??= JSON.parse(json) as Decision['stmt']),
  });
}

function errorData(err: unknown): { name: string; message: string; stack?: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) };
}

/** A refusal made by the pool itself (never cached): no parse, a digest placeholder identity. */
function refusal(sql: string, t0: number, r: Reason): Decision {
  const ph = digestPlaceholder(sql);
  return {
    decision: 'block',
    kind: 'unknown',
    relations: [],
    functions: [],
    reasons: [r],
    observed: false,
    fingerprint: ph.fingerprint,
    normalized: ph.normalized,
    elapsedUs: Math.round((performance.now() - t0) * 1000),
    cached: false,
    statementCount: 0,
    needsCatalogRefresh: false,
  };
}

/**
 * The worker's entry: dist/judge/worker.js when running compiled; from the TypeScript sources
 * (tsx, vitest) a bootstrap that registers tsx's loader in the worker first.
 */
function workerEntry(): { file: string | URL; options: { eval?: boolean } } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { file: new URL('./worker.js', here), options: {} };
  // the ESM build of tsx's API (require.resolve gives the CommonJS one, which cannot register here)
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./worker.ts', here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry)}); })`;
  return { file: boot, options: { eval: true } };
}
