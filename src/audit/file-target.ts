/**
 * The audit file target: a rotating file that any number of processes share.
 *
 * Guarantees: any number of processes may share one audit file (a gateway, the operator CLI,
 * replicas on one volume): every append holds the inter-process lock (lock.ts), re-reads the
 * chain position at the end of the file when another process changed it, and writes with
 * O_APPEND, so the records of all processes form one chain and none overwrites another. A failed
 * write is cut back under the lock, so a retry never leaves a torn or duplicated line; a torn tail
 * left by a crash is cut at the last newline by the next writer (and reported); rotation renames
 * path → path.1 → … → path.max_files under the lock, and the other processes notice it (inode
 * change) and continue in the new file.
 * An unkeyed sink (no audit.hmac_key) refuses to continue a file whose last record is keyed
 * (AUDIT_TAIL_KEYED): its records would be a downgrade that `audit verify` reports as broken.
 * Does not: coordinate with writers that do not take the lock (older versions, other tools).
 * Size: the file (~440 lines) is one class whose lock lease, trust window, tail re-read, cut-back
 * of a failed write and rotation act on the same open file and lock; the lock itself is lock.ts,
 * the tail's parsing tail.ts.
 */
import { constants as fsc, fstatSync, statSync, writeSync, type Stats } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileLock } from './lock.js';
import { makeDirectory } from './make-dir.js';
import { chainStateOf, readTail, type ChainState } from './tail.js';
import { AuditTargetError, PartialWriteError, sleep, type DiskPosition, type OpenResult, type Target } from './targets.js';

export interface FileTargetOptions {
  path: string;
  maxBytes: number;
  maxFiles: number;
  syncOnRotate: boolean;
  /** The sink keys its records (audit.hmac_key). When false, a keyed tail is refused (AUDIT_TAIL_KEYED). */
  keyed?: boolean;
  /** Inter-process lock timing (tests shorten it). */
  lock?: { staleMs?: number; timeoutMs?: number };
}

/**
 * While appends follow each other, the lock is kept between them (a lease) instead of being
 * created and removed for every batch — three metadata syscalls each time, the largest item of
 * the audit writer's CPU at one call at a time (docs/benchmarks.md). The lease ends HOLD_MS after
 * the last append, and after MAX_HOLD_MS of holding it is released and not taken again for
 * YIELD_MS — longer than a waiter's longest poll interval (lock.ts: ≤ 40 ms) — so another process
 * waits at most about MAX_HOLD_MS + YIELD_MS plus one write, far below the lock's timeout.
 */
const HOLD_MS = 20;
const MAX_HOLD_MS = 250;
const YIELD_MS = 50;
/**
 * An append within this long of taking the lock, with the lock held since, trusts the file to be
 * as this process left it: no other process can have written (they wait for the lock), and none can
 * have broken the lock as stale (that takes `staleMs` — 10 s by default — without a refresh; the
 * bound is also at most half of it). So the stat of the path and the fstat of the open file are
 * skipped. Past it (an event loop stalled while holding), the lock is given back and taken anew,
 * and the file is checked as after any acquisition: rotation, replacement and other writers'
 * records are noticed there.
 */
const TRUST_MS = 1_000;
/**
 * Appends are one synchronous write(2) on the O_APPEND file: a write into the page cache takes a
 * few microseconds, where the same write through libuv's thread pool cost ≈ 40 µs of CPU (thread
 * hand-off, wake-ups, a promise; measured, docs/benchmarks.md) — at one call at a time the largest
 * item of the audit writer. SLOW_WRITES_IN_A_ROW writes in a row that each block longer than
 * SLOW_WRITE_MS (a slow or network file system; one slow write may just be this process preempted
 * on a busy host) switch appends to the thread pool for ASYNC_WRITES_MS, so the event loop is not
 * held by the disk.
 */
const SLOW_WRITE_MS = 10;
const SLOW_WRITES_IN_A_ROW = 3;
const ASYNC_WRITES_MS = 60_000;

