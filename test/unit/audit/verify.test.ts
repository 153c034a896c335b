import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditSink } from '../../../src/audit/setup.js';
import { auditVerify } from '../../../src/audit/verify.js';
import { buildRecordBody, encodeRecord, snapshotEvent } from '../../../src/audit/record.js';
import { canonicalJson, sha256Hex } from '../../../src/audit/canonical.js';
import { AUDIT_DECISIONS, GENESIS_PREV } from '../../../src/audit/types.js';
import { auditCli } from '../../../src/cli/audit.js';
import { auditConfig, captureLogger, sampleEvent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let lines: string[];

const N = 12;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'audit.ndjson');
  const sink = createAuditSink(auditConfig({ path: file }), captureLogger());
  for (let i = 0; i < N; i++) sink.record(sampleEvent(AUDIT_DECISIONS[i % AUDIT_DECISIONS.length] ?? 'allowed', i));
  await sink.close();
  lines = (await readFile(file, 'utf8')).split('\n').slice(0, -1);
  expect(lines).toHaveLength(N);
});

afterEach(async () => cleanup());

async function tampered(newLines: string[], trailingNewline = true): Promise<string> {
  const out = join(dir, 'tampered.ndjson');
  await writeFile(out, newLines.join('\n') + (trailingNewline ? '\n' : ''));
  return out;
}

function capture(): { io: { out: (t: string) => void; err: (t: string) => void }; text: () => string } {
  const chunks: string[] = [];
  return { io: { out: (t) => chunks.push(t), err: (t) => chunks.push(t) }, text: () => chunks.join('\n') };
}

