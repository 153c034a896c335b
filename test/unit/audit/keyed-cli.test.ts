import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditSink } from '../../../src/audit/setup.js';
import { AuditKey } from '../../../src/audit/keyed.js';
import { AUDIT_DECISIONS } from '../../../src/audit/types.js';
import { auditCli, auditVerifyCommand } from '../../../src/cli/audit.js';
import { auditConfig, captureLogger, KEY, OTHER_KEY, sampleEvent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let keyFile: string;
let otherKeyFile: string;
const N = 9;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'audit.ndjson');
  const sink = createAuditSink(auditConfig({ path: file, hmac_key: KEY }), captureLogger());
  for (let i = 0; i < N; i++) sink.record(sampleEvent(AUDIT_DECISIONS[i % AUDIT_DECISIONS.length] ?? 'allowed', i));
  await sink.close();
  keyFile = join(dir, 'audit.key');
  otherKeyFile = join(dir, 'other.key');
  await writeFile(keyFile, `${KEY}\n`, { mode: 0o600 });
  await writeFile(otherKeyFile, OTHER_KEY, { mode: 0o600 });
});

afterEach(async () => cleanup());

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out: () => out.join('\n'), err: () => err.join('\n'), all: () => [...out, ...err].join('\n') };
}

const keyId = new AuditKey(KEY).keyId;

