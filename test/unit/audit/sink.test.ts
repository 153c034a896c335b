import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditFilePath, auditSinkProblem, auditStartProblem, createAuditSink } from '../../../src/audit/setup.js';
import { COALESCE_MS, type AuditSink } from '../../../src/audit/sink.js';
import { FileTarget } from '../../../src/audit/file-target.js';
import { auditVerify } from '../../../src/audit/verify.js';
import { canonicalJson, sha256Hex } from '../../../src/audit/canonical.js';
import { AUDIT_DECISIONS, GENESIS_PREV } from '../../../src/audit/types.js';
import { GatewayError } from '../../../src/core/errors.js';
import { auditConfig, captureLogger, readRecords, sampleEvent, tempDir, waitFor } from './helpers.js';

const FAST_RETRY = { retry: { initialMs: 10, maxMs: 40 } };

let dir: string;
let cleanup: () => Promise<void>;
const sinks: AuditSink[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  await cleanup();
});

function open(overrides: Parameters<typeof auditConfig>[0] = {}, options: Parameters<typeof createAuditSink>[2] = {}) {
  const logger = captureLogger();
  const sink = createAuditSink(auditConfig({ path: join(dir, 'audit.ndjson'), flush_timeout_ms: 2_000, ...overrides }), logger, { ...FAST_RETRY, ...options });
  sinks.push(sink);
  return { sink, logger, file: join(dir, 'audit.ndjson') };
}

describe('audit sink: one record per decision', () => {
  it('writes exactly N records for N calls of every outcome, with the fields and a verifying chain', async () => {
    const { sink, file } = open();
    const N = 7;
    for (const decision of AUDIT_DECISIONS) for (let i = 0; i < N; i++) sink.record(sampleEvent(decision, i));
    await sink.close();
    const records = await readRecords(file);
    expect(records).toHaveLength(N * AUDIT_DECISIONS.length);
    for (const decision of AUDIT_DECISIONS) expect(records.filter((r) => r.decision === decision)).toHaveLength(N);
    records.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      expect(r.prev).toBe(i === 0 ? GENESIS_PREV : records[i - 1]?.hash);
      const { hash, ...body } = r;
      expect(hash).toBe(sha256Hex(canonicalJson(body)));
      expect(typeof r.ts === 'string' && !Number.isNaN(Date.parse(r.ts))).toBe(true);
      expect(r).not.toHaveProperty('sql_raw');
      expect(r.v).toBe(1);
    });
    const held = records.find((r) => r.decision === 'held' && r.request_id === 'req-held-3');
    expect(held).toMatchObject({
      principal: 'bob',
      client: '127.0.0.1',
      tool: 'execute',
      database: 'demo',
      kind: 'read',
      relations: ['app.customers'],
      fingerprint: 'a1b2c3d4e5f60718',
      sql: 'SELECT id FROM app.customers WHERE id = $1',
      rows: 3,
      duration_ms: 4.5,
      blast_radius_rows: 103,
      approval_id: 'appr-3',
      undo_id: null,
      observed: false,
    });
    expect(records.find((r) => r.decision === 'blocked')?.reasons).toEqual(['DENIED_TABLE']);
    const v = await auditVerify([file]);
    expect(v).toMatchObject({ ok: true, records: N * AUDIT_DECISIONS.length, anchored: true, chains: 1 });
    expect(sink.stats()).toMatchObject({ written: N * AUDIT_DECISIONS.length, dropped: 0, failed: 0, queued: 0, healthy: true, lastHash: v.lastHash });
  });

  it('keys every line in canonical order, so the line is exactly what was hashed', async () => {
    const { sink, file } = open({ include_raw_sql: true });
    sink.record({ ...sampleEvent('executed', 1), sql_raw: "UPDATE t SET a = 'x'" });
    await sink.close();
    const line = (await readFile(file, 'utf8')).trimEnd();
    const { hash, ...body } = JSON.parse(line) as Record<string, unknown>;
    expect(line).toBe(`${canonicalJson(body).slice(0, -1)},"hash":"${String(hash)}"}`);
  });

  it('snapshots the event: mutating it after record() does not change the record', async () => {
    const { sink, file } = open();
    const ev = sampleEvent('allowed', 1);
    sink.record(ev);
    ev.principal = 'mallory';
    (ev.relations as string[]).push('internal.api_keys');
    await sink.close();
    const [rec] = await readRecords(file);
    expect(rec).toMatchObject({ principal: 'bob', relations: ['app.customers'] });
  });
});

