/**
 * Reading the end of an audit file without reading the whole file.
 *
 * Guarantees: reads a window from the end (64 KiB, doubled until a full line is found), so
 * reopening a large log costs O(last line), not O(file). Does not: validate the chain (that is
 * verify.ts); it only parses the last complete line (seq, hash and whether it was keyed).
 */
import type { FileHandle } from 'node:fs/promises';
import { HEX64 } from './canonical.js';
import { AUDIT_HMAC_ALG, KEY_ID } from './keyed.js';

export interface Tail {
  /** Offset just after the last newline: bytes past it are a partial (torn) line. */
  validEnd: number;
  /** The last complete line (without its newline), or null when there is none. */
  lastLine: string | null;
}

export async function readTail(fh: FileHandle, size: number, window = 65_536): Promise<Tail> {
  if (size === 0) return { validEnd: 0, lastLine: null };
  let w = window;
  for (;;) {
    const start = Math.max(0, size - w);
    const buf = Buffer.alloc(size - start);
    await readFully(fh, buf, start);
    const lastNl = buf.lastIndexOf(10);
    if (lastNl === -1) {
      if (start === 0) return { validEnd: 0, lastLine: null };
      w *= 2;
      continue;
    }
    const prevNl = lastNl === 0 ? -1 : buf.lastIndexOf(10, lastNl - 1);
    if (prevNl === -1 && start > 0) {
      w *= 2;
      continue;
    }
    return { validEnd: start + lastNl + 1, lastLine: buf.subarray(prevNl + 1, lastNl).toString('utf8') };
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
}

export interface ChainState {
  seq: number;
  hash: string;
  /** key_id of a keyed record (alg hmac-sha256); null for an unkeyed one. */
  keyId: string | null;
}

/** Parse the chain position out of a record line; undefined when it is not a record. */
export function chainStateOf(line: string): ChainState | undefined {
  try {
    const rec = JSON.parse(line) as { seq?: unknown; hash?: unknown; alg?: unknown; key_id?: unknown };
    if (typeof rec.seq === 'number' && Number.isSafeInteger(rec.seq) && rec.seq > 0 && typeof rec.hash === 'string' && HEX64.test(rec.hash)) {
      if (rec.alg === undefined) return { seq: rec.seq, hash: rec.hash, keyId: null };
      if (rec.alg === AUDIT_HMAC_ALG && typeof rec.key_id === 'string' && KEY_ID.test(rec.key_id)) {
        return { seq: rec.seq, hash: rec.hash, keyId: rec.key_id };
      }
    }
  } catch {
    // not JSON
  }
  return undefined;
}
