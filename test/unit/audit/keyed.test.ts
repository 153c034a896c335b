import { createHmac } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../../src/audit/canonical.js';
import { AuditKey } from '../../../src/audit/keyed.js';
import { buildRecordBody, encodeRecord, snapshotEvent } from '../../../src/audit/record.js';
import { createAuditSink } from '../../../src/audit/setup.js';
import { type AuditSink } from '../../../src/audit/sink.js';
import { auditVerify, REASON_DOWNGRADE, REASON_UNCOVERED, REASON_UNKEYED } from '../../../src/audit/verify.js';
import { AUDIT_DECISIONS, GENESIS_PREV, type AuditEvent } from '../../../src/audit/types.js';
import { auditConfig, captureLogger, KEY, OTHER_KEY, readRecords, sampleEvent, tempDir } from './helpers.js';

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

function open(overrides: Parameters<typeof auditConfig>[0] = {}) {
  const logger = captureLogger();
  const file = join(dir, 'audit.ndjson');
  const sink = createAuditSink(auditConfig({ path: file, flush_timeout_ms: 2_000, ...overrides }), logger, FAST_RETRY);
  sinks.push(sink);
  return { sink, logger, file };
}

async function writeKeyed(n: number, key = KEY, overrides: Parameters<typeof auditConfig>[0] = {}): Promise<string> {
  const { sink, file } = open({ hmac_key: key, ...overrides });
  for (let i = 0; i < n; i++) sink.record(sampleEvent(AUDIT_DECISIONS[i % AUDIT_DECISIONS.length] ?? 'allowed', i));
  await sink.close();
  return file;
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').slice(0, -1);
}

async function writeLines(name: string, content: string[]): Promise<string> {
  const out = join(dir, name);
  await writeFile(out, `${content.join('\n')}\n`);
  return out;
}

/** What an attacker without the key does: edit record `at` and recompute sha256 hashes from there on, unkeyed. */
function rewriteUnkeyed(original: string[], at: number, edit: (r: Record<string, unknown>) => void, keepKeyLabels = false): string[] {
  const out = original.slice(0, at);
  let prev = at === 0 ? GENESIS_PREV : ((JSON.parse(original[at - 1] as string) as { hash: string }).hash);
  for (let i = at; i < original.length; i++) {
    const { hash: _old, ...body } = JSON.parse(original[i] as string) as Record<string, unknown>;
    if (!keepKeyLabels) {
      delete body.alg;
      delete body.key_id;
    }
    body.prev = prev;
    if (i === at) edit(body);
    const canonical = canonicalJson(body);
    prev = sha256Hex(canonical);
    out.push(`${canonical.slice(0, -1)},"hash":"${prev}"}`);
  }
  return out;
}