describe('audit sink: secrets and SQL', () => {
  it('never writes sql_raw unless include_raw_sql is on, and scrubs literals left in the normalized text', async () => {
    const { sink, file } = open();
    sink.record({
      decision: 'allowed',
      normalized_sql: "SELECT * FROM app.customers WHERE ssn = '123-45-6789' AND id = 987654321",
      sql_raw: "SELECT * FROM app.customers WHERE ssn = '123-45-6789'",
    });
    await sink.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('123-45-6789');
    expect(text).not.toContain('987654321');
    expect(text).not.toContain('sql_raw');
    const [rec] = await readRecords(file);
    expect(rec?.sql).toBe('SELECT * FROM app.customers WHERE ssn = ? AND id = ?');
  });

  it('writes sql_raw when opted in, still without DSN passwords or bearer tokens', async () => {
    const { sink, file } = open({ include_raw_sql: true });
    sink.record({
      decision: 'blocked',
      reasons: ['UNSAFE_FUNCTION', 'not a code: has literal 4111'],
      normalized_sql: 'SELECT dblink_connect($1)',
      sql_raw: "SELECT dblink_connect('postgres://app:s3cr3t@db:5432/x') -- Bearer abcdefghijklmnopqrstuvwxyz012345",
      client: 'postgres://u:hunter2@host/db',
    });
    await sink.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
    expect(text).not.toContain('4111');
    const [rec] = await readRecords(file);
    expect(rec?.sql_raw).toContain('postgres://app:***@db:5432/x');
    expect(rec?.reasons).toEqual(['UNSAFE_FUNCTION', 'INVALID_REASON']);
    expect((await auditVerify([file])).ok).toBe(true);
  });
});