/**
 * The file sink. Every append holds the inter-process lock (lock.ts), re-reads the chain position
 * at the end of the file when the file changed since this process last wrote (another process
 * appended or rotated), writes with O_APPEND, and keeps the lock for a short lease (above): any
 * number of processes keep one chain. Within a lease (TRUST_MS) the file is known unchanged and
 * is not stat'ed; each batch is one synchronous write (SLOW_WRITE_MS).
 */
export class FileTarget implements Target {
  private fh: FileHandle | null = null;
  /** Identity of the open file, to notice a rotation done by another process. */
  private ino = -1;
  private dev = -1;
  /** Size of the file and chain position after this process last read or wrote it; null: unknown. */
  private knownSize: number | null = null;
  private knownState: ChainState | null = null;
  /** The file ends (at knownSize) with this process's own last append (knownState is not kept then). */
  private knownOwn = false;
  private readonly lock: FileLock;
  /** When this process took the lock it holds (null: not held). */
  private heldSince: number | null = null;
  private releaseTimer: NodeJS.Timeout | null = null;
  /** After a long hold: the lock is not taken again before this time (Date.now() ms). */
  private yieldUntil = 0;
  /** An append is between take() and give(): the lease timer must not release the lock. */
  private inUse = false;
  /** When the last append gave the lock back into the lease (Date.now() ms). */
  private lastGive = 0;
  private readonly trustMs: number;
  /** Appends go through the thread pool until this time (Date.now() ms): synchronous writes were slow. */
  private asyncWritesUntil = 0;
  private slowWrites = 0;

  constructor(private readonly opts: FileTargetOptions) {
    this.lock = new FileLock({ target: opts.path, ...opts.lock });
    this.trustMs = Math.min(TRUST_MS, (opts.lock?.staleMs ?? 10_000) / 2);
  }

  async open(): Promise<OpenResult> {
    await this.closeQuietly();
    await makeDirectory(dirname(this.opts.path)).catch((err: unknown) => {
      // a path component that is a regular file: say what it means
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw Object.assign(new AuditTargetError('ENOTDIR'), { syscall: 'mkdir' });
      throw err;
    });
    await this.take();
    try {
      await this.openCurrent();
      return await this.position();
    } catch (err) {
      await this.closeQuietly();
      throw err;
    } finally {
      await this.give(false);
    }
  }

  async append(build: (position: DiskPosition | undefined) => readonly string[]): Promise<void> {
    if (!this.fh) throw new AuditTargetError('ENOTOPEN');
    // within a lease (TRUST_MS): nobody else wrote, rotated or replaced the file since our last append
    const trusted = (await this.take()) && this.knownOwn && this.knownSize !== null;
    let ok = false;
    try {
      let position: DiskPosition;
      if (trusted) position = { state: null, repairedBytes: 0, own: true };
      else {
        await this.ensureCurrent();
        position = await this.position();
      }
      const lines = build(position);
      await this.writeLines(lines);
      // the file now ends with our last line (the sink keeps its chain state; nothing to parse here)
      if (lines.length > 0) this.knownOwn = true;
      ok = true;
    } catch (err) {
      await this.closeQuietly();
      throw err;
    } finally {
      // a failed append gives the lock back at once
      await this.give(ok);
    }
  }

  /**
   * Hold the lock: still held from the last append (a lease; true: taken within TRUST_MS, so
   * nobody else touched the file since), or acquired now (after a yield, if due; false).
   */
  private async take(): Promise<boolean> {
    if (this.heldSince !== null) {
      if (Date.now() - this.heldSince < this.trustMs) {
        this.inUse = true;
        return true;
      }
      // held for longer than the stale rule guarantees (a stalled event loop): take it anew
      await this.releaseNow();
    }
    const wait = this.yieldUntil - Date.now();
    if (wait > 0) await sleep(wait);
    await this.lock.acquire();
    this.heldSince = Date.now();
    this.inUse = true;
    return false;
  }

  /**
   * `keep`: keep the lock for HOLD_MS in case another append follows (unless held MAX_HOLD_MS
   * already). One timer serves a whole lease: when it fires it releases the lock only if no append
   * came within HOLD_MS, and otherwise waits out the rest (no timer created per append).
   */
  private async give(keep: boolean): Promise<void> {
    this.inUse = false;
    if (this.heldSince === null) return;
    const now = Date.now();
    if (keep && now - this.heldSince < MAX_HOLD_MS) {
      this.lastGive = now;
      if (this.releaseTimer === null) this.armRelease(HOLD_MS);
      return;
    }
    if (keep) this.yieldUntil = now + YIELD_MS;
    await this.releaseNow();
  }

