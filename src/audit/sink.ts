/**
 * The audit sink: record() on the hot path, a single async writer behind a bounded queue.
 *
 * Guarantees:
 * - record() is synchronous and O(1) in the queue length: it snapshots the event and pushes it.
 *   Sequence numbers, scrubbing, canonical JSON and sha256 happen in the writer, in FIFO order,
 *   so the chain order is the record() order.
 * - The chain (seq, prev) continues across restarts (the file tail is read on open) and across
 *   rotated files; records are never reordered, duplicated or torn by a retry.
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
 * Does not: make records durable before record() returns (it is asynchronous by design; use
 *   fsync: always to bound loss to the in-flight batch), or protect an UNKEYED log against an
 *   attacker who can rewrite it, or any log against removal of its last records (see
 *   docs/audit.md on anchoring).
 */
import { resolve as resolvePath } from 'node:path';
import type { AuditConfig } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import { AuditKey } from './keyed.js';
import { buildRecordBody, encodeRecord, snapshotEvent, type BuildOptions, type PendingEvent } from './record.js';
import { FileTarget, PartialWriteError, StreamTarget, type Target } from './targets.js';
import { GENESIS_PREV, type AuditEvent, type AuditLogger, type AuditSinkKind, type AuditSinkStats } from './types.js';

/** Event-loop time one batch may spend encoding before the writer yields (at least one record). */
const BATCH_BUDGET_MS = 2;

export interface AuditSink {
  readonly kind: AuditSinkKind;
  /** Enqueue one record. Throws GatewayError(AUDIT_UNAVAILABLE) only under fail-closed when the event cannot be kept. */
  record(event: AuditEvent): void;
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
  /** Retry backoff (tests shorten it). */
  retry?: { initialMs: number; maxMs: number };
  /** Largest number of records per write. */
  maxBatch?: number;
}

/** Why this sink cannot be used with this transport, or null. Use it in config validation. */
export function auditSinkProblem(audit: Pick<AuditConfig, 'sink'>, transport: 'http' | 'stdio'): string | null {
  if (audit.sink === 'stdout' && transport === 'stdio') {
    return 'audit.sink "stdout" cannot be used with server.transport "stdio": stdout carries the MCP protocol. Use "file" or "stderr".';
  }
  return null;
}

export function createAuditSink(audit: AuditConfig, logger: AuditLogger, options: AuditSinkOptions = {}): AuditSink {
  const problem = auditSinkProblem(audit, options.transport ?? 'http');
  if (problem) throw new Error(problem);
  switch (audit.sink) {
    case 'none':
      logger.warn({ audit: { sink: 'none' } }, 'audit log disabled (audit.sink: none): decisions are not recorded');
      return new NullAuditSink();
    case 'stdout':
      return new QueuedAuditSink('stdout', new StreamTarget(1), audit, logger, options);
    case 'stderr':
      return new QueuedAuditSink('stderr', new StreamTarget(2), audit, logger, options);
    case 'file': {
      const path = resolvePath(options.cwd ?? process.cwd(), audit.path);
      const target = new FileTarget({
        path,
        maxBytes: audit.max_bytes,
        maxFiles: audit.max_files,
        syncOnRotate: audit.fsync !== 'never',
        keyed: audit.hmac_key !== undefined,
      });
      return new QueuedAuditSink('file', target, audit, logger, options, path);
    }
  }
}

/** audit.sink: none — records nothing, always accepts. */
export class NullAuditSink implements AuditSink {
  readonly kind = 'none' as const;
  record(): void {}
  accepting(): boolean {
    return true;
  }
  stats(): AuditSinkStats {
    return { sink: 'none', queued: 0, written: 0, dropped: 0, failed: 0, lastError: null, healthy: true, lastSeq: 0, lastHash: GENESIS_PREV };
  }
  async ready(): Promise<void> {}
  async flush(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
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
}

class QueuedAuditSink implements AuditSink {
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
  private backoffMs: number;
  private wake: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
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

  constructor(
    readonly kind: 'file' | 'stdout' | 'stderr',
    private readonly target: Target,
    private readonly config: AuditConfig,
    private readonly logger: AuditLogger,
    options: AuditSinkOptions,
    /** The file path, for operator logs only (never in stats or agent-visible errors). */
    private readonly location?: string,
  ) {
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
    this.kick();
  }