describe('audit sink: restart and rotation', () => {
  it('continues the chain from the last record when reopening an existing file', async () => {
    const first = open();
    for (let i = 0; i < 5; i++) first.sink.record(sampleEvent('allowed', i));
    await first.sink.close();
    const second = open();
    await second.sink.ready();
    expect(second.sink.stats().lastSeq).toBe(5);
    for (let i = 0; i < 5; i++) second.sink.record(sampleEvent('blocked', i));
    await second.sink.close();
    const records = await readRecords(first.file);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await auditVerify([first.file])).toMatchObject({ ok: true, records: 10, chains: 1 });
  });

  it('cuts a torn last line on reopen, marks it with an audit_gap record, and the chain verifies', async () => {
    const first = open();
    for (let i = 0; i < 3; i++) first.sink.record(sampleEvent('allowed', i));
    await first.sink.close();
    await appendFile(first.file, '{"approval_id":null,"blast_radi');
    expect((await auditVerify([first.file])).ok).toBe(false);
    const second = open();
    second.sink.record(sampleEvent('executed', 9));
    await second.sink.close();
    const records = await readRecords(first.file);
    expect(records.map((r) => [r.seq, r.decision])).toEqual([
      [1, 'allowed'],
      [2, 'allowed'],
      [3, 'allowed'],
      [4, 'audit_gap'],
      [5, 'executed'],
    ]);
    expect(records[3]?.reasons).toEqual(['AUDIT_TORN_RECORD_REMOVED']);
    expect(second.logger.entries.some((e) => e.level === 'warn')).toBe(true);
    expect((await auditVerify([first.file])).ok).toBe(true);
  });

  it('refuses to continue after a last line that is not a record (fail-closed)', async () => {
    const content = 'this is not a record\n{"torn":';
    await writeFile(join(dir, 'audit.ndjson'), content);
    const { sink } = open();
    await sink.ready();
    expect(sink.stats()).toMatchObject({ healthy: false, lastError: 'AUDIT_TAIL_INVALID (open)' });
    expect(sink.accepting()).toBe(false);
    // the evidence is left as it was
    expect(await readFile(join(dir, 'audit.ndjson'), 'utf8')).toBe(content);
  });

  it('rotates by size, keeps max_files, and the chain verifies across files given in any order', async () => {
    const { sink, file } = open({ max_bytes: 4_000, max_files: 3 });
    for (let i = 0; i < 40; i++) sink.record(sampleEvent(AUDIT_DECISIONS[i % AUDIT_DECISIONS.length] ?? 'allowed', i));
    await sink.close();
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(['audit.ndjson', 'audit.ndjson.1', 'audit.ndjson.2', 'audit.ndjson.3']);
    for (const n of names) expect((await readFile(join(dir, n))).length).toBeLessThanOrEqual(4_000);
    const files = names.map((n) => join(dir, n));
    const v = await auditVerify([files[2], files[0], files[3], files[1]] as string[]);
    expect(v).toMatchObject({ ok: true, lastSeq: 40, anchored: false, chains: 1 });
    // each file starts with the previous file's last hash
    const older = await readRecords(`${file}.1`);
    const newest = await readRecords(file);
    expect(newest[0]?.prev).toBe(older[older.length - 1]?.hash);
    // a missing middle file is detected at the first record after the hole
    const hole = await auditVerify([files[0], files[1], files[3]] as string[]);
    expect(hole.ok).toBe(false);
    expect(hole.firstBroken).toMatchObject({ file: files[1], line: 1 });
    expect(hole.firstBroken?.reason).toMatch(/file of the set is missing/);
  });

  it('continues from the newest rotated file when the active file is empty', async () => {
    const first = open({ max_bytes: 3_000 });
    for (let i = 0; i < 12; i++) first.sink.record(sampleEvent('allowed', i));
    await first.sink.close();
    // as after a crash between rotation and the first write: the active file is empty
    await writeFile(first.file, '');
    const rotated = await readRecords(`${first.file}.1`);
    const lastRotated = rotated[rotated.length - 1];
    const second = open({ max_bytes: 3_000 });
    second.sink.record(sampleEvent('blocked', 1));
    await second.sink.close();
    const [rec] = await readRecords(first.file);
    expect(rec?.seq).toBe((lastRotated?.seq as number) + 1);
    expect(rec?.prev).toBe(lastRotated?.hash);
    const files = (await readdir(dir)).map((n) => join(dir, n));
    expect((await auditVerify(files)).ok).toBe(true);
  });
});

