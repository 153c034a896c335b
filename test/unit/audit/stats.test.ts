import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditSink } from '../../../src/audit/setup.js';
import { auditStats, formatAuditStats } from '../../../src/audit/stats.js';
import { auditCli } from '../../../src/cli/audit.js';
import { auditConfig, captureLogger, sampleEvent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let files: string[];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  const file = join(dir, 'audit.ndjson');
  const sink = createAuditSink(auditConfig({ path: file, max_bytes: 5_000, queue_size: 50, on_failure: 'drop' }), captureLogger());
  const events = [
    ...Array.from({ length: 5 }, (_, i) => sampleEvent('allowed', i)),
    ...Array.from({ length: 3 }, (_, i) => ({ ...sampleEvent('blocked', i), reasons: ['DENIED_TABLE'] })),
    { ...sampleEvent('blocked', 9), reasons: ['UNSAFE_FUNCTION', 'DENIED_TABLE'] },
    { ...sampleEvent('held', 0), blast_radius_rows: 120 },
    { ...sampleEvent('held', 1), blast_radius_rows: 98_000, principal: 'etl' },
    sampleEvent('approved', 1),
    sampleEvent('rejected', 1),
    sampleEvent('executed', 1),
    sampleEvent('reverted', 1),
    sampleEvent('failed', 1),
    { decision: 'auth_failed' as const, client: '10.1.2.3', request_id: 'r-auth' },
    { ...sampleEvent('blocked', 10), observed: true, reasons: ['NO_WHERE'] },
  ];
  for (const e of events) sink.record(e);
  await sink.close();
  files = (await readdir(dir)).sort().map((n) => join(dir, n));
});

afterEach(async () => cleanup());

describe('audit stats', () => {
  it('summarizes decisions, reasons, holds and principals across rotated files', async () => {
    expect(files.length).toBeGreaterThan(1);
    await appendFile(files[0] as string, 'garbage\n');
    const s = await auditStats(files);
    expect(s.records).toBe(18);
    expect(s.invalid).toBe(1);
    expect(s.decisions).toEqual({ allowed: 5, blocked: 5, held: 2, approved: 1, rejected: 1, executed: 1, reverted: 1, failed: 1, auth_failed: 1 });
    expect(s.statements).toBe(17);
    expect(s.blockedByReason).toEqual({ DENIED_TABLE: 4, UNSAFE_FUNCTION: 1, NO_WHERE: 1 });
    expect(s.failedByReason).toEqual({ STATEMENT_TIMEOUT: 1 });
    expect(s.observed).toBe(1);
    expect(s.largestHeld).toMatchObject({ rows: 98_000, principal: 'etl', database: 'demo' });
    expect(s.principals['(unauthenticated)']).toEqual({ total: 1, decisions: { auth_failed: 1 } });
    expect(s.principals.etl?.total).toBe(1);
    const text = formatAuditStats(s);
    expect(text).toMatch(/statements guarded 17/);
    expect(text).toMatch(/blocked\s+5/);
    expect(text).toMatch(/DENIED_TABLE\s+4/);
    expect(text).toMatch(/largest blast radius held back: 98000 rows/);
    expect(text).toMatch(/auth_failed\s+1/);
  });

  it('counts records dropped by the sink', async () => {
    const file = join(dir, 'drops.ndjson');
    const sink = createAuditSink(auditConfig({ path: file, queue_size: 4, on_failure: 'drop' }), captureLogger());
    for (let i = 0; i < 10; i++) sink.record(sampleEvent('allowed', i));
    await sink.close();
    const s = await auditStats([file]);
    expect(s).toMatchObject({ records: 5, dropped: 6, decisions: { allowed: 4, audit_gap: 1 } });
    expect(formatAuditStats(s)).toMatch(/audit gaps\s+1 \(6 records dropped by the sink\)/);
  });

  it('the command prints text or JSON', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await auditCli(['stats', ...files], io)).toBe(0);
    expect(out.join('\n')).toMatch(/per principal/);
    out.length = 0;
    expect(await auditCli(['stats', '--json', ...files], io)).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ records: 18 });
    expect(await auditCli(['stats', join(dir, 'missing')], io)).toBe(1);
  });
});
