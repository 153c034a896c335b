/**
 * The audit sink: record() on the hot path, a single async writer behind a bounded queue.
 *
 * Guarantees:
 * - record() is synchronous and O(1) in the queue length: it snapshots the event and pushes it.
 *   Sequence numbers, scrubbing, canonical JSON and sha256 happen in the writer, in FIFO order,
 *   so the chain order is the record() order.
 * - The chain (seq, prev) continues across restarts (the file tail is read on open) and across
 *   rotated files; records are never reordered, duplicated or torn by a retry. Several processes
 *   may share one file: each batch is encoded under the file's inter-process lock, after the
 *   record the file ends with (file-target.ts, lock.ts), so they keep one chain.
 * - durable(event) resolves only once the record is written (and synced under fsync: always):
 *   the write path awaits it before a write reaches the database.
 * - Failure policy: `fail-closed` → accepting() is false while the sink cannot write, and
 *   record() throws AUDIT_UNAVAILABLE when it cannot keep the event (queue full, closed);
 *   events already accepted are kept and written once the sink recovers. `drop` → calls keep
 *   flowing; records that do not fit are counted as dropped. Either way a dropped run of records
 *   leaves an `audit_gap` record (with `dropped: n`) in the chain where they would have been.
 * - A failing sink is retried with exponential backoff; errors are exposed sanitized (code and
 *   operation only, no path and no data).
 * - With audit.hmac_key every record is keyed (HMAC-SHA-256, keyed.ts), so an attacker who can
 *   write the file but does not hold the key cannot edit records and recompute the chain. The key
 *   is never logged, written or exposed in stats; only its public key_id is logged at start-up.
 *   A keyed file is continued keyed on restart and rotation; an unkeyed sink refuses to continue
 *   it (AUDIT_TAIL_KEYED) instead of writing a downgrade.
 * - record() (reads, refusals) is written in batches: an idle writer waits up to COALESCE_MS for
 *   more records before it writes, so one lock and one write serve every record of that window.
 *   durable() is never delayed: its record (and whatever is queued before it) is written at once.
 * Does not: make records durable before record() returns (it is asynchronous by design; a kill -9
 *   loses the records of the current coalescing window and the in-flight batch; use durable() for
 *   records that must be on disk before acting), or protect an UNKEYED log against an
 *   attacker who can rewrite it, or any log against removal of its last records (see
 *   docs/audit.md on anchoring).
 * Size: the file (~570 lines) is one state machine, QueuedAuditSink: queue, batch, lease of the
 * writer, durability waiters, failure and recovery share its fields, and the guarantees above are
 * properties of their interplay (a batch put back on failure, a durable() that never waits for the
 * coalescing window), reviewed by reading it whole. Choosing a sink is setup.ts, the file itself
 * file-target.ts, a record's bytes record.ts.
 */
import type { AuditConfig } from '../config/schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import { AuditKey } from './keyed.js';
import { encodeEvent, snapshotEvent, type BuildOptions, type PendingEvent } from './record.js';
import { PartialWriteError, type DiskPosition, type Target } from './targets.js';
import { GENESIS_PREV, type AuditEvent, type AuditLogger, type AuditSinkKind, type AuditSinkStats } from './types.js';

/** Event-loop time one batch may spend encoding before the writer yields (at least one record). */
const BATCH_BUDGET_MS = 2;
/**
 * How long an idle writer lets a record() wait for company before it writes. Every write of the
 * file sink has a fixed cost (the inter-process lock or its lease, a write(2), a timer, the
 * writer's promises): at one call at a time that was once most of the server's CPU per call.
 * Records that arrive within this window share one write. durable() (writes), flush() and close()
 * never wait for it.
 */
export const COALESCE_MS = 5;

export interface AuditSink {
  readonly kind: AuditSinkKind;
  /** The file sink's absolute path (for operator messages at start-up only). */
  readonly path?: string;
  /** Enqueue one record. Throws GatewayError(AUDIT_UNAVAILABLE) only under fail-closed when the event cannot be kept. */
  record(event: AuditEvent): void;
  /**
   * Record and wait until the record is written to the sink (write(2) returned: it survives a
   * kill -9 of this process; with fsync: always, also synced). Rejects with AUDIT_UNAVAILABLE when
   * the sink is not accepting, drops the record, or has not written it within `timeoutMs`
   * (default audit.flush_timeout_ms) — the caller must then not act (a write must not run).
   */
  durable(event: AuditEvent, timeoutMs?: number): Promise<void>;
  /** False when new calls must be refused (fail-closed and the sink is failing, full, or closed). */
  accepting(): boolean;
  stats(): AuditSinkStats;
  /** Resolves after the first open attempt (whether it worked: see stats().healthy). */
  ready(): Promise<void>;
  /** Wait until every accepted record is written; false on timeout. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Stop accepting, flush within audit.flush_timeout_ms, close the file. */
  close(): Promise<void>;
}