describe('audit verify', () => {
  it('accepts an untouched log', async () => {
    expect(await auditVerify([file])).toMatchObject({ ok: true, records: N, firstSeq: 1, lastSeq: N, anchored: true, chains: 1 });
  });

  it('detects a modified field at that record', async () => {
    const copy = [...lines];
    copy[4] = (copy[4] as string).replace('"principal":"alice"', '"principal":"carol"');
    expect(copy[4]).toContain('carol');
    const r = await auditVerify([await tampered(copy)]);
    expect(r.ok).toBe(false);
    expect(r.firstBroken).toMatchObject({ line: 5, seq: 5 });
    expect(r.firstBroken?.reason).toMatch(/hash mismatch/);
    expect(r.records).toBe(4);
  });

  it('detects a modified record whose hash was recomputed, at the next record', async () => {
    const copy = [...lines];
    const rec = JSON.parse(copy[4] as string) as Record<string, unknown>;
    rec.rows = 0;
    const { hash: _h, ...body } = rec;
    const canonical = canonicalJson(body);
    copy[4] = `${canonical.slice(0, -1)},"hash":"${sha256Hex(canonical)}"}`;
    const r = await auditVerify([await tampered(copy)]);
    expect(r.firstBroken).toMatchObject({ line: 6, seq: 6 });
    expect(r.firstBroken?.reason).toMatch(/deleted, inserted or reordered/);
  });

  it('detects a deleted line at the record after the hole', async () => {
    const copy = [...lines];
    copy.splice(6, 1);
    const r = await auditVerify([await tampered(copy)]);
    expect(r.ok).toBe(false);
    expect(r.firstBroken).toMatchObject({ line: 7, seq: 8 });
    expect(r.firstBroken?.reason).toMatch(/prev does not match/);
  });

  it('detects reordered lines at the first moved record', async () => {
    const copy = [...lines];
    [copy[3], copy[4]] = [copy[4] as string, copy[3] as string];
    const r = await auditVerify([await tampered(copy)]);
    expect(r.firstBroken).toMatchObject({ line: 4, seq: 5 });
  });

  it('detects a truncated last line', async () => {
    const copy = [...lines];
    copy[N - 1] = (copy[N - 1] as string).slice(0, 80);
    const r = await auditVerify([await tampered(copy, false)]);
    expect(r.firstBroken).toMatchObject({ line: N });
    expect(r.firstBroken?.reason).toMatch(/truncated/);
    expect(r.records).toBe(N - 1);
  });

  it('detects a last record that lost only its newline', async () => {
    const r = await auditVerify([await tampered([...lines], false)]);
    expect(r.firstBroken).toMatchObject({ line: N, seq: N });
  });

  it('detects a re-encoded line (duplicate key shadowing a field) in strict mode only', async () => {
    const copy = [...lines];
    // a reader that takes the first key sees "blocked"; JSON.parse (and the hash) see the original
    copy[2] = `{"decision":"blocked",${(copy[2] as string).slice(1)}`;
    const strict = await auditVerify([await tampered(copy)]);
    expect(strict.firstBroken).toMatchObject({ line: 3, seq: 3 });
    expect(strict.firstBroken?.reason).toMatch(/canonical form/);
    expect((await auditVerify([await tampered(copy)], { strict: false })).ok).toBe(true);
  });

  it('detects an inserted blank line and garbage', async () => {
    const blank = [...lines];
    blank.splice(2, 0, '');
    expect((await auditVerify([await tampered(blank)])).firstBroken).toMatchObject({ line: 3, reason: 'empty line' });
    const junk = [...lines];
    junk.splice(2, 0, 'hello');
    expect((await auditVerify([await tampered(junk)])).firstBroken).toMatchObject({ line: 3, reason: 'not valid JSON' });
  });

  it('detects a seq gap even when every hash and link is consistent', async () => {
    const opts = { includeRawSql: false };
    const a = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 1)), 1, GENESIS_PREV, opts));
    const b = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 2)), 3, a.hash, opts));
    const r = await auditVerify([await tampered([a.line, b.line])]);
    expect(r.firstBroken).toMatchObject({ line: 2, seq: 3, reason: 'seq 3 does not follow 1' });
  });

  it('requires seq 1 to start from the genesis hash, and reports a set that starts later as not anchored', async () => {
    const opts = { includeRawSql: false };
    const bad = encodeRecord(buildRecordBody(snapshotEvent(sampleEvent('allowed', 1)), 1, 'f'.repeat(64), opts));
    expect((await auditVerify([await tampered([bad.line])])).firstBroken?.reason).toMatch(/genesis/);
    const tail = await auditVerify([await tampered(lines.slice(5))]);
    expect(tail).toMatchObject({ ok: true, anchored: false, firstSeq: 6 });
  });

  it('reports an unreadable file and accepts an empty one', async () => {
    expect((await auditVerify([join(dir, 'missing.ndjson')])).firstBroken).toMatchObject({ line: 0, reason: 'cannot read file (ENOENT)' });
    expect(await auditVerify([await tampered([], false)])).toMatchObject({ ok: true, records: 0 });
  });
});

describe('pgwarden audit verify (command)', () => {
  it('prints ok and exits 0 for a good log', async () => {
    const c = capture();
    expect(await auditCli(['verify', file], c.io)).toBe(0);
    expect(c.text()).toMatch(new RegExp(`^ok: ${N} records in 1 file verify \\(seq 1\\.\\.${N}\\)`));
  });

  it('prints the first broken record and exits 1', async () => {
    const copy = [...lines];
    copy.splice(6, 1);
    const t = await tampered(copy);
    const c = capture();
    expect(await auditCli(['verify', t], c.io)).toBe(1);
    expect(c.text()).toContain(`BROKEN: ${t} line 7 (seq 8): prev does not match the previous record`);
    const j = capture();
    expect(await auditCli(['verify', '--json', t], j.io)).toBe(1);
    expect(JSON.parse(j.text())).toMatchObject({ ok: false, firstBroken: { line: 7, seq: 8 } });
  });

  it('exits 64 on usage errors', async () => {
    expect(await auditCli(['verify'], capture().io)).toBe(64);
    expect(await auditCli(['bogus', file], capture().io)).toBe(64);
    expect(await auditCli(['verify', '--nope', file], capture().io)).toBe(64);
  });
});