describe('AuditKey', () => {
  it('has a public 8-hex key_id derived with HMAC, distinct per key, and no way to print the key', () => {
    const k = new AuditKey(KEY);
    expect(k.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(k.keyId).toBe(createHmac('sha256', KEY).update('pgwarden/audit/key-id/v1').digest('hex').slice(0, 8));
    expect(new AuditKey(KEY).keyId).toBe(k.keyId);
    expect(new AuditKey(OTHER_KEY).keyId).not.toBe(k.keyId);
    // not a plain hash of the key (which would be a public, unkeyed check value)
    expect(sha256Hex(KEY).startsWith(k.keyId)).toBe(false);
    for (const shown of [inspect(k, { showHidden: true, depth: 10 }), JSON.stringify({ k }), String(k), `${k.toString()}`]) {
      expect(shown).not.toContain(KEY);
      expect(shown).not.toContain(Buffer.from(KEY).toString('hex'));
    }
  });

  it('refuses a key shorter than 32 characters without echoing it', () => {
    const short = 'short-secret-value';
    expect(() => new AuditKey(short)).toThrow(/at least 32 characters/);
    try {
      new AuditKey(short);
    } catch (err) {
      expect(String(err)).not.toContain(short);
    }
  });
});

describe('unkeyed mode is byte-compatible with logs written before keying existed', () => {
  // the same events a pre-HMAC writer (commit 63f4e8d) turned into fixtures/unkeyed-before-hmac.ndjson
  const events: AuditEvent[] = [
    { decision: 'allowed', request_id: 'r1', principal: 'alice', client: '127.0.0.1', tool: 'query', database: 'demo', kind: 'read', relations: ['app.orders'], fingerprint: '5e1f0a4b9c2d7e31', normalized_sql: 'SELECT id FROM app.orders WHERE customer_id = $1', rows: 12, duration_ms: 2.41, ts: '2026-11-21T18:13:25.745Z' },
    { decision: 'blocked', request_id: 'r2', principal: 'bob', client: 'stdio', tool: 'query', database: 'demo', reasons: ['DENIED_TABLE'], kind: 'read', relations: ['internal.api_keys'], ts: '2026-11-21T18:13:26.000Z' },
    { decision: 'held', request_id: 'r3', principal: 'agent', tool: 'execute', database: 'demo', kind: 'write', blast_radius_rows: 48210, approval_id: 'appr-1', ts: '2026-11-21T18:13:27.000Z' },
    { decision: 'executed', request_id: 'r4', principal: 'agent', tool: 'execute', database: 'demo', kind: 'write', rows: 3, undo_id: 'undo-1', sql_raw: "UPDATE app.orders SET status = 'x'", ts: '2026-11-21T18:13:28.000Z' },
    { decision: 'auth_failed', request_id: 'r5', client: '10.0.0.9', reasons: ['UNAUTHORIZED'], ts: '2026-11-21T18:13:29.000Z' },
  ];
  const fixture = new URL('./fixtures/unkeyed-before-hmac.ndjson', import.meta.url).pathname;

  it('an old file still verifies (without and with --no-strict), as unkeyed', async () => {
    expect(await auditVerify([fixture])).toMatchObject({ ok: true, records: 6, mode: 'unkeyed', keyedRecords: 0, keyRequired: false, anchored: true });
    expect((await auditVerify([fixture], { strict: false })).ok).toBe(true);
  });

  it('the writer without a key produces exactly the same bytes as before', async () => {
    const old = await lines(fixture);
    let prev = GENESIS_PREV;
    const now: string[] = [];
    events.forEach((e, i) => {
      const { line, hash } = encodeRecord(buildRecordBody(snapshotEvent(e), i + 1, prev, { includeRawSql: i === 3 }));
      now.push(line);
      prev = hash;
    });
    const gap = encodeRecord(
      buildRecordBody({ decision: 'audit_gap', ts: '2026-11-21T18:13:30.000Z', reasons: ['AUDIT_RECORDS_DROPPED'], dropped: 7 }, 6, prev, { includeRawSql: false }),
    );
    now.push(gap.line);
    expect(now).toEqual(old);
    for (const l of now) expect(l).not.toMatch(/"alg"|"key_id"/);
  });
});

describe('keyed records', () => {
  it('declare alg and key_id inside the hashed body, and hash = HMAC-SHA-256(key, canonical body)', async () => {
    const file = await writeKeyed(5);
    const key = new AuditKey(KEY);
    for (const line of await lines(file)) {
      const { hash, ...body } = JSON.parse(line) as Record<string, unknown>;
      expect(body).toMatchObject({ alg: 'hmac-sha256', key_id: key.keyId });
      const canonical = canonicalJson(body);
      // independently of AuditKey: the configured secret's bytes are the HMAC key
      expect(hash).toBe(createHmac('sha256', KEY).update(canonical).digest('hex'));
      expect(hash).not.toBe(sha256Hex(canonical));
      expect(line).toBe(`${canonical.slice(0, -1)},"hash":"${String(hash)}"}`);
    }
  });

  it('encodeRecord refuses a body built for another key (or none)', () => {
    const key = new AuditKey(KEY);
    const ev = snapshotEvent(sampleEvent('allowed', 1));
    const keyedBody = buildRecordBody(ev, 1, GENESIS_PREV, { includeRawSql: false, key });
    expect(() => encodeRecord(keyedBody)).toThrow(/disagree/);
    expect(() => encodeRecord(keyedBody, new AuditKey(OTHER_KEY))).toThrow(/disagree/);
    expect(() => encodeRecord(buildRecordBody(ev, 1, GENESIS_PREV, { includeRawSql: false }), key)).toThrow(/disagree/);
  });

  it('gap records and sql_raw records are keyed too', async () => {
    const { sink, file } = open({ hmac_key: KEY, include_raw_sql: true, queue_size: 2, on_failure: 'drop' });
    for (let i = 0; i < 10; i++) sink.record({ ...sampleEvent('executed', i), sql_raw: `UPDATE t SET a = ${i}` });
    await sink.close();
    const records = await readRecords(file);
    expect(records.some((r) => r.decision === 'audit_gap')).toBe(true);
    expect(records.some((r) => typeof r.sql_raw === 'string')).toBe(true);
    for (const r of records) expect(r.alg).toBe('hmac-sha256');
    expect(await auditVerify([file], { keys: [KEY] })).toMatchObject({ ok: true, mode: 'keyed', keyedRecords: records.length });
  });
});

describe('verifying a keyed log', () => {
  it('verifies with the key: mode keyed, the key_id reported, never the key', async () => {
    const file = await writeKeyed(12);
    const r = await auditVerify([file], { keys: [KEY] });
    expect(r).toMatchObject({ ok: true, records: 12, mode: 'keyed', keyedRecords: 12, keyIds: [new AuditKey(KEY).keyId], keyRequired: true, anchored: true });
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  it('without a key: fails at the first keyed record, asking for --key-file', async () => {
    const file = await writeKeyed(4);
    const r = await auditVerify([file]);
    expect(r).toMatchObject({ ok: false, records: 0, keyRequired: false, firstBroken: { line: 1, seq: 1 } });
    expect(r.firstBroken?.reason).toMatch(/^keyed record \(hmac-sha256, key_id [0-9a-f]{8}\): pass --key-file/);
  });

  it('with a wrong key: fails, reported as another key and not as a modification', async () => {
    const file = await writeKeyed(4);
    const r = await auditVerify([file], { keys: [OTHER_KEY] });
    expect(r).toMatchObject({ ok: false, records: 0, firstBroken: { line: 1, seq: 1 } });
    expect(r.firstBroken?.reason).toMatch(/^keyed with another key \(key_id [0-9a-f]{8}; the given key has key_id [0-9a-f]{8}\): wrong key/);
    expect(r.firstBroken?.reason).not.toMatch(/HMAC mismatch/);
  });

  it('THE ATTACK: edit a record and recompute the tail as unkeyed sha256 — detected as a downgrade with the key', async () => {
    const original = await lines(await writeKeyed(10));
    const forged = await writeLines('forged.ndjson', rewriteUnkeyed(original, 6, (b) => (b.principal = 'nobody')));
    const r = await auditVerify([forged], { keys: [KEY] });
    expect(r).toMatchObject({ ok: false, records: 6, lastSeq: 6, firstBroken: { line: 7, seq: 7, reason: REASON_DOWNGRADE } });
    // without the key it does not verify either (a keyed record needs the key)
    expect((await auditVerify([forged])).ok).toBe(false);
  });

  it('the same attack keeping alg and key_id (sha256 in place of the HMAC): HMAC mismatch at the edited record', async () => {
    const original = await lines(await writeKeyed(10));
    const forged = await writeLines('forged.ndjson', rewriteUnkeyed(original, 6, (b) => (b.rows = 0), true));
    const r = await auditVerify([forged], { keys: [KEY] });
    expect(r.firstBroken).toMatchObject({ line: 7, seq: 7 });
    expect(r.firstBroken?.reason).toMatch(/^HMAC mismatch: the record was modified/);
  });

  it('the attack rewriting the whole file unkeyed from seq 1 — detected only when a key is given', async () => {
    const original = await lines(await writeKeyed(8));
    const forged = await writeLines('forged.ndjson', rewriteUnkeyed(original, 0, (b) => (b.principal = 'nobody')));
    // LIMIT: the verifier cannot know the file was meant to be keyed unless it is told
    expect(await auditVerify([forged])).toMatchObject({ ok: true, mode: 'unkeyed', records: 8 });
    const r = await auditVerify([forged], { keys: [KEY] });
    expect(r).toMatchObject({ ok: false, records: 0, lastSeq: null, mode: 'none', firstBroken: { line: 1, seq: 1, reason: REASON_UNKEYED } });
    // also when unkeyed prefixes are allowed: no keyed record covers them
    const p = await auditVerify([forged], { keys: [KEY], allowUnkeyedPrefix: true });
    expect(p).toMatchObject({ ok: false, records: 0, lastSeq: null, mode: 'none', firstBroken: { line: 1, seq: 1, reason: REASON_UNCOVERED } });
  });

  it('LIMIT, unkeyed logs: edit + recompute of the tail is NOT detected without a key', async () => {
    const { sink, file } = open();
    for (let i = 0; i < 10; i++) sink.record(sampleEvent('allowed', i));
    await sink.close();
    const forged = await writeLines('forged.ndjson', rewriteUnkeyed(await lines(file), 6, (b) => (b.principal = 'nobody')));
    expect(await readFile(forged, 'utf8')).toContain('"principal":"nobody"');
    expect(await auditVerify([forged])).toMatchObject({ ok: true, records: 10, mode: 'unkeyed' });
  });

  it('a downgrade after keyed records is broken even when the unkeyed records are honest sha256', async () => {
    const original = await lines(await writeKeyed(5));
    const last = JSON.parse(original[4] as string) as { hash: string };
    const tail = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 99)), 6, last.hash, { includeRawSql: false }));
    const file = await writeLines('down.ndjson', [...original, tail.line]);
    expect(await auditVerify([file], { keys: [KEY] })).toMatchObject({ ok: false, records: 5, firstBroken: { line: 6, seq: 6, reason: REASON_DOWNGRADE } });
  });

  it('a downgrade across a stream restart (a new unkeyed chain after a keyed one) is broken', async () => {
    const original = await lines(await writeKeyed(3));
    const restart = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 1)), 1, GENESIS_PREV, { includeRawSql: false }));
    const file = await writeLines('restart.ndjson', [...original, restart.line]);
    expect((await auditVerify([file], { keys: [KEY] })).firstBroken).toMatchObject({ line: 4, seq: 1, reason: REASON_DOWNGRADE });
  });

  it('with a key, an unkeyed chain followed by a separate keyed chain is not covered', async () => {
    const opts = { includeRawSql: false };
    const key = new AuditKey(KEY);
    const a = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 1)), 1, GENESIS_PREV, opts));
    const b = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 2)), 2, a.hash, opts));
    const c = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 3)), 1, GENESIS_PREV, { ...opts, key }), key);
    const file = await writeLines('chains.ndjson', [a.line, b.line, c.line]);
    expect(await auditVerify([file], { keys: [KEY], allowUnkeyedPrefix: true })).toMatchObject({
      ok: false,
      records: 0,
      chains: 0,
      firstBroken: { line: 1, seq: 1, reason: REASON_UNCOVERED },
    });
  });

  it('rejects malformed key labels', async () => {
    const [first] = await lines(await writeKeyed(1));
    const rec = JSON.parse(first as string) as Record<string, unknown>;
    const variants: [Record<string, unknown>, RegExp][] = [
      [{ ...rec, alg: 'sha1' }, /unknown alg/],
      [{ ...rec, key_id: 'XYZ' }, /malformed key_id/],
      [{ ...rec, alg: undefined }, /key_id without alg/],
    ];
    for (const [v, reason] of variants) {
      const file = await writeLines('bad.ndjson', [JSON.stringify(v)]);
      expect((await auditVerify([file], { keys: [KEY], strict: false })).firstBroken?.reason).toMatch(reason);
    }
  });
});

