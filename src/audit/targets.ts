/**
 * Where audit lines go: a rotating file, or a standard stream (stdout/stderr).
 *
 * Guarantees (file): lines are written at explicit offsets and a failed write is rolled back to
 * the last complete batch on reopen, so a retry never leaves a torn or duplicated line; a torn
 * tail left by a crash is cut at the last newline on open (and reported); rotation renames
 * path → path.1 → … → path.max_files and the chain simply continues in the new file.
 * Guarantees (streams): writes go through libuv's thread pool (fs.write on fd 1/2), never
 * blocking the event loop, and retry EAGAIN on non-blocking pipes.
 * An unkeyed sink (no audit.hmac_key) refuses to continue a file whose last record is keyed
 * (AUDIT_TAIL_KEYED): its records would be a downgrade that `audit verify` reports as broken.
 * Does not: coordinate several processes writing one file (use one file per process, or stdout).
 */
import { constants as fsc, write as fsWrite } from 'node:fs';
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chainStateOf, readTail, type ChainState } from './tail.js';

export interface OpenResult {
  /** Chain position found on disk (file sink, first open only); null: start a new chain. */
  state: ChainState | null;
  /** Bytes of a torn last line that were cut off. */
  repairedBytes: number;
}

/** Thrown when some lines of a write were durable before the failure. */
export class PartialWriteError extends Error {
  constructor(
    readonly committed: number,
    readonly error: unknown,
  ) {
    super('partial audit write');
  }
}

/** A coded error whose message carries no path or data. */
export class AuditTargetError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export interface Target {
  open(): Promise<OpenResult>;
  /** Write complete lines (each without newline), in order. Throws PartialWriteError when some were written. */
  write(lines: readonly string[]): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileTargetOptions {
  path: string;
  maxBytes: number;
  maxFiles: number;
  syncOnRotate: boolean;
  /** The sink keys its records (audit.hmac_key). When false, a keyed tail is refused (AUDIT_TAIL_KEYED). */
  keyed?: boolean;
}

export class FileTarget implements Target {
  private fh: FileHandle | null = null;
  /** Bytes of complete, committed lines in the current file; null before the first open. */
  private size: number | null = null;

  constructor(private readonly opts: FileTargetOptions) {}

  async open(): Promise<OpenResult> {
    const first = this.size === null;
    await this.closeQuietly();
    await mkdir(dirname(this.opts.path), { recursive: true }).catch((err: unknown) => {
      // recursive mkdir reports EEXIST when a path component is a regular file: say what it means
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw Object.assign(new AuditTargetError('ENOTDIR'), { syscall: 'mkdir' });
      throw err;
    });
    const fh = await open(this.opts.path, fsc.O_RDWR | fsc.O_CREAT, 0o640);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new AuditTargetError('ENOTFILE');
      let size = st.size;
      // After a failed write: drop whatever part of the failed batch reached the disk.
      if (this.size !== null && size > this.size) {
        await fh.truncate(this.size);
        size = this.size;
      }
      const tail = await readTail(fh, size);
      // On the first open, find where the chain stands before touching the file.
      let state: ChainState | null = null;
      if (first) {
        if (tail.lastLine !== null) {
          state = chainStateOf(tail.lastLine) ?? null;
          if (!state) throw new AuditTargetError('AUDIT_TAIL_INVALID');
        } else {
          state = await this.rotatedState();
        }
        if (state !== null && state.keyId !== null && this.opts.keyed !== true) throw new AuditTargetError('AUDIT_TAIL_KEYED');
      }
      let repairedBytes = 0;
      if (tail.validEnd < size) {
        repairedBytes = size - tail.validEnd;
        await fh.truncate(tail.validEnd);
        size = tail.validEnd;
      }
      this.fh = fh;
      this.size = size;
      return { state, repairedBytes };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
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

  async write(lines: readonly string[]): Promise<void> {
    if (!this.fh || this.size === null) throw new AuditTargetError('ENOTOPEN');
    let committed = 0;
    try {
      while (committed < lines.length) {
        const chunk = this.takeChunk(lines, committed);
        if (chunk.rotate) {
          await this.rotate();
          continue;
        }
        await writeAllAt(this.fh, chunk.buf, this.size);
        this.size += chunk.buf.length;
        committed += chunk.count;
      }
    } catch (err) {
      await this.closeQuietly();
      if (committed > 0) throw new PartialWriteError(committed, err);
      throw err;
    }
  }

  /** The next run of lines that fits the current file, or a request to rotate first. */
  private takeChunk(lines: readonly string[], from: number): { buf: Buffer; count: number; rotate: boolean } {
    const max = this.opts.maxBytes;
    const size = this.size ?? 0;
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
    this.fh = await open(p, fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC, 0o640);
    this.size = 0;
  }

  async sync(): Promise<void> {
    if (this.fh) await this.fh.datasync();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }

  private async closeQuietly(): Promise<void> {
    await this.close().catch(() => undefined);
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

async function writeAllAt(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    if (bytesWritten <= 0) throw new AuditTargetError('ESHORTWRITE');
    off += bytesWritten;
  }
}

function writeFd(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fsWrite(fd, buf, off, buf.length - off, null, (err, written) => (err ? reject(err) : resolve(written)));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** stdout / stderr. The chain restarts (seq 1, genesis prev) with every process start. */
export class StreamTarget implements Target {
  constructor(private readonly fd: 1 | 2) {}

  async open(): Promise<OpenResult> {
    return { state: null, repairedBytes: 0 };
  }

  async write(lines: readonly string[]): Promise<void> {
    const buf = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    let off = 0;
    let spins = 0;
    while (off < buf.length) {
      try {
        off += await writeFd(this.fd, buf, off);
        spins = 0;
      } catch (err) {
        // a non-blocking pipe that is full: wait for the reader, a bounded number of times
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN' && spins < 2_000) {
          spins += 1;
          await sleep(5);
          continue;
        }
        // a torn line cannot be taken back on a stream: end it so the next record starts clean
        if (off > 0) await writeFd(this.fd, Buffer.from('\n'), 0).catch(() => 0);
        throw err;
      }
    }
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}