export interface AuditSinkOptions {
  /** Server transport: under stdio, stdout is the MCP channel and the stdout sink is refused. */
  transport?: 'http' | 'stdio';
  /** Base for a relative audit.path (default: process.cwd()). */
  cwd?: string;
  /** Environment for the per-user state directory (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Retry backoff (tests shorten it). */
  retry?: { initialMs: number; maxMs: number };
  /** Largest number of records per write. */
  maxBatch?: number;
}

/** Sanitized error text: an errno-style code and the operation, never a message (messages carry paths). */
export function describeError(err: unknown, op: string): string {
  const e = err as { code?: unknown; syscall?: unknown } | null;
  const code = typeof e?.code === 'string' && /^[A-Z0-9_]{2,40}$/.test(e.code) ? e.code : 'ERROR';
  const syscall = typeof e?.syscall === 'string' && /^[a-z_]{2,20}$/.test(e.syscall) ? e.syscall : op;
  return `${code} (${syscall})`;
}

interface Batch {
  lines: string[];
  seqs: number[];
  hashes: string[];
  /** The events encoded, to be put back when the write fails. */
  events: PendingEvent[];
}

export class QueuedAuditSink implements AuditSink {
  readonly path?: string;
  private queue: PendingEvent[] = [];
  private pending: Batch | null = null;
  private seq = 0;
  private lastHash = GENESIS_PREV;
  private opened = false;
  private everOpened = false;
  private healthy = true;
  private closed = false;
  private stopped = false;
  private written = 0;
  private dropped = 0;
  private failed = 0;
  private lastError: string | null = null;
  private running: Promise<void> | null = null;
  private scheduled = false;
  /** Set while a non-urgent start of the writer waits out COALESCE_MS. */
  private coalesceTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private wake: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  /** durable() callers whose record is written and waits for the next fsync (fsync: always). */
  private awaitingSync: ((err: Error | null) => void)[] = [];
  private dirty = false;
  private syncTimer: NodeJS.Timeout | null = null;
  private needSync = false;
  private readonly firstOpen: Promise<void>;
  private resolveFirstOpen!: () => void;
  private readonly failClosed: boolean;
  private readonly cap: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly maxBatch: number;
  /** audit.hmac_key as a KeyObject holder; undefined: unkeyed sha256 records. */
  private readonly key: AuditKey | undefined;
  private readonly buildOptions: BuildOptions;
  /** The foreign key id (or null: unkeyed) last warned about, so a shared file warns once per change. */
  private warnedKeyId: string | null | undefined = undefined;
  private warnedBehind = false;

  constructor(
    readonly kind: 'file' | 'stdout' | 'stderr',
    private readonly target: Target,
    private readonly config: AuditConfig,
    private readonly logger: AuditLogger,
    options: AuditSinkOptions,
    /** The file path, for operator logs only (never in stats or agent-visible errors). */
    private readonly location?: string,
  ) {
    if (location !== undefined) this.path = location;
    this.failClosed = config.on_failure === 'fail-closed';
    this.cap = config.queue_size;
    this.retry = options.retry ?? { initialMs: 100, maxMs: 5_000 };
    this.backoffMs = this.retry.initialMs;
    this.maxBatch = options.maxBatch ?? 128; // bounds event-loop time spent encoding one batch
    this.key = config.hmac_key === undefined ? undefined : new AuditKey(config.hmac_key);
    this.buildOptions = { includeRawSql: config.include_raw_sql, key: this.key };
    if (this.key) logger.info({ audit: { sink: kind, alg: 'hmac-sha256', keyId: this.key.keyId } }, 'audit records are keyed (HMAC-SHA-256)');
    this.firstOpen = new Promise((r) => {
      this.resolveFirstOpen = r;
    });
    this.kick(true);
  }

  // ------------------------------------------------------------------ hot path

  record(event: AuditEvent): void {
    this.enqueue(event);
  }