describe('keyed sink: restart, key change, upgrade, rotation', () => {
  it('restart continues the keyed chain (seq and hash from the tail) and it verifies with the key', async () => {
    const first = open({ hmac_key: KEY });
    for (let i = 0; i < 5; i++) first.sink.record(sampleEvent('allowed', i));
    await first.sink.close();
    const second = open({ hmac_key: KEY });
    await second.sink.ready();
    expect(second.sink.stats()).toMatchObject({ lastSeq: 5, healthy: true });
    for (let i = 0; i < 5; i++) second.sink.record(sampleEvent('blocked', i));
    await second.sink.close();
    const records = await readRecords(first.file);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(records[5]?.prev).toBe(records[4]?.hash);
    expect(await auditVerify([first.file], { keys: [KEY] })).toMatchObject({ ok: true, records: 10, chains: 1, mode: 'keyed' });
    // same key: nothing to say about keys
    expect(second.logger.entries.some((e) => e.level === 'warn')).toBe(false);
  });

  it('restart with a torn keyed tail: cut, a keyed audit_gap record, and the chain verifies', async () => {
    const file = await writeKeyed(3);
    await writeFile(file, `${await readFile(file, 'utf8')}{"alg":"hmac-sha256","approval_id":null,"bl`);
    const second = open({ hmac_key: KEY });
    second.sink.record(sampleEvent('executed', 9));
    await second.sink.close();
    const records = await readRecords(file);
    expect(records.map((r) => [r.seq, r.decision, r.alg])).toEqual([
      [1, 'allowed', 'hmac-sha256'],
      [2, 'blocked', 'hmac-sha256'],
      [3, 'held', 'hmac-sha256'],
      [4, 'audit_gap', 'hmac-sha256'],
      [5, 'executed', 'hmac-sha256'],
    ]);
    expect((await auditVerify([file], { keys: [KEY] })).ok).toBe(true);
  });

  it('restart with another key continues the chain, warns with both key ids, and verifies with both keys', async () => {
    await writeKeyed(4, KEY);
    const second = open({ hmac_key: OTHER_KEY });
    for (let i = 0; i < 3; i++) second.sink.record(sampleEvent('allowed', i));
    await second.sink.close();
    const warn = second.logger.entries.find((e) => e.level === 'warn');
    expect(warn?.obj).toEqual({ audit: { keyId: new AuditKey(OTHER_KEY).keyId, previousKeyId: new AuditKey(KEY).keyId, keyedFromSeq: 5 } });
    const both = await auditVerify([second.file], { keys: [OTHER_KEY, KEY] });
    expect(both).toMatchObject({ ok: true, records: 7, mode: 'keyed', keyIds: [new AuditKey(KEY).keyId, new AuditKey(OTHER_KEY).keyId] });
    const onlyNew = await auditVerify([second.file], { keys: [OTHER_KEY] });
    expect(onlyNew.firstBroken).toMatchObject({ line: 1 });
    expect(onlyNew.firstBroken?.reason).toMatch(/keyed with another key/);
    const onlyOld = await auditVerify([second.file], { keys: [KEY] });
    expect(onlyOld).toMatchObject({ records: 4, firstBroken: { line: 5, seq: 5 } });
  });

  it('turning a key on for an existing unkeyed file: the chain continues keyed; it verifies with the key only with allowUnkeyedPrefix (mixed)', async () => {
    const first = open();
    for (let i = 0; i < 3; i++) first.sink.record(sampleEvent('allowed', i));
    await first.sink.close();
    const second = open({ hmac_key: KEY });
    for (let i = 0; i < 3; i++) second.sink.record(sampleEvent('blocked', i));
    await second.sink.close();
    const note = second.logger.entries.find((e) => e.msg?.includes('continues keyed'));
    expect(note).toMatchObject({ level: 'warn', obj: { audit: { keyId: new AuditKey(KEY).keyId, keyedFromSeq: 4 } } });
    const file = first.file;
    // a key means every record must be keyed…
    expect(await auditVerify([file], { keys: [KEY] })).toMatchObject({ ok: false, records: 0, firstBroken: { line: 1, seq: 1, reason: REASON_UNKEYED } });
    // …unless the operator accepts the unkeyed prefix, and is told where keying began
    const mixed = await auditVerify([file], { keys: [KEY], allowUnkeyedPrefix: true });
    expect(mixed).toMatchObject({ ok: true, records: 6, mode: 'mixed', keyedRecords: 3, keyedFromSeq: 4 });
    // without the key: the unkeyed part verifies, the first keyed record asks for the key
    expect(await auditVerify([file])).toMatchObject({ ok: false, records: 3, firstBroken: { line: 4, seq: 4 } });
    // rewriting the unkeyed part (consistently) is caught at the first keyed record: its HMAC covers prev
    const original = await lines(file);
    const rewritten = rewriteUnkeyed(original.slice(0, 3), 1, (b) => (b.principal = 'nobody'));
    const forged = await writeLines('forged.ndjson', [...rewritten, ...original.slice(3)]);
    expect((await auditVerify([forged], { keys: [KEY], allowUnkeyedPrefix: true })).firstBroken).toMatchObject({
      line: 4,
      seq: 4,
      reason: expect.stringMatching(/prev does not match/) as unknown,
    });
  });

  it('LIMIT of allowUnkeyedPrefix: a whole keyed log rewritten unkeyed, then continued by a restarted keyed sink, passes — only keyedFromSeq tells', async () => {
    const file = await writeKeyed(6);
    const forged = rewriteUnkeyed(await lines(file), 0, (b) => (b.principal = 'nobody'));
    await writeFile(file, `${forged.join('\n')}\n`);
    const restarted = open({ hmac_key: KEY });
    restarted.sink.record(sampleEvent('allowed', 42));
    await restarted.sink.close();
    // the default (every record keyed) catches it
    expect((await auditVerify([file], { keys: [KEY] })).firstBroken).toMatchObject({ line: 1, reason: REASON_UNKEYED });
    // the opt-in accepts it, and says keying began at seq 7 — not where the key was really turned on (seq 1)
    expect(await auditVerify([file], { keys: [KEY], allowUnkeyedPrefix: true })).toMatchObject({ ok: true, mode: 'mixed', keyedFromSeq: 7 });
    // the sink said so at the restart, in the operator's logs
    expect(restarted.logger.entries.find((e) => e.msg?.includes('continues keyed'))?.obj).toEqual({ audit: { keyId: new AuditKey(KEY).keyId, keyedFromSeq: 7 } });
  });

  it('an unkeyed sink refuses to continue a keyed file (AUDIT_TAIL_KEYED) and leaves it untouched', async () => {
    const file = await writeKeyed(3);
    const before = await readFile(file, 'utf8');
    const { sink } = open();
    await sink.ready();
    expect(sink.stats()).toMatchObject({ healthy: false, lastError: 'AUDIT_TAIL_KEYED (open)', written: 0 });
    expect(sink.accepting()).toBe(false);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('an unkeyed sink also refuses when the keyed tail is in the rotated file', async () => {
    await writeKeyed(12, KEY, { max_bytes: 3_000 });
    await writeFile(join(dir, 'audit.ndjson'), '');
    const { sink } = open({ max_bytes: 3_000 });
    await sink.ready();
    expect(sink.stats()).toMatchObject({ healthy: false, lastError: 'AUDIT_TAIL_KEYED (open)' });
  });

  it('rotation in keyed mode: every file keyed, linked, and the set verifies with the key in any order', async () => {
    const file = await writeKeyed(40, KEY, { max_bytes: 4_000, max_files: 3 });
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(['audit.ndjson', 'audit.ndjson.1', 'audit.ndjson.2', 'audit.ndjson.3']);
    const files = names.map((n) => join(dir, n));
    const v = await auditVerify([files[2], files[0], files[3], files[1]] as string[], { keys: [KEY] });
    expect(v).toMatchObject({ ok: true, lastSeq: 40, anchored: false, mode: 'keyed', keyRequired: true });
    const older = await readRecords(`${file}.1`);
    const newest = await readRecords(file);
    expect(newest[0]?.prev).toBe(older[older.length - 1]?.hash);
    expect(newest[0]?.alg).toBe('hmac-sha256');
    // a restart after rotation continues from the rotated file, keyed
    await writeFile(file, '');
    const again = open({ hmac_key: KEY, max_bytes: 4_000, max_files: 3 });
    again.sink.record(sampleEvent('allowed', 1));
    await again.sink.close();
    const [rec] = await readRecords(file);
    expect(rec).toMatchObject({ seq: (older[older.length - 1]?.seq as number) + 1, prev: older[older.length - 1]?.hash, alg: 'hmac-sha256' });
    expect((await auditVerify((await readdir(dir)).map((n) => join(dir, n)), { keys: [KEY] })).ok).toBe(true);
  });

  it('the key is never written to the log, logged, or exposed in stats', async () => {
    const { sink, file, logger } = open({ hmac_key: KEY, max_bytes: 2_000 });
    for (let i = 0; i < 10; i++) sink.record(sampleEvent('allowed', i));
    const stats = JSON.stringify(sink.stats());
    await sink.close();
    const everything = [stats, JSON.stringify(logger.entries), ...(await Promise.all((await readdir(dir)).map((n) => readFile(join(dir, n), 'utf8'))))].join('\n');
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain(Buffer.from(KEY).toString('hex'));
    expect(everything).not.toContain(Buffer.from(KEY).toString('base64'));
    expect(logger.entries.find((e) => e.msg?.includes('keyed'))?.obj).toEqual({ audit: { sink: 'file', alg: 'hmac-sha256', keyId: new AuditKey(KEY).keyId } });
    expect(file).toBeTruthy();
  });
});
