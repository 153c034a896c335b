/**
 * Where audit lines go: what every target promises the sink (Target), and the standard-stream
 * target. The rotating, shared file target is file-target.ts.
 *
 * Guarantees (streams): writes go through libuv's thread pool (fs.write on fd 1/2), never
 * blocking the event loop, and retry EAGAIN on non-blocking pipes; a line torn by a failed write
 * is ended with a newline so the next record starts clean.
 * Does not: keep one chain across processes on stdout/stderr (each process starts its own there).
 */
import { write as fsWrite } from 'node:fs';
import type { ChainState } from './tail.js';


export interface OpenResult {
  /** Chain position found on disk (file sink); null: start a new chain. */
  state: ChainState | null;
  /** Bytes of a torn last line that were cut off. */
  repairedBytes: number;
}

/**
 * Where the chain stands on disk when a batch is appended (file sink, read under the lock).
 * `undefined` for streams: the sink continues its own chain.
 */
export interface DiskPosition {
  state: ChainState | null;
  /** A torn last line (a writer died mid-write) was cut off: the sink marks it with an audit_gap. */
  repairedBytes: number;
  /**
   * True when the file still ends with the last record THIS process appended (nobody wrote since):
   * the sink continues its own chain and `state` is not read (null here).
   */
  own?: boolean;
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
  /**
   * Append one batch: `build` is called with the chain position on disk (file, under the
   * inter-process lock) or undefined (streams) and returns complete lines (each without newline),
   * in order. Throws PartialWriteError when some lines were written before a failure.
   */
  append(build: (position: DiskPosition | undefined) => readonly string[]): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

function writeFd(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fsWrite(fd, buf, off, buf.length - off, null, (err, written) => (err ? reject(err) : resolve(written)));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** stdout / stderr. The chain restarts (seq 1, genesis prev) with every process start. */
export class StreamTarget implements Target {
  constructor(private readonly fd: 1 | 2) {}

  async open(): Promise<OpenResult> {
    return { state: null, repairedBytes: 0 };
  }

  async append(build: (position: DiskPosition | undefined) => readonly string[]): Promise<void> {
    const lines = build(undefined);
    if (lines.length === 0) return;
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