  durable(event: AuditEvent, timeoutMs = this.config.flush_timeout_ms): Promise<void> {
    if (!this.accepting()) return Promise.reject(new GatewayError('AUDIT_UNAVAILABLE'));
    let ev: PendingEvent | undefined;
    try {
      ev = this.enqueue(event, true);
    } catch (err) {
      return Promise.reject(err);
    }
    // under on_failure: drop the record may have been dropped: nothing to wait for, and nothing written
    if (ev === undefined) return Promise.reject(new GatewayError('AUDIT_UNAVAILABLE'));
    const pending = ev;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => settle(new GatewayError('AUDIT_UNAVAILABLE')), timeoutMs);
      timer.unref();
      function settle(err: Error | null): void {
        clearTimeout(timer);
        delete pending.onWritten;
        if (err) reject(err);
        else resolve();
      }
      pending.onWritten = settle;
    });
  }

  /** `urgent`: start the writer now (durable()), instead of after the coalescing window. */
  private enqueue(event: AuditEvent, urgent = false): PendingEvent | undefined {
    if (this.closed || this.queue.length >= this.cap) {
      this.noteDrop();
      if (this.failClosed) throw new GatewayError('AUDIT_UNAVAILABLE');
      return undefined;
    }
    const ev = snapshotEvent(event);
    this.queue.push(ev);
    this.kick(urgent);
    return ev;
  }

  accepting(): boolean {
    if (!this.failClosed) return true;
    // Not before the first open succeeded: no call may run before its record can be written.
    return !this.closed && this.everOpened && this.healthy && this.queue.length < this.cap;
  }

  stats(): AuditSinkStats {
    return {
      sink: this.kind,
      queued: this.queue.length + (this.pending?.lines.length ?? 0),
      written: this.written,
      dropped: this.dropped,
      failed: this.failed,
      lastError: this.lastError,
      healthy: this.healthy,
      lastSeq: this.seq,
      lastHash: this.lastHash,
    };
  }

  /** Count a lost record and leave (or extend) a gap marker at the end of the queue. */
  private noteDrop(): void {
    this.dropped += 1;
    if (this.closed) return;
    const last = this.queue[this.queue.length - 1];
    if (last && last.decision === 'audit_gap' && last.dropped !== undefined) last.dropped += 1;
    else {
      // may exceed the cap by one marker; consecutive drops share it
      this.queue.push({ decision: 'audit_gap', ts: Date.now(), reasons: ['AUDIT_RECORDS_DROPPED'], dropped: 1 });
      this.kick();
    }
  }

  // ------------------------------------------------------------------ lifecycle

  ready(): Promise<void> {
    return this.firstOpen;
  }

  async flush(timeoutMs = this.config.flush_timeout_ms): Promise<boolean> {
    if (this.isIdle()) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((r) => this.idleWaiters.push(() => r(true)));
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    this.kick(true);
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed && this.stopped) return;
    this.closed = true;
    const flushed = await this.flush();
    this.stopped = true;
    this.wake?.();
    if (this.syncTimer) clearTimeout(this.syncTimer);
    if (this.coalesceTimer) clearTimeout(this.coalesceTimer);
    this.coalesceTimer = null;
    await this.running?.catch(() => undefined);
    if (!flushed) {
      const lost = this.queue.filter((e) => e.decision !== 'audit_gap').length + (this.pending?.lines.length ?? 0);
      this.dropped += lost;
      this.logger.error({ audit: { lost, lastError: this.lastError } }, 'audit sink closed before every record was written');
    }
    try {
      if (this.opened && this.config.fsync !== 'never') await this.target.sync();
    } catch (err) {
      this.logger.warn({ audit: { error: describeError(err, 'fsync') } }, 'audit fsync at close failed');
    }
    await this.target.close().catch(() => undefined);
    this.opened = false;
    this.resolveFirstOpen();
  }

  // ------------------------------------------------------------------ writer

  private isIdle(): boolean {
    return this.queue.length === 0 && this.pending === null;
  }

  /**
   * Start the writer unless it runs or is scheduled. Not urgent: after COALESCE_MS, so the
   * records of that window share one write (an urgent kick cuts a pending wait short). Urgent, or
   * while the sink is not open and healthy: on the next turn (setImmediate still lets the current
   * tick's record() calls join the batch).
   */
  private kick(urgent = false): void {
    if (this.running || this.stopped) return;
    if (this.scheduled) {
      if (!urgent || this.coalesceTimer === null) return;
      clearTimeout(this.coalesceTimer);
      this.coalesceTimer = null;
    }
    this.scheduled = true;
    const start = (): void => {
      this.scheduled = false;
      this.coalesceTimer = null;
      if (this.running || this.stopped) return;
      this.running = this.run().finally(() => {
        this.running = null;
        if (!this.stopped && (this.queue.length > 0 || !this.healthy || this.needSync)) this.kick();
      });
    };
    if (urgent || !this.opened || this.mustHurry()) setImmediate(start);
    else this.coalesceTimer = setTimeout(start, COALESCE_MS);
  }

  /**
   * Whether the writer must not wait out the coalescing window: a durable() or flush() caller
   * waits, the sink is closing or recovering, a sync is due, or a full batch is already queued.
   */
  private mustHurry(): boolean {
    if (this.closed || !this.healthy || this.needSync || this.idleWaiters.length > 0 || this.queue.length >= this.maxBatch) return true;
    for (const ev of this.queue) if (ev.onWritten !== undefined) return true;
    return false;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.opened && !(await this.tryOpen())) {
        await this.backoff();
        continue;
      }
      if (this.queue.length === 0) {
        if (this.needSync) await this.syncNow();
        this.healthyAgain();
        this.notifyIdle();
        return;
      }
      if (!(await this.writeNext())) {
        await this.backoff();
        continue;
      }
      // Records that arrived during that write wait out a coalescing window of their own (kick()
      // from run()'s caller), unless someone waits on them or a full batch is queued.
      if (this.queue.length > 0 && !this.mustHurry()) return;
    }
  }

  private async tryOpen(): Promise<boolean> {
    try {
      const { state, repairedBytes } = await this.target.open();
      this.opened = true;
      if (!this.everOpened) {
        this.everOpened = true;
        if (state) {
          this.seq = state.seq;
          this.lastHash = state.hash;
          this.noteKeyChange(state.keyId, state.seq + 1);
        }
        this.resolveFirstOpen();
      }
      if (repairedBytes > 0) {
        this.logger.warn({ audit: { repairedBytes } }, 'audit file ended with a torn record; it was cut at the last complete line');
        this.queue.unshift({ decision: 'audit_gap', ts: Date.now(), reasons: ['AUDIT_TORN_RECORD_REMOVED'] });
      }
      return true;
    } catch (err) {
      this.noteFailure(err, 'open');
      if (!this.everOpened) this.resolveFirstOpen();
      return false;
    }
  }

  /**
   * Encode the next batch after `position` (the chain's end on disk, read under the file lock; or
   * undefined: continue this process's own chain). Taken from the queue now; put back in front
   * when the write fails, to be encoded again after whatever the file holds then.
   */
  private buildBatch(position: DiskPosition | undefined): Batch {
    const batch: Batch = { lines: [], seqs: [], hashes: [], events: [] };
    let seq = this.seq;
    let prev = this.lastHash;
    if (position !== undefined && position.own !== true) {
      const disk = position.state;
      // Every process appends to one chain, so the file's end is never behind what this process
      // wrote — unless records were removed under it. Then continue from our own last record, so
      // the removal shows in `verify` (a fresh genesis would hide it).
      if (disk !== null && disk.seq >= this.seq) {
        seq = disk.seq;
        prev = disk.hash;
        this.noteKeyChange(disk.keyId, disk.seq + 1);
      } else if (this.seq > 0 && !this.warnedBehind) {
        this.warnedBehind = true;
        this.logger.warn({ audit: { lastSeq: this.seq, fileSeq: disk?.seq ?? 0 } }, 'audit file lost records this process wrote (removed or truncated); the chain continues from the last one written');
      }
      if (position.repairedBytes > 0) {
        this.logger.warn({ audit: { repairedBytes: position.repairedBytes } }, 'audit file ended with a torn record; it was cut at the last complete line');
        this.queue.unshift({ decision: 'audit_gap', ts: Date.now(), reasons: ['AUDIT_TORN_RECORD_REMOVED'] });
      }
    }
    // Bounded by count AND time: a record may compute its statement's fingerprint and normalized
    // text here (≈ 0.1–0.5 ms for a long new statement, moved off the request path by the guard),
    // so a burst must not hold the event loop (or the file lock) for a whole batch of them.
    const started = performance.now();
    let taken = 0;
    while (taken < this.queue.length && taken < this.maxBatch) {
      const ev = this.queue[taken] as PendingEvent;
      taken += 1;
      seq += 1;
      const { line, hash } = encodeEvent(ev, seq, prev, this.buildOptions);
      batch.lines.push(line);
      batch.seqs.push(seq);
      batch.hashes.push(hash);
      batch.events.push(ev);
      prev = hash;
      if (performance.now() - started >= BATCH_BUDGET_MS) break;
    }
    this.queue = taken === this.queue.length ? [] : this.queue.slice(taken);
    this.pending = batch;
    return batch;
  }

  /** Write the next batch; true when it is fully written. */
  private async writeNext(): Promise<boolean> {
    this.pending = null;
    try {
      await this.target.append((position) => this.buildBatch(position).lines);
      const batch = this.pending as Batch | null;
      this.pending = null;
      if (batch) this.commit(batch, batch.lines.length);
      this.dirty = true;
      if (this.config.fsync === 'always') await this.syncNow();
      else if (this.config.fsync === 'interval') this.scheduleSync();
      this.healthyAgain();
      if (this.isIdle()) this.notifyIdle();
      return true;
    } catch (err) {
      this.opened = false;
      const batch = this.pending as Batch | null;
      this.pending = null;
      let committed = 0;
      if (err instanceof PartialWriteError) {
        committed = err.committed;
        this.noteFailure(err.error, 'write');
      } else this.noteFailure(err, 'write');
      if (batch) {
        this.commit(batch, committed);
        // not written: back to the front of the queue, encoded again after the file's end next time
        this.queue = batch.events.slice(committed).concat(this.queue);
      }
      return false;
    }
  }

  /** Continuing a chain written under another key, or unkeyed: say so (key ids are public, keys never logged). */
  private noteKeyChange(previousKeyId: string | null, from: number): void {
    if (!this.key || previousKeyId === this.key.keyId) return;
    // once per change of the tail's key (another process may keep writing under another key)
    if (this.warnedKeyId === previousKeyId) return;
    this.warnedKeyId = previousKeyId;
    if (previousKeyId === null) {
      // warn: this line, shipped with the logs, is the outside record of where keying began
      this.logger.warn(
        { audit: { keyId: this.key.keyId, keyedFromSeq: from } },
        'audit log continues keyed on an unkeyed file: earlier records are unkeyed (verify with --key-file --allow-unkeyed-prefix and check keyedFromSeq)',
      );
    } else {
      this.logger.warn(
        { audit: { keyId: this.key.keyId, previousKeyId, keyedFromSeq: from } },
        'audit key changed: verify the log with both keys (--key-file for each)',
      );
    }
  }

  private commit(batch: Batch, n: number): void {
    if (n <= 0) return;
    this.seq = batch.seqs[n - 1] as number;
    this.lastHash = batch.hashes[n - 1] as string;
    this.written += n;
    const synced = this.config.fsync !== 'always';
    for (let i = 0; i < n; i++) {
      const ev = batch.events[i] as PendingEvent;
      if (ev.onWritten === undefined) continue;
      // fsync: always — durable() waits for the sync too (see syncNow)
      if (synced) ev.onWritten(null);
      else this.awaitingSync.push(ev.onWritten);
      delete ev.onWritten;
    }
  }

  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.needSync = true;
      this.kick(true);
    }, this.config.fsync_interval_ms);
    this.syncTimer.unref();
  }

  private async syncNow(): Promise<void> {
    this.needSync = false;
    if (!this.dirty || !this.opened) return;
    const waiting = this.awaitingSync;
    this.awaitingSync = [];
    try {
      await this.target.sync();
      this.dirty = false;
      for (const w of waiting) w(null);
    } catch (err) {
      this.opened = false;
      this.noteFailure(err, 'fsync');
      // written but not known to be on disk: the caller must not act on it
      for (const w of waiting) w(new GatewayError('AUDIT_UNAVAILABLE'));
    }
  }

  private noteFailure(err: unknown, op: string): void {
    this.failed += 1;
    this.lastError = describeError(err, op);
    if (this.healthy) {
      this.healthy = false;
      this.logger.error(
        { audit: { sink: this.kind, ...(this.location ? { path: this.location } : {}), error: this.lastError, onFailure: this.config.on_failure } },
        this.failClosed ? 'audit sink failing: refusing new calls until it recovers' : 'audit sink failing: records may be dropped',
      );
    }
  }

  private healthyAgain(): void {
    this.backoffMs = this.retry.initialMs;
    if (this.healthy || !this.opened) return;
    this.healthy = true;
    this.logger.info({ audit: { sink: this.kind, dropped: this.dropped, failed: this.failed } }, 'audit sink recovered');
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private backoff(): Promise<void> {
    const ms = this.backoffMs;
    this.backoffMs = Math.min(this.retry.maxMs, this.backoffMs * 2);
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
