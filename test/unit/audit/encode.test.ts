/**
 * The writer's encoding fast paths (issue #13) produce exactly what the reference encoding does:
 * the one-pass line builder (encodeEvent) writes the same bytes as JSON.stringify of the record
 * body (buildRecordBody + encodeRecord), and the record hash is sha256 over the UTF-8 bytes of the
 * canonical JSON, whichever API computes it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../../src/audit/canonical.js';
import { AuditKey } from '../../../src/audit/keyed.js';
import { buildRecordBody, encodeEvent, encodeRecord, snapshotEvent, type BuildOptions, type PendingEvent } from '../../../src/audit/record.js';
import { scrubField, scrubSecrets } from '../../../src/audit/scrub.js';
import { GENESIS_PREV, type AuditEvent } from '../../../src/audit/types.js';
import { KEY, sampleEvent } from './helpers.js';

/** A small seeded PRNG (mulberry32): the same adversarial events every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '😀', '\ud800', '\udc00', "'", '$1', '--', '/*', 'password=x', 'Bearer abc.def', 'postgres://u:pw@h/db', '://', '\u0085'];

function text(r: () => number, max = 40): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)] as string;
  return s;
}

function pick<T>(r: () => number, options: readonly T[]): T {
  return options[Math.floor(r() * options.length)] as T;
}

const NUMBERS = [0, -0, 1, -1, 25, 3.417, 0.1 + 0.2, 1e21, 1e-7, 2 ** 53 + 2, 1e306, NaN, Infinity, -Infinity, null, undefined];

function adversarial(r: () => number): AuditEvent {
  const maybe = (): string | null | undefined => pick(r, [null, undefined, text(r), text(r, 200)]);
  const ev: Record<string, unknown> = {
    decision: pick(r, ['allowed', 'blocked', 'failed', 'held', text(r)]),
    request_id: maybe(),
    principal: maybe(),
    client: maybe(),
    tool: maybe(),
    database: maybe(),
    reasons: pick(r, [null, [], ['DENIED_TABLE'], ['bad code', 'NO_WHERE', text(r)]]),
    kind: maybe(),
    relations: pick(r, [null, [], ['app.orders', text(r)], [text(r, 600)]]),
    fingerprint: maybe(),
    normalized_sql: pick(r, [null, undefined, `SELECT * FROM t WHERE a = ${text(r)} AND b = 'x' -- c`, text(r, 100)]),
    rows: pick(r, NUMBERS),
    truncated: pick(r, [true, false, null, undefined, 'yes']),
    duration_ms: pick(r, NUMBERS),
    sqlstate: maybe(),
    undo_id: maybe(),
    approval_id: maybe(),
    observed: pick(r, [true, false, undefined, 1]),
    blast_radius_rows: pick(r, NUMBERS),
    ts: pick(r, [undefined, new Date(1_765_000_000_000 + Math.floor(r() * 1e9)), '2026-12-07T14:00:00.123+01:00', 'not a date']),
  };
  if (r() < 0.3) {
    ev.normalized_sql = undefined;
    ev.fingerprint = undefined;
    ev.statement = r() < 0.5 ? { fingerprint: text(r), normalized: text(r) } : { get fingerprint(): string { throw new Error('boom'); }, get normalized(): string { throw new Error('boom'); } };
  }
  return ev as unknown as AuditEvent;
}

function reference(ev: PendingEvent, seq: number, prev: string, opts: BuildOptions): { line: string; hash: string } {
  return encodeRecord(buildRecordBody(ev, seq, prev, opts), opts.key);
}

describe('audit encoding', () => {
  it('encodeEvent writes exactly the reference line (JSON.stringify of the body) for 3,000 adversarial events, unkeyed and keyed', () => {
    const r = rng(13);
    const key = new AuditKey(KEY);
    let prev = GENESIS_PREV;
    for (let i = 0; i < 3_000; i++) {
      const ev = snapshotEvent(adversarial(r));
      const opts: BuildOptions = { includeRawSql: false, key: i % 3 === 0 ? key : undefined };
      const want = reference(ev, i + 1, prev, opts);
      const got = encodeEvent(ev, i + 1, prev, opts);
      expect(got.line).toBe(want.line);
      expect(got.hash).toBe(want.hash);
      // and the line's hash is the hash of its canonical body, as the verifier computes it
      const { hash, ...body } = JSON.parse(got.line) as Record<string, unknown>;
      if (opts.key === undefined) expect(hash).toBe(sha256Hex(canonicalJson(body)));
      prev = got.hash;
    }
  });

  it('encodeEvent takes the reference path for the rare shapes (raw SQL, parameters, gap records)', () => {
    const ev = snapshotEvent({ ...sampleEvent('allowed', 1), sql_raw: "SELECT 'x'", parameters: ['a'], parameter_values: [1] });
    const opts = { includeRawSql: true };
    expect(encodeEvent(ev, 7, GENESIS_PREV, opts)).toEqual(reference(ev, 7, GENESIS_PREV, opts));
    const gap: PendingEvent = { decision: 'audit_gap', ts: Date.now(), reasons: ['AUDIT_RECORDS_DROPPED'], dropped: 3 };
    expect(encodeEvent(gap, 8, GENESIS_PREV, { includeRawSql: false })).toEqual(reference(gap, 8, GENESIS_PREV, { includeRawSql: false }));
    expect(JSON.parse(encodeEvent(gap, 8, GENESIS_PREV, { includeRawSql: false }).line)).toMatchObject({ dropped: 3 });
  });

  it('scrubField still replaces control characters and secrets after its fast path', () => {
    expect(scrubField('a\u0000b\nc\u007f')).toBe('a?b?c?');
    expect(scrubField('clean')).toBe('clean');
    expect(scrubSecrets('postgres://u:hunter2@db/x')).toBe('postgres://u:***@db/x');
    expect(scrubSecrets('PASSWORD=hunter2')).toBe('PASSWORD=***');
    expect(scrubSecrets('bearer abc.def')).toBe('Bearer ***');
  });

  it('sha256Hex is sha256 over the UTF-8 bytes (ASCII, multi-byte, astral, lone surrogates, empty, long)', () => {
    const texts = ['', '{"a":1}', 'café — ünïcödé', '𝔘𝔫𝔦 😀', 'lone \ud800 high', 'lone \udc00 low', 'x'.repeat(100_000)];
    for (const t of texts) expect(sha256Hex(t)).toBe(createHash('sha256').update(Buffer.from(t, 'utf8')).digest('hex'));
  });
});