describe('pgwarden audit verify with keys', () => {
  it('--key-file: exit 0, says keyed and the key_id, never prints the key', async () => {
    const c = capture();
    expect(await auditCli(['verify', '--key-file', keyFile, file], c.io)).toBe(0);
    expect(c.out()).toMatch(new RegExp(`^ok: ${N} records in 1 file verify`));
    expect(c.out()).toContain(`keyed: every record carries an HMAC-SHA-256 under the given key (key_id ${keyId})`);
    expect(c.all()).not.toContain(KEY);
  });

  it('--json carries the mode, key ids and keyRequired', async () => {
    const c = capture();
    expect(await auditCli(['verify', '--json', '--key-file', keyFile, file], c.io)).toBe(0);
    expect(JSON.parse(c.out())).toMatchObject({ ok: true, records: N, mode: 'keyed', keyedRecords: N, keyIds: [keyId], keyRequired: true });
    expect(c.all()).not.toContain(KEY);
  });

  it('without a key: exit 1 with the "pass --key-file" reason', async () => {
    const c = capture();
    expect(await auditVerifyCommand([file], { env: {} }, c.io)).toBe(1);
    expect(c.out()).toContain(`BROKEN: ${file} line 1 (seq 1): keyed record (hmac-sha256, key_id ${keyId}): pass --key-file`);
  });

  it('with a wrong key: exit 1, reported as another key', async () => {
    const c = capture();
    expect(await auditCli(['verify', '--key-file', otherKeyFile, file], c.io)).toBe(1);
    expect(c.out()).toMatch(/BROKEN: .* line 1 \(seq 1\): keyed with another key/);
    expect(c.all()).not.toContain(OTHER_KEY);
  });

  it('with a modified record: exit 1, HMAC mismatch at that record', async () => {
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[3] = (lines[3] as string).replace('"principal":"bob"', '"principal":"eve"');
    const t = join(dir, 'tampered.ndjson');
    await writeFile(t, lines.join('\n'));
    const c = capture();
    expect(await auditCli(['verify', '--key-file', keyFile, t], c.io)).toBe(1);
    expect(c.out()).toContain(`BROKEN: ${t} line 4 (seq 4): HMAC mismatch: the record was modified`);
  });

  it('--key-file is repeatable (a key change) and PGWARDEN_AUDIT_KEY / PGWARDEN_AUDIT_KEY_FILE work', async () => {
    expect(await auditVerifyCommand([file], { keyFiles: [otherKeyFile, keyFile], env: {} }, capture().io)).toBe(0);
    expect(await auditVerifyCommand([file], { env: { PGWARDEN_AUDIT_KEY: KEY } }, capture().io)).toBe(0);
    expect(await auditVerifyCommand([file], { env: { PGWARDEN_AUDIT_KEY_FILE: keyFile } }, capture().io)).toBe(0);
    // --key-file wins over the environment
    expect(await auditVerifyCommand([file], { keyFiles: [otherKeyFile], env: { PGWARDEN_AUDIT_KEY: KEY } }, capture().io)).toBe(1);
  });

  it('an unkeyed log verified with a key fails (the key says every record must be keyed)', async () => {
    const plain = join(dir, 'plain.ndjson');
    const sink = createAuditSink(auditConfig({ path: plain }), captureLogger());
    for (let i = 0; i < 3; i++) sink.record(sampleEvent('allowed', i));
    await sink.close();
    const c = capture();
    expect(await auditVerifyCommand([plain], { keyFiles: [keyFile] }, c.io)).toBe(1);
    expect(c.out()).toMatch(/line 1 \(seq 1\): unkeyed record, but a key was given: every record must be keyed/);
    const p = capture();
    expect(await auditVerifyCommand([plain], { keyFiles: [keyFile], allowUnkeyedPrefix: true }, p.io)).toBe(1);
    expect(p.out()).toMatch(/line 1 \(seq 1\): unkeyed record not covered by a keyed one/);
    const u = capture();
    expect(await auditVerifyCommand([plain], { env: {} }, u.io)).toBe(0);
    expect(u.out()).toContain('unkeyed: sha256 only');
  });

  it('exit 64 for key problems, naming the source and never the content', async () => {
    const short = join(dir, 'short.key');
    await writeFile(short, 'not-long-enough-secret');
    const empty = join(dir, 'empty.key');
    await writeFile(empty, '\n');
    const cases: [string[] | undefined, NodeJS.ProcessEnv, RegExp][] = [
      [[join(dir, 'missing.key')], {}, /cannot read key file .*missing\.key \(ENOENT\)/],
      [[dir], {}, /is not a regular file/],
      [[short], {}, /short\.key is shorter than 32 characters/],
      [[empty], {}, /empty\.key is empty/],
      [undefined, { PGWARDEN_AUDIT_KEY: 'not-long-enough-secret' }, /PGWARDEN_AUDIT_KEY is shorter than 32 characters/],
      [undefined, { PGWARDEN_AUDIT_KEY: KEY, PGWARDEN_AUDIT_KEY_FILE: keyFile }, /both set/],
    ];
    for (const [keyFiles, env, message] of cases) {
      const c = capture();
      expect(await auditVerifyCommand([file], { keyFiles, env }, c.io)).toBe(64);
      expect(c.err()).toMatch(message);
      expect(c.all()).not.toContain('not-long-enough-secret');
      expect(c.all()).not.toContain(KEY);
    }
  });

  it('--allow-unkeyed-prefix: a log that turned the key on mid-file verifies, and the output says where keying began', async () => {
    const mixed = join(dir, 'mixed.ndjson');
    const before = createAuditSink(auditConfig({ path: mixed }), captureLogger());
    for (let i = 0; i < 3; i++) before.record(sampleEvent('allowed', i));
    await before.close();
    const after = createAuditSink(auditConfig({ path: mixed, hmac_key: KEY }), captureLogger());
    for (let i = 0; i < 2; i++) after.record(sampleEvent('blocked', i));
    await after.close();
    expect(await auditCli(['verify', '--key-file', keyFile, mixed], capture().io)).toBe(1);
    const c = capture();
    expect(await auditCli(['verify', '--key-file', keyFile, '--allow-unkeyed-prefix', mixed], c.io)).toBe(0);
    expect(c.out()).toContain(`keyed from seq 4 (key_id ${keyId}): 2 keyed record(s); the 3 unkeyed record(s) before are covered`);
    expect(c.out()).toContain('was audit.hmac_key turned on at seq 4?');
    const j = capture();
    expect(await auditCli(['verify', '--json', '--key-file', keyFile, '--allow-unkeyed-prefix', mixed], j.io)).toBe(0);
    expect(JSON.parse(j.out())).toMatchObject({ ok: true, mode: 'mixed', keyedFromSeq: 4, keyedRecords: 2, records: 5 });
  });

  it('usage: no key on the command line, --key-file needs a path, stats takes no key', async () => {
    expect(await auditCli(['verify', '--key', KEY, file], capture().io)).toBe(64);
    expect(await auditCli(['verify', file, '--key-file'], capture().io)).toBe(64);
    expect(await auditCli(['stats', '--key-file', keyFile, file], capture().io)).toBe(64);
  });

  it('audit stats needs no key for a keyed log', async () => {
    const c = capture();
    expect(await auditCli(['stats', '--json', file], c.io)).toBe(0);
    expect(JSON.parse(c.out())).toMatchObject({ records: N, invalid: 0 });
  });
});
