/**
 * An inter-process lock for one audit file: a lock file created with O_CREAT|O_EXCL next to it.
 *
 * Several pgwarden processes (a gateway, the operator CLI, replicas sharing a volume) append to
 * the same audit file. Each append must read the chain position on disk and write after it, with
 * no other writer in between: that read-then-append is done under this lock (file-target.ts).
 * Node has no flock/fcntl without a native addon, so the lock is a file that exists while held:
 * `<dir>/.<file>.lock` (hidden, so a shell glob `audit.ndjson*` never catches it), holding the
 * holder's pid, host name and a random nonce.
 *
 * Guarantees:
 * - Mutual exclusion between live holders: creation with O_EXCL is atomic (on local file systems
 *   and NFSv3+).
 * - A holder killed while holding (kill -9, a crash) does not block everyone for ever: its lock is
 *   stale when its pid is gone on this host (checked after MIN_DEAD_AGE_MS), or when the lock file
 *   was not refreshed for `staleMs` (a live holder refreshes its mtime every REFRESH_MS while it
 *   holds). A stale lock is broken by renaming it to a unique name and checking that the renamed
 *   file is the one judged stale, so two breakers cannot both break one lock; a live lock taken
 *   by mistake is put back with link() (which never overwrites).
 * - Waiting is bounded (`timeoutMs`): past it acquire() throws a coded error (ELOCKED) and the
 *   sink treats it like any write failure (fail-closed refuses calls, retries with backoff).
 * Does not: protect against a holder whose event loop stalls longer than `staleMs` while holding
 *   (its lock may be broken; the file is opened O_APPEND, so no record is overwritten, but the
 *   chain may fork there and `audit verify` reports it), or against writers that do not take the
 *   lock (older pgwarden versions, other tools).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimes, writeSync, constants as fsc } from 'node:fs';

/** A live holder refreshes its lock file's mtime this often while it holds the lock. */
const REFRESH_MS = 250;
/** A holder whose pid is gone is considered dead only after its lock is this old (pid namespaces). */
const MIN_DEAD_AGE_MS = 500;

export interface FileLockOptions {
  /** The audit file the lock protects. */
  target: string;
  /** A lock not refreshed for this long is stale (default 10 s). */
  staleMs?: number;
  /** Give up waiting after this long (default 5 s). */
  timeoutMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

/** The lock file for an audit file: hidden, in the same directory. */
export function lockPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.lock`);
}

export class LockTimeoutError extends Error {
  readonly code = 'ELOCKED';
  readonly syscall = 'lock';
  constructor() {
    super('ELOCKED');
  }
}

export class FileLock {
  readonly path: string;
  private readonly staleMs: number;
  private readonly timeoutMs: number;
  private held: string | null = null;
  private refresher: NodeJS.Timeout | null = null;
  private readonly host = hostname();

  constructor(opts: FileLockOptions) {
    this.path = lockPathFor(opts.target);
    this.staleMs = opts.staleMs ?? 10_000;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
  }

  /**
   * The lock's own file operations are synchronous system calls (a few microseconds each on a
   * local disk): through libuv's thread pool each would cost an event-loop round trip, and on a
   * CPU-starved host those round trips, not the disk, made every append take hundreds of ms.
   */
  async acquire(): Promise<void> {
    if (this.held !== null) throw new Error('audit lock already held by this process');
    const nonce = randomBytes(12).toString('hex');
    const body = JSON.stringify({ pid: process.pid, host: this.host, nonce } satisfies Holder);
    const deadline = Date.now() + this.timeoutMs;
    let waitMs = 1;
    for (;;) {
      if (this.tryCreate(body)) {
        this.held = nonce;
        this.startRefresh();
        return;
      }
      if (this.breakIfStale()) continue;
      if (Date.now() >= deadline) throw new LockTimeoutError();
      await sleep(waitMs + Math.random() * waitMs);
      waitMs = Math.min(20, waitMs * 2);
    }
  }

  /** One O_CREAT|O_EXCL attempt; false when the lock exists. */
  private tryCreate(body: string): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o640);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeSync(fd, body);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  async release(): Promise<void> {
    const nonce = this.held;
    if (nonce === null) return;
    this.held = null;
    if (this.refresher) clearInterval(this.refresher);
    this.refresher = null;
    // Remove it only if it is still ours (it may have been broken as stale meanwhile).
    if (readHolder(this.path)?.nonce === nonce) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }

  private startRefresh(): void {
    this.refresher = setInterval(() => {
      const now = new Date();
      utimes(this.path, now, now, () => undefined);
    }, REFRESH_MS);
    this.refresher.unref();
  }

  /** True when a stale lock was removed (retry at once). */
  private breakIfStale(): boolean {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      return true; // released meanwhile
    }
    const holder = readHolder(this.path);
    const age = Date.now() - mtimeMs;
    const dead = holder !== undefined && holder.host === this.host && age >= MIN_DEAD_AGE_MS && !pidAlive(holder.pid);
    // An unreadable or half-written lock file (a holder killed between create and write) is only
    // stale by age.
    if (!dead && age < this.staleMs) return false;
    const aside = `${this.path}.stale-${randomBytes(6).toString('hex')}`;
    try {
      renameSync(this.path, aside);
    } catch {
      return true; // someone else broke or released it
    }
    const taken = readHolder(aside);
    if (taken !== undefined && taken.nonce !== holder?.nonce) {
      // Between our look and the rename, another process broke the stale lock and took a new one:
      // put that live lock back (link never overwrites a lock created since).
      try {
        linkSync(aside, this.path);
      } catch {
        // a newer lock exists: the one we took is lost to its holder (O_APPEND keeps its records)
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      // gone
    }
    return true;
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.nonce === 'string') return { pid: h.pid, host: h.host, nonce: h.nonce };
  } catch {
    // missing, empty or partial
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
