/** The file target keeps the inter-process lock between close appends (a lease), and lets others in (issue #13). */
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuditSink } from '../../../src/audit/setup.js';
import { type AuditSink } from '../../../src/audit/sink.js';
import { lockPathFor } from '../../../src/audit/lock.js';
import { FileTarget } from '../../../src/audit/file-target.js';
import type { DiskPosition } from '../../../src/audit/targets.js';
import { auditVerify } from '../../../src/audit/verify.js';
import { auditConfig, captureLogger, readRecords, sampleEvent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const targets: FileTarget[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
const sinks: AuditSink[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of sinks.splice(0)) await s.close();
  for (const t of targets.splice(0)) await t.close().catch(() => undefined);
  await cleanup();
});

const line = (who: string, i: number): string => JSON.stringify({ v: 1, seq: i, prev: '0'.repeat(64), hash: `${who}${i}`.padEnd(64, '0'), decision: 'allowed' });

function target(path: string): FileTarget {
  const t = new FileTarget({ path, maxBytes: 0, maxFiles: 1, syncOnRotate: false });
  targets.push(t);
  return t;
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

describe('audit file target: lock lease', () => {
  it('keeps the lock right after an append and gives it up when no append follows; close() gives it up at once', async () => {
    const path = join(dir, 'audit.ndjson');
    const lock = lockPathFor(path);
    const a = target(path);
    await a.open();
    expect(existsSync(lock)).toBe(false);
    await a.append(() => [line('a', 1)]);
    expect(existsSync(lock)).toBe(true); // held for the next append
    expect(await until(() => !existsSync(lock), 2_000)).toBe(true);
    await a.append(() => [line('a', 2)]);
    expect(existsSync(lock)).toBe(true);
    await a.close();
    expect(existsSync(lock)).toBe(false);
  });

  it('another writer gets the lock while one appends back to back (bounded wait, no starvation)', async () => {
    const path = join(dir, 'audit.ndjson');
    const a = target(path);
    const b = target(path);
    await a.open();
    await b.open();
    let stop = false;
    let aCount = 0;
    const busy = (async () => {
      while (!stop) {
        await a.append(() => [line('a', ++aCount)]);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await b.append(() => [line('b', 1)]);
    const waited = Date.now() - started;
    stop = true;
    await busy;
    // MAX_HOLD_MS 250 + YIELD_MS 50 + a write; generous for a loaded machine, far below the lock's 5 s timeout
    expect(waited).toBeLessThan(2_000);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(aCount + 1);
    expect(lines.filter((l) => l.includes('"hash":"b1')).length).toBe(1);
  });
});

/** Appends `line` and returns the position the target handed to the batch builder. */
async function appendSeen(t: FileTarget, l: string): Promise<DiskPosition | undefined> {
  let seen: DiskPosition | undefined;
  await t.append((position) => {
    seen = position;
    return [l];
  });
  return seen;
}

describe('audit file target: no stat while the lease is held, and what still gets noticed (issue #13)', () => {
  it('within a lease the file is trusted as left (own chain); after the lease another process\'s records are read', async () => {
    const path = join(dir, 'audit.ndjson');
    const lock = lockPathFor(path);
    const a = target(path);
    const b = target(path);
    await a.open();
    await b.open();
    expect(await appendSeen(a, line('a', 1))).toMatchObject({ state: null }); // fresh lock: the file is read (empty)
    expect(await appendSeen(a, line('a', 2))).toMatchObject({ own: true }); // lease: nothing to read
    // b waits for a's lease to end, then writes: a's next append must see b's record
    expect(await appendSeen(b, line('b', 3))).toMatchObject({ state: { seq: 2 } });
    expect(await until(() => !existsSync(lock), 2_000)).toBe(true);
    const seen = await appendSeen(a, line('a', 4));
    expect(seen?.own).not.toBe(true);
    expect(seen?.state).toMatchObject({ seq: 3, hash: 'b3'.padEnd(64, '0') });
  });

  it('a rotation by another process during a pause is noticed: the next append goes to the new file, after its last record', async () => {
    const path = join(dir, 'audit.ndjson');
    const a = target(path);
    // b rotates before every batch (a file of at most one line)
    const b = new FileTarget({ path, maxBytes: 10, maxFiles: 3, syncOnRotate: false });
    targets.push(b);
    await a.open();
    await b.open();
    await appendSeen(a, line('a', 1));
    await appendSeen(b, line('b', 2)); // waits out a's lease, rotates: audit.ndjson.1 holds a1
    await b.close();
    const seen = await appendSeen(a, line('a', 3));
    expect(seen?.own).not.toBe(true);
    expect(seen?.state).toMatchObject({ seq: 2 });
    expect((await readFile(path, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([2, 3]);
    expect((await readFile(`${path}.1`, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('a file replaced (moved away) between leases is noticed: the next append goes to a new file at the path', async () => {
    const path = join(dir, 'audit.ndjson');
    const lock = lockPathFor(path);
    const a = target(path);
    await a.open();
    await appendSeen(a, line('a', 1));
    expect(await until(() => !existsSync(lock), 2_000)).toBe(true);
    await rename(path, `${path}.moved`);
    await appendSeen(a, line('a', 2));
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect((await readFile(`${path}.moved`, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('a lease held past the trust window (an event loop stalled while holding) is taken anew and the file read again', async () => {
    const path = join(dir, 'audit.ndjson');
    const a = target(path);
    await a.open();
    await appendSeen(a, line('a', 1));
    // Meanwhile a writer broke the "stale" lock and appended (as after a stall longer than staleMs).
    await appendFile(path, `${line('f', 2)}\n`);
    const now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now + 2_000);
    const seen = await appendSeen(a, line('a', 3));
    expect(seen?.own).not.toBe(true);
    expect(seen?.state).toMatchObject({ seq: 2, hash: 'f2'.padEnd(64, '0') });
  });

  it('two sinks sharing one file, taking turns between leases: one chain that verifies, every record once', async () => {
    const path = join(dir, 'audit.ndjson');
    const lock = lockPathFor(path);
    const mk = (): AuditSink => {
      const s = createAuditSink(auditConfig({ path, max_bytes: 2_500, max_files: 20 }), captureLogger());
      sinks.push(s);
      return s;
    };
    const a = mk();
    const b = mk();
    await a.ready();
    await b.ready();
    for (let round = 0; round < 4; round++) {
      for (const [name, s] of [['a', a], ['b', b]] as const) {
        for (let i = 0; i < 3; i++) s.record({ ...sampleEvent('allowed', i), request_id: `${name}-${round}-${i}` });
        await s.flush(5_000);
        expect(await until(() => !existsSync(lock), 2_000)).toBe(true);
      }
    }
    const files = (await readdir(dir)).filter((n) => n.startsWith('audit.ndjson')).map((n) => join(dir, n));
    expect(files.length).toBeGreaterThan(2); // it rotated under them
    const v = await auditVerify(files);
    expect(v.firstBroken).toBeUndefined();
    expect(v).toMatchObject({ ok: true, records: 24, chains: 1, firstSeq: 1, lastSeq: 24 });
    const ids = (await Promise.all(files.map((f) => readRecords(f)))).flat().map((r) => r.request_id);
    expect(new Set(ids).size).toBe(24);
  });
});