  private armRelease(ms: number): void {
    this.releaseTimer = setTimeout(() => this.leaseTimer(), ms);
    // an exiting process does not wait for it (a lock left by a dead process is broken: lock.ts)
    this.releaseTimer.unref();
  }

  private leaseTimer(): void {
    this.releaseTimer = null;
    // an append under way re-arms the timer when it gives the lock back
    if (this.heldSince === null || this.inUse) return;
    const idle = Date.now() - this.lastGive;
    if (idle < HOLD_MS) this.armRelease(HOLD_MS - idle);
    else void this.releaseNow();
  }

  private async releaseNow(): Promise<void> {
    if (this.releaseTimer) {
      clearTimeout(this.releaseTimer);
      this.releaseTimer = null;
    }
    if (this.heldSince === null) return;
    this.heldSince = null;
    await this.lock.release();
  }

  /** (Re)open the active file for appending. */
  private async openCurrent(): Promise<void> {
    await this.closeQuietly();
    const fh = await open(this.opts.path, fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT, 0o640);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new AuditTargetError('ENOTFILE');
      this.ino = st.ino;
      this.dev = st.dev;
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    this.fh = fh;
    this.knownSize = null;
    this.knownOwn = false;
  }

  /** Under the lock: reopen when another process rotated the file (or removed it). */
  private async ensureCurrent(): Promise<void> {
    // synchronous stat calls here and in position(): microseconds, where a thread-pool round trip
    // costs an event-loop turn (see lock.ts)
    let st: Stats | null = null;
    try {
      st = statSync(this.opts.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st === null || st.ino !== this.ino || st.dev !== this.dev) await this.openCurrent();
  }

  /**
   * Under the lock: the chain position at the end of the active file (or of path.1 when the active
   * file is empty), cutting a torn last line. Cached while the file keeps the size this process
   * left it at.
   */
  private async position(): Promise<DiskPosition> {
    const fh = this.fh as FileHandle;
    let size = fstatSync(fh.fd).size;
    if (size === this.knownSize) return this.knownOwn ? { state: null, repairedBytes: 0, own: true } : { state: this.knownState, repairedBytes: 0 };
    const tail = await readTail(fh, size);
    let state: ChainState | null;
    if (tail.lastLine !== null) {
      state = chainStateOf(tail.lastLine) ?? null;
      if (!state) throw new AuditTargetError('AUDIT_TAIL_INVALID');
    } else {
      state = await this.rotatedState();
    }
    if (state !== null && state.keyId !== null && this.opts.keyed !== true) throw new AuditTargetError('AUDIT_TAIL_KEYED');
    let repairedBytes = 0;
    if (tail.validEnd < size) {
      repairedBytes = size - tail.validEnd;
      await fh.truncate(tail.validEnd);
      size = tail.validEnd;
    }
    this.knownSize = size;
    this.knownState = state;
    this.knownOwn = false;
    return { state, repairedBytes };
  }

  /** The active file is empty: continue from the newest rotated file, if any. */
  private async rotatedState(): Promise<ChainState | null> {
    const rotated = `${this.opts.path}.1`;
    let fh: FileHandle;
    try {
      fh = await open(rotated, fsc.O_RDONLY);
    } catch {
      return null;
    }
    try {
      const st = await fh.stat();
      const tail = await readTail(fh, st.size);
      if (tail.lastLine === null) return null;
      const state = chainStateOf(tail.lastLine);
      if (!state) throw new AuditTargetError('AUDIT_TAIL_INVALID');
      return state;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Under the lock: append, rotating by size; a failed chunk is cut off again (no torn line). */
  private async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    let committed = 0;
    // the common case, one buffer for the whole batch: no rotation limit, or it fits
    const whole = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    const max = this.opts.maxBytes;
    let first: { buf: Buffer; count: number; rotate: boolean } | null = max <= 0 || (this.knownSize as number) + whole.length <= max ? { buf: whole, count: lines.length, rotate: false } : null;
    while (committed < lines.length) {
      const size = this.knownSize as number;
      const chunk = first ?? this.takeChunk(lines, committed, size);
      first = null;
      if (chunk.rotate) {
        try {
          await this.rotate();
        } catch (err) {
          if (committed > 0) throw new PartialWriteError(committed, err);
          throw err;
        }
        continue;
      }
      try {
        await this.writeChunk(this.fh as FileHandle, chunk.buf);
      } catch (err) {
        // We hold the lock: nobody wrote after us, so cutting back to our start is exact.
        await this.fh?.truncate(size).catch(() => undefined);
        if (committed > 0) throw new PartialWriteError(committed, err);
        throw err;
      }
      this.knownSize = size + chunk.buf.length;
      committed += chunk.count;
    }
  }

  /** One chunk: a synchronous write(2), or through the thread pool while synchronous writes are slow (SLOW_WRITE_MS). */
  private async writeChunk(fh: FileHandle, buf: Buffer): Promise<void> {
    const now = Date.now();
    if (now < this.asyncWritesUntil) return writeAll(fh, buf);
    const started = performance.now();
    let off = 0;
    while (off < buf.length) {
      const n = writeSync(fh.fd, buf, off, buf.length - off, null);
      if (n <= 0) throw new AuditTargetError('ESHORTWRITE');
      off += n;
    }
    if (performance.now() - started <= SLOW_WRITE_MS) this.slowWrites = 0;
    else if (++this.slowWrites >= SLOW_WRITES_IN_A_ROW) {
      this.slowWrites = 0;
      this.asyncWritesUntil = now + ASYNC_WRITES_MS;
    }
  }

  /** The next run of lines that fits the current file, or a request to rotate first. */
  private takeChunk(lines: readonly string[], from: number, size: number): { buf: Buffer; count: number; rotate: boolean } {
    const max = this.opts.maxBytes;
    const parts: string[] = [];
    let bytes = 0;
    for (let i = from; i < lines.length; i++) {
      const len = Buffer.byteLength(lines[i] as string, 'utf8') + 1;
      if (max > 0 && size + bytes + len > max && (size + bytes > 0)) {
        if (parts.length === 0) return { buf: Buffer.alloc(0), count: 0, rotate: true };
        break;
      }
      parts.push(lines[i] as string);
      bytes += len;
    }
    return { buf: Buffer.from(`${parts.join('\n')}\n`, 'utf8'), count: parts.length, rotate: false };
  }

  /** Under the lock: path → path.1 → … and a new, empty path. */
  private async rotate(): Promise<void> {
    const fh = this.fh;
    if (fh) {
      if (this.opts.syncOnRotate) await fh.datasync();
      await fh.close();
      this.fh = null;
    }
    const p = this.opts.path;
    for (let i = this.opts.maxFiles - 1; i >= 1; i--) await renameIfExists(`${p}.${i}`, `${p}.${i + 1}`);
    await rename(p, `${p}.1`);
    const next = await open(p, fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT | fsc.O_TRUNC, 0o640);
    const st = await next.stat();
    this.fh = next;
    this.ino = st.ino;
    this.dev = st.dev;
    this.knownSize = 0;
    this.knownOwn = false;
  }

  async sync(): Promise<void> {
    if (this.fh) await this.fh.datasync();
  }

  /** Close the file and give up the lock if this process still holds it (lease). */
  async close(): Promise<void> {
    try {
      await this.closeFile();
    } finally {
      await this.releaseNow();
    }
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    this.knownSize = null;
    this.knownOwn = false;
    if (fh) await fh.close();
  }

  /** The file only: callers that hold the lock keep holding it. */
  private async closeQuietly(): Promise<void> {
    await this.closeFile().catch(() => undefined);
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await stat(from);
  } catch {
    return;
  }
  await rename(from, to);
}

/** Write the whole buffer at the end of an O_APPEND file (position null: write(2), not pwrite). */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, null);
    if (bytesWritten <= 0) throw new AuditTargetError('ESHORTWRITE');
    off += bytesWritten;
  }
}