describe('audit sink: failure policies', () => {
  // Tests may run as root, where chmod does not stop writes: a path under a regular file fails with ENOTDIR.
  async function blockedPath(): Promise<string> {
    const parent = join(dir, 'not-a-dir');
    await writeFile(parent, 'x');
    return join(parent, 'audit.ndjson');
  }

  it('fail-closed: an unwritable path makes accepting() false, record() throws AUDIT_UNAVAILABLE once full, and recovery resumes', async () => {
    const path = await blockedPath();
    const { sink, logger } = open({ path, queue_size: 3, on_failure: 'fail-closed' });
    await sink.ready();
    expect(sink.accepting()).toBe(false);
    const st = sink.stats();
    expect(st.healthy).toBe(false);
    expect(st.lastError).toBe('ENOTDIR (mkdir)');
    expect(st.lastError).not.toContain(dir);
    expect(logger.entries.some((e) => e.level === 'error' && JSON.stringify(e).includes('ENOTDIR'))).toBe(true);
    // the operator log names the path to fix; stats (shown to agents via status) do not
    expect(JSON.stringify(logger.entries)).toContain(path);
    // events of calls already admitted are kept for the retry
    for (let i = 0; i < 3; i++) sink.record(sampleEvent('allowed', i));
    let thrown: unknown;
    try {
      sink.record(sampleEvent('allowed', 99));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe('AUDIT_UNAVAILABLE');
    expect(sink.stats().dropped).toBe(1);
    // the operator fixes the path: the sink recovers on its own
    await rm(join(dir, 'not-a-dir'));
    // the sink's own retry (recursive mkdir) may create it first: tolerate either order
    await mkdir(join(dir, 'not-a-dir'), { recursive: true });
    await waitFor(() => sink.stats().healthy);
    expect(sink.accepting()).toBe(true);
    await sink.flush(2_000);
    const records = await readRecords(path);
    expect(records.map((r) => r.decision)).toEqual(['allowed', 'allowed', 'allowed', 'audit_gap']);
    expect(records[3]).toMatchObject({ dropped: 1, reasons: ['AUDIT_RECORDS_DROPPED'] });
    expect(sink.stats().failed).toBeGreaterThan(0);
    expect((await auditVerify([path])).ok).toBe(true);
  });

  it('fail-closed: accepts nothing before the first open succeeded (no call may run ahead of its record)', async () => {
    const bad = open({ path: await blockedPath(), on_failure: 'fail-closed' });
    // synchronously after creation, before the first open attempt: on 344cc74 this was true
    expect(bad.sink.accepting()).toBe(false);
    await bad.sink.ready();
    expect(bad.sink.accepting()).toBe(false);
    expect(auditStartProblem(bad.sink, { on_failure: 'fail-closed' })).toMatch(/audit log cannot be opened \(ENOTDIR \(mkdir\)\): .*not-a-dir.*Set audit\.path/);
    const good = open({ path: join(dir, 'good.ndjson'), on_failure: 'fail-closed' });
    expect(good.sink.accepting()).toBe(false);
    await good.sink.ready();
    expect(good.sink.accepting()).toBe(true);
    expect(auditStartProblem(good.sink, { on_failure: 'fail-closed' })).toBeNull();
  });

  it('durable(): resolves once the record is in the file; rejects AUDIT_UNAVAILABLE when the sink cannot write it', async () => {
    const { sink, file } = open({ fsync: 'always' });
    await sink.ready();
    await sink.durable(sampleEvent('allowed', 1));
    // written before durable() resolved: the file holds it now, no flush needed
    expect((await readRecords(file)).map((r) => r.request_id)).toEqual(['req-allowed-1']);
    const bad = open({ path: await blockedPath(), on_failure: 'fail-closed' });
    await bad.sink.ready();
    await expect(bad.sink.durable(sampleEvent('allowed', 2))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });

  it('drop: an unwritable path keeps accepting calls and counts what does not fit', async () => {
    const path = await blockedPath();
    const { sink } = open({ path, queue_size: 5, on_failure: 'drop' });
    await sink.ready();
    expect(sink.stats().healthy).toBe(false);
    expect(sink.accepting()).toBe(true);
    for (let i = 0; i < 12; i++) expect(() => sink.record(sampleEvent('allowed', i))).not.toThrow();
    expect(sink.stats()).toMatchObject({ dropped: 7, queued: 6 });
    await rm(join(dir, 'not-a-dir'));
    // the sink's own retry (recursive mkdir) may create it first: tolerate either order
    await mkdir(join(dir, 'not-a-dir'), { recursive: true });
    await waitFor(() => sink.stats().healthy && sink.stats().queued === 0);
    const records = await readRecords(path);
    expect(records).toHaveLength(6);
    expect(records[5]).toMatchObject({ decision: 'audit_gap', dropped: 7 });
    expect((await auditVerify([path])).ok).toBe(true);
  });

  it('drop: queue overflow in one burst counts drops and leaves one gap record', async () => {
    const { sink, file } = open({ queue_size: 10, on_failure: 'drop' });
    for (let i = 0; i < 100; i++) sink.record(sampleEvent('allowed', i));
    expect(sink.stats().dropped).toBe(90);
    await sink.close();
    const records = await readRecords(file);
    expect(records).toHaveLength(11);
    expect(records[10]).toMatchObject({ decision: 'audit_gap', dropped: 90, seq: 11 });
    expect(sink.stats()).toMatchObject({ written: 11, dropped: 90 });
  });

  it('fail-closed: queue overflow refuses instead of dropping silently', async () => {
    const { sink } = open({ queue_size: 10, on_failure: 'fail-closed' });
    for (let i = 0; i < 10; i++) sink.record(sampleEvent('allowed', i));
    expect(sink.accepting()).toBe(false);
    expect(() => sink.record(sampleEvent('allowed', 10))).toThrow(GatewayError);
    await sink.flush(2_000);
    expect(sink.accepting()).toBe(true);
  });

  it('a failure while running (rotation into a vanished directory) is retried and the chain continues', async () => {
    const sub = join(dir, 'logs');
    const path = join(sub, 'audit.ndjson');
    const { sink } = open({ path, max_bytes: 2_000, on_failure: 'fail-closed' });
    for (let i = 0; i < 3; i++) sink.record(sampleEvent('allowed', i));
    await sink.flush(2_000);
    await rm(sub, { recursive: true });
    await writeFile(sub, 'x');
    for (let i = 3; i < 12; i++) sink.record(sampleEvent('allowed', i));
    await waitFor(() => !sink.stats().healthy);
    expect(sink.accepting()).toBe(false);
    // the sink's retry recreates the directory itself (recursive mkdir) once the blocking
    // file is gone, and may win the race against this line: tolerate either order
    await rm(sub);
    await mkdir(sub, { recursive: true });
    await waitFor(() => sink.stats().healthy && sink.stats().queued === 0);
    expect(sink.stats().written).toBe(12);
    // the audit files, not the hidden lock file (held for a short lease after a write)
    const files = (await readdir(sub)).filter((n) => !n.startsWith('.')).map((n) => join(sub, n));
    const v = await auditVerify(files);
    expect(v).toMatchObject({ ok: true, lastSeq: 12, anchored: false });
  });

  it('after close(), drop counts late records and fail-closed refuses them', async () => {
    const a = open({ on_failure: 'drop' });
    await a.sink.close();
    a.sink.record(sampleEvent('allowed', 1));
    expect(a.sink.stats().dropped).toBe(1);
    const b = open({ on_failure: 'fail-closed', path: join(dir, 'b.ndjson') });
    await b.sink.close();
    expect(b.sink.accepting()).toBe(false);
    expect(() => b.sink.record(sampleEvent('allowed', 1))).toThrow(GatewayError);
  });

  it('fsync: always writes and syncs every batch', async () => {
    const { sink, file } = open({ fsync: 'always' });
    for (let i = 0; i < 5; i++) sink.record(sampleEvent('executed', i));
    await sink.flush(2_000);
    expect((await readRecords(file)).length).toBe(5);
    expect(sink.stats().failed).toBe(0);
  });
});

describe('audit sink: records of one window share a write (issue #13)', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('record() waits out the coalescing window; durable() is written at once, with everything queued before it', async () => {
    const realTimeout = globalThis.setTimeout;
    const sleepReal = (ms: number): Promise<void> => new Promise((r) => realTimeout(r, ms));
    const { sink, file } = open({ fsync: 'always' });
    await sink.ready();
    await sleepReal(20); // the writer's first run (the open) has ended
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    sink.record(sampleEvent('allowed', 1));
    await sleepReal(60);
    // the coalescing timer has not fired (fake time stands still): nothing written yet
    expect(await readRecords(file)).toEqual([]);
    await sink.durable(sampleEvent('executed', 2));
    expect((await readRecords(file)).map((r) => r.request_id)).toEqual(['req-allowed-1', 'req-executed-2']);
    sink.record(sampleEvent('allowed', 3));
    await sleepReal(30);
    expect(await readRecords(file)).toHaveLength(2);
    vi.advanceTimersByTime(COALESCE_MS);
    for (let i = 0; i < 200 && (await readRecords(file)).length < 3; i++) await sleepReal(10);
    expect((await readRecords(file)).map((r) => r.request_id)).toEqual(['req-allowed-1', 'req-executed-2', 'req-allowed-3']);
  });

  it('records arriving one at a time while the writer is idle share one write (one lock and write per window, not per record)', async () => {
    const realTimeout = globalThis.setTimeout;
    const sleepReal = (ms: number): Promise<void> => new Promise((r) => realTimeout(r, ms));
    const appends = vi.spyOn(FileTarget.prototype, 'append');
    const { sink, file } = open();
    await sink.ready();
    await sleepReal(20);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const N = 8;
    for (let i = 0; i < N; i++) {
      sink.record(sampleEvent('allowed', i));
      await sleepReal(5); // time for a write, had one started
    }
    expect(appends).not.toHaveBeenCalled();
    vi.advanceTimersByTime(COALESCE_MS);
    for (let i = 0; i < 200 && (await readRecords(file)).length < N; i++) await sleepReal(10);
    expect(await readRecords(file)).toHaveLength(N);
    // one write per record before (N); now one for the window
    expect(appends).toHaveBeenCalledTimes(1);
  });
});

describe('audit file path', () => {
  const env = { HOME: '/home/ana' };
  it('a configured path resolves against the working directory, for both transports', () => {
    expect(auditFilePath({ path: 'logs/a.ndjson' }, { transport: 'stdio', cwd: '/srv', env })).toBe('/srv/logs/a.ndjson');
    expect(auditFilePath({ path: '/var/log/a.ndjson' }, { transport: 'stdio', cwd: '/', env })).toBe('/var/log/a.ndjson');
  });
  it('the default path: under HTTP in the working directory, under stdio in the per-user state directory', () => {
    expect(auditFilePath({ path: '.pgwarden/audit.ndjson' }, { transport: 'http', cwd: '/srv', env })).toBe('/srv/.pgwarden/audit.ndjson');
    expect(auditFilePath({ path: '.pgwarden/audit.ndjson' }, { transport: 'stdio', cwd: '/', env })).toBe('/home/ana/.local/state/pgwarden/audit.ndjson');
    expect(auditFilePath({ path: '.pgwarden/audit.ndjson' }, { transport: 'stdio', cwd: '/', env: { ...env, XDG_STATE_HOME: '/xdg' } })).toBe('/xdg/pgwarden/audit.ndjson');
    // a relative XDG_STATE_HOME is invalid per the spec: ignored
    expect(auditFilePath({ path: '.pgwarden/audit.ndjson' }, { transport: 'stdio', cwd: '/', env: { ...env, XDG_STATE_HOME: 'rel' } })).toBe('/home/ana/.local/state/pgwarden/audit.ndjson');
  });
});

describe('audit sink: stdout, stderr and none', () => {
  it('refuses stdout under the stdio transport and says why', () => {
    expect(auditSinkProblem({ sink: 'stdout' }, 'stdio')).toMatch(/stdout carries the MCP protocol/);
    expect(auditSinkProblem({ sink: 'stdout' }, 'http')).toBeNull();
    expect(auditSinkProblem({ sink: 'stderr' }, 'stdio')).toBeNull();
    expect(() => createAuditSink(auditConfig({ sink: 'stdout' }), captureLogger(), { transport: 'stdio' })).toThrow(/stdio/);
  });

  it('none: records nothing, always accepts, and warns once', async () => {
    const logger = captureLogger();
    const sink = createAuditSink(auditConfig({ sink: 'none' }), logger);
    sink.record(sampleEvent('allowed', 1));
    expect(sink.accepting()).toBe(true);
    expect(sink.stats()).toMatchObject({ sink: 'none', written: 0, healthy: true });
    expect(logger.entries.filter((e) => e.level === 'warn')).toHaveLength(1);
    await sink.close();
  });
});
