/**
 * The audit file's inter-process lock (src/audit/lock.ts): mutual exclusion, a dead holder's
 * lock is broken, a live holder's is waited for (bounded), and the sink survives a stale lock.
 */
import { spawnSync } from 'node:child_process';
import { access, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditSink } from '../../../src/audit/index.js';
import { FileLock, lockPathFor } from '../../../src/audit/lock.js';
import { auditVerify } from '../../../src/audit/verify.js';
import { auditConfig, captureLogger, sampleEvent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

/** A pid that certainly belongs to no running process: a child that already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

describe('audit file lock', () => {
  it('is hidden next to the file, so `audit.ndjson*` never matches it', () => {
    expect(lockPathFor('/var/log/pgwarden/audit.ndjson')).toBe('/var/log/pgwarden/.audit.ndjson.lock');
  });

  it('excludes a second holder until the first releases', async () => {
    const target = join(dir, 'audit.ndjson');
    const a = new FileLock({ target });
    const b = new FileLock({ target, timeoutMs: 5_000 });
    await a.acquire();
    let bHas = false;
    const bDone = b.acquire().then(() => {
      bHas = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(bHas).toBe(false);
    await a.release();
    await bDone;
    expect(bHas).toBe(true);
    await b.release();
    expect(await exists(lockPathFor(target))).toBe(false);
  });

  it('breaks the lock of a holder that died (kill -9 while holding)', async () => {
    const target = join(dir, 'audit.ndjson');
    const lock = lockPathFor(target);
    await writeFile(lock, JSON.stringify({ pid: deadPid(), host: hostname(), nonce: 'dead' }));
    const old = new Date(Date.now() - 1_000);
    await utimes(lock, old, old);
    const l = new FileLock({ target, timeoutMs: 2_000 });
    await l.acquire();
    await l.release();
  });

  it('waits for a live holder and gives up with ELOCKED after timeoutMs', async () => {
    const target = join(dir, 'audit.ndjson');
    await writeFile(lockPathFor(target), JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'live' }));
    const l = new FileLock({ target, timeoutMs: 200 });
    await expect(l.acquire()).rejects.toMatchObject({ code: 'ELOCKED', syscall: 'lock' });
  });

  it('breaks a lock nobody refreshed for staleMs (a holder on another host that died)', async () => {
    const target = join(dir, 'audit.ndjson');
    const lock = lockPathFor(target);
    await writeFile(lock, JSON.stringify({ pid: 1, host: 'another-host', nonce: 'far' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const l = new FileLock({ target, staleMs: 10_000, timeoutMs: 2_000 });
    await l.acquire();
    await l.release();
  });

  it('a sink blocked by a live foreign lock is failing (fail-closed refuses), and recovers once it is released', async () => {
    const path = join(dir, 'audit.ndjson');
    const log = captureLogger();
    const sink = createAuditSink(auditConfig({ path, on_failure: 'fail-closed' }), log, { retry: { initialMs: 20, maxMs: 50 } });
    await sink.ready();
    sink.record(sampleEvent('allowed', 0));
    await sink.flush(2_000);
    const holder = new FileLock({ target: path });
    await holder.acquire();
    sink.record(sampleEvent('allowed', 1));
    // the lock wait is 5 s by default: the record stays queued, the chain untouched meanwhile
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.stats().written).toBe(1);
    await holder.release();
    expect(await sink.flush(5_000)).toBe(true);
    expect(sink.stats().written).toBe(2);
    await sink.close();
    expect(await auditVerify([path])).toMatchObject({ ok: true, records: 2 });
  });
});