  // ------------------------------------------------------------------ hot path

  record(event: AuditEvent): void {
    if (this.closed || this.queue.length >= this.cap) {
      this.noteDrop();
      if (this.failClosed) throw new GatewayError('AUDIT_UNAVAILABLE');
      return;
    }
    this.queue.push(snapshotEvent(event));
    this.kick();
  }

  accepting(): boolean {
    if (!this.failClosed) return true;
    return !this.closed && this.healthy && this.queue.length < this.cap;
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
    this.kick();
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

  private kick(): void {
    if (this.running || this.scheduled || this.stopped) return;
    this.scheduled = true;
    // setImmediate: let the current tick's record() calls join one batch
    setImmediate(() => {
      this.scheduled = false;
      if (this.running || this.stopped) return;
      this.running = this.run().finally(() => {
        this.running = null;
        if (!this.stopped && (this.queue.length > 0 || !this.healthy || this.needSync)) this.kick();
      });
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.opened && !(await this.tryOpen())) {
        await this.backoff();
        continue;
      }
      if (!this.pending) {
        if (this.queue.length === 0) {
          if (this.needSync) await this.syncNow();
          this.healthyAgain();
          this.notifyIdle();
          return;
        }
        this.pending = this.buildBatch();
      }
      if (!(await this.writePending())) await this.backoff();
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
          this.noteKeyChange(state.keyId);
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

  private buildBatch(): Batch {
    const batch: Batch = { lines: [], seqs: [], hashes: [] };
    let seq = this.seq;
    let prev = this.lastHash;
    // Bounded by count AND time: a record may compute its statement's fingerprint and normalized
    // text here (≈ 0.1–0.5 ms for a long new statement, moved off the request path by the guard),
    // so a burst must not hold the event loop for a whole batch of them.
    const started = performance.now();
    let taken = 0;
    while (taken < this.queue.length && taken < this.maxBatch) {
      const ev = this.queue[taken] as PendingEvent;
      taken += 1;
      seq += 1;
      const { line, hash } = encodeRecord(buildRecordBody(ev, seq, prev, this.buildOptions), this.key);
      batch.lines.push(line);
      batch.seqs.push(seq);
      batch.hashes.push(hash);
      prev = hash;
      if (performance.now() - started >= BATCH_BUDGET_MS) break;
    }
    this.queue = taken === this.queue.length ? [] : this.queue.slice(taken);
    return batch;
  }

  /** Write the pending batch; true when it is fully written. */
  private async writePending(): Promise<boolean> {
    const batch = this.pending as Batch;
    try {
      await this.target.write(batch.lines);
      this.commit(batch, batch.lines.length);
      this.pending = null;
      this.dirty = true;
      if (this.config.fsync === 'always') await this.syncNow();
      else if (this.config.fsync === 'interval') this.scheduleSync();
      this.healthyAgain();
      if (this.isIdle()) this.notifyIdle();
      return true;
    } catch (err) {
      this.opened = false;
      if (err instanceof PartialWriteError) {
        this.commit(batch, err.committed);
        this.pending = { lines: batch.lines.slice(err.committed), seqs: batch.seqs.slice(err.committed), hashes: batch.hashes.slice(err.committed) };
        this.noteFailure(err.error, 'write');
      } else this.noteFailure(err, 'write');
      return false;
    }
  }

  /** Continuing a chain written under another key, or unkeyed: say so (key ids are public, keys never logged). */
  private noteKeyChange(previousKeyId: string | null): void {
    if (!this.key || previousKeyId === this.key.keyId) return;
    const from = this.seq + 1;
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
  }

  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.needSync = true;
      this.kick();
    }, this.config.fsync_interval_ms);
    this.syncTimer.unref();
  }

  private async syncNow(): Promise<void> {
    this.needSync = false;
    if (!this.dirty || !this.opened) return;
    try {
      await this.target.sync();
      this.dirty = false;
    } catch (err) {
      this.opened = false;
      this.noteFailure(err, 'fsync');
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
