/**
 * The file sink appends with one synchronous write(2) per batch (issue #13: a thread-pool write
 * cost ≈ 40 µs of CPU per batch). What must still hold when that write fails or is slow: nothing
 * torn, nothing lost or duplicated, fail-closed refuses calls while failing, and a disk whose
 * writes block moves the appends off the event loop.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuditSink } from '../../../src/audit/setup.js';
import { type AuditSink } from '../../../src/audit/sink.js';
import { auditVerify } from '../../../src/audit/verify.js';
import { auditConfig, captureLogger, readRecords, sampleEvent, tempDir, waitFor } from './helpers.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return { ...real, writeSync: vi.fn(real.writeSync) };
});

const realFs = await vi.importActual<typeof fs>('node:fs');
const writeSync = vi.mocked(fs.writeSync);

/** A write of audit records (the lock file's body, also written with writeSync, has no "seq"). */
const isRecordWrite = (buf: unknown): boolean => Buffer.isBuffer(buf) && buf.includes('"seq":');

let dir: string;
let cleanup: () => Promise<void>;
const sinks: AuditSink[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  writeSync.mockReset();
  writeSync.mockImplementation(realFs.writeSync);
  for (const s of sinks.splice(0)) await s.close();
  await cleanup();
});

function open(overrides: Parameters<typeof auditConfig>[0] = {}) {
  const file = join(dir, 'audit.ndjson');
  const sink = createAuditSink(auditConfig({ path: file, flush_timeout_ms: 2_000, on_failure: 'fail-closed', ...overrides }), captureLogger(), { retry: { initialMs: 10, maxMs: 40 } });
  sinks.push(sink);
  return { sink, file };
}

const enospc = (): Error => Object.assign(new Error('no space'), { code: 'ENOSPC', syscall: 'write' });

describe('audit file sink: the synchronous append', () => {
  it('a write that fails half-way is cut back (no torn line), fail-closed refuses meanwhile, and every record lands once after recovery', async () => {
    const { sink, file } = open();
    await sink.ready();
    for (let i = 0; i < 3; i++) sink.record(sampleEvent('allowed', i));
    await sink.flush();
    let failing = true;
    writeSync.mockImplementation(((fd: number, buf: Buffer, off?: number, len?: number, pos?: number | null) => {
      if (!isRecordWrite(buf)) return realFs.writeSync(fd, buf, off, len, pos);
      if (!failing) return realFs.writeSync(fd, buf, off, len, pos);
      const start = off ?? 0;
      if (start === 0) return realFs.writeSync(fd, buf, 0, Math.floor(buf.length / 2), null); // half the batch reaches the file…
      throw enospc(); // …then the disk is full
    }) as typeof fs.writeSync);
    for (let i = 3; i < 8; i++) sink.record(sampleEvent('allowed', i));
    await waitFor(() => !sink.stats().healthy);
    expect(sink.accepting()).toBe(false);
    expect(sink.stats().lastError).toBe('ENOSPC (write)');
    // cut back to the last complete record: what is on disk parses and verifies
    const during = await readRecords(file);
    expect(during).toHaveLength(3);
    expect((await auditVerify([file])).ok).toBe(true);
    failing = false;
    await waitFor(() => sink.stats().healthy && sink.stats().queued === 0);
    expect(sink.accepting()).toBe(true);
    const records = await readRecords(file);
    expect(records.map((r) => r.request_id)).toEqual(Array.from({ length: 8 }, (_, i) => `req-allowed-${i}`));
    expect((await auditVerify([file])).ok).toBe(true);
  });

  it('durable() does not resolve while the write fails, and resolves once the record is written', async () => {
    const { sink, file } = open({ flush_timeout_ms: 5_000 });
    await sink.ready();
    let failing = true;
    writeSync.mockImplementation(((fd: number, buf: Buffer, off?: number, len?: number, pos?: number | null) => {
      if (isRecordWrite(buf) && failing) throw enospc();
      return realFs.writeSync(fd, buf, off, len, pos);
    }) as typeof fs.writeSync);
    let settled = false;
    const done = sink.durable(sampleEvent('executed', 1)).then(() => {
      settled = true;
    });
    await waitFor(() => !sink.stats().healthy);
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    expect(await readRecords(file)).toEqual([]);
    failing = false;
    await done;
    expect((await readRecords(file)).map((r) => r.request_id)).toEqual(['req-executed-1']);
  });

  it('writes that keep blocking the event loop move the appends to the thread pool; the records still land in order', async () => {
    const { sink, file } = open();
    await sink.ready();
    let recordWrites = 0;
    writeSync.mockImplementation(((fd: number, buf: Buffer, off?: number, len?: number, pos?: number | null) => {
      if (isRecordWrite(buf)) {
        recordWrites += 1;
        const until = performance.now() + 15; // a slow disk: each write blocks 15 ms
        while (performance.now() < until);
      }
      return realFs.writeSync(fd, buf, off, len, pos);
    }) as typeof fs.writeSync);
    for (let i = 0; i < 10; i++) {
      sink.record(sampleEvent('allowed', i));
      await sink.flush();
    }
    // three slow writes in a row, then no more synchronous record writes
    expect(recordWrites).toBe(3);
    expect((await readRecords(file)).map((r) => r.request_id)).toEqual(Array.from({ length: 10 }, (_, i) => `req-allowed-${i}`));
    expect((await auditVerify([file])).ok).toBe(true);
  });

  it('one slow write (this process preempted on a busy host) does not move the appends off write(2)', async () => {
    const { sink } = open();
    await sink.ready();
    let recordWrites = 0;
    writeSync.mockImplementation(((fd: number, buf: Buffer, off?: number, len?: number, pos?: number | null) => {
      if (isRecordWrite(buf)) {
        recordWrites += 1;
        if (recordWrites % 2 === 1) {
          const until = performance.now() + 15;
          while (performance.now() < until);
        }
      }
      return realFs.writeSync(fd, buf, off, len, pos);
    }) as typeof fs.writeSync);
    for (let i = 0; i < 8; i++) {
      sink.record(sampleEvent('allowed', i));
      await sink.flush();
    }
    expect(recordWrites).toBe(8);
  });
});
