/**
 * `pgwarden audit verify`: check the hash chain of one audit file or a set of rotated files.
 *
 * Guarantees: reports the FIRST record that does not verify — a modified field (hash or HMAC
 * mismatch), a deleted, inserted or reordered record (prev link), a seq gap, a re-encoded line
 * (strict mode), a torn or truncated last line — with its file, line and seq. Files are verified
 * in chain order (sorted by their first seq), so a shell glob in any order works, and the link
 * between files is checked like any other link.
 * Keyed records (`alg: "hmac-sha256"`, see keyed.ts) are checked with the key whose key_id they
 * declare; without keys they are reported ("pass --key-file"), never accepted unchecked. Once a
 * keyed record was seen, a later unkeyed record is a downgrade (broken). With keys given, every
 * record must be keyed with one of them, so a log rewritten unkeyed from seq 1 is reported too.
 * Opt-in (allowUnkeyedPrefix, for a log that turned the key on mid-file): unkeyed records are
 * accepted when a keyed record follows them in their chain (its HMAC covers `prev`, and so the
 * unkeyed records before it) — but that proves only what the file held when the gateway started
 * keying, hence `keyedFromSeq` is reported for the operator to check against when the key was set.
 * Does not: detect removal of whole records at the END of the newest file or of whole files
 * at the start of the set; and WITHOUT a key it cannot stop an attacker who recomputes every
 * hash after an edit (an unkeyed chain proves nothing against whoever can write it): compare
 * `lastSeq`/`lastHash` with a copy anchored elsewhere (see docs/audit.md).
 */
import { canonicalJson, HEX64, lineFor, sha256Hex } from './canonical.js';
import { AUDIT_HMAC_ALG, AuditKey, KEY_ID } from './keyed.js';
import { readFirstLine, readLines } from './read.js';
import { GENESIS_PREV } from './types.js';

export interface VerifyBreak {
  file: string;
  /** 1-based line number in `file` (0: the file could not be read). */
  line: number;
  /** seq of the broken record when it could be read. */
  seq: number | null;
  reason: string;
}

export interface VerifyFileSummary {
  file: string;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

/**
 * keyed: every verified record carries an HMAC; unkeyed: sha256 only (anyone who can write the
 * files could have recomputed it); mixed: unkeyed records followed by keyed ones (a key was
 * turned on); none: no records.
 */
export type VerifyMode = 'keyed' | 'unkeyed' | 'mixed' | 'none';

export interface VerifyResult {
  ok: boolean;
  /** Records that verified (all of them when ok). */
  records: number;
  /** Files in the order they were verified. */
  files: VerifyFileSummary[];
  /** Chains seen: 1 normally; more when a stream sink restarted (seq 1 from the genesis hash again). */
  chains: number;
  /** True when the set starts at seq 1 from the genesis hash (nothing before it is missing). */
  anchored: boolean;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
  /** What the verified records were: see VerifyMode. */
  mode: VerifyMode;
  /** Verified records that carry an HMAC. */
  keyedRecords: number;
  /** key_id of the verified keyed records, in order of first appearance. */
  keyIds: string[];
  /** Keys were given: every record had to be keyed with one of them (or, with allowUnkeyedPrefix, be covered by a later keyed record of its chain). */
  keyRequired: boolean;
  /** seq of the first keyed record that follows unkeyed ones (the key was turned on there); null when there is none. */
  keyedFromSeq: number | null;
  firstBroken?: VerifyBreak;
}

export interface VerifyOptions {
  /** Require each line to be exactly the canonical encoding the writer produces (default true). */
  strict?: boolean;
  /**
   * audit.hmac_key values (each at least 32 characters; several when the key was changed). Given:
   * keyed records are checked against them and every record must be keyed (see keyRequired).
   * Throws when a key is shorter than 32 characters.
   */
  keys?: readonly string[];
  /**
   * With keys: accept unkeyed records that a later keyed record of the same chain covers (a log
   * that turned the key on mid-file). Check `keyedFromSeq` against when the key was turned on: an
   * attacker who rewrote the whole log unkeyed before a restart of a keyed gateway looks the same.
   */
  allowUnkeyedPrefix?: boolean;
}

export const REASON_DOWNGRADE = 'unkeyed record after keyed records (downgrade): the log was rewritten from here on, or written without audit.hmac_key';
export const REASON_UNKEYED =
  'unkeyed record, but a key was given: every record must be keyed (a log rewritten without the key looks like this; ' +
  'records written before audit.hmac_key was set verify without --key-file, or see --allow-unkeyed-prefix)';
export const REASON_UNCOVERED = 'unkeyed record not covered by a keyed one: no record keyed with the given key follows it in its chain';

interface LinkState {
  hash: string | null;
  seq: number;
  /** A keyed record was verified earlier in the set: an unkeyed one now is a downgrade. */
  sawKeyed: boolean;
}

interface Checked {
  hash: string;
  seq: number;
  /** key_id of a keyed record, null for an unkeyed one. */
  keyId: string | null;
  /** first: the first record of the set; restart: seq 1 from the genesis hash again (a stream sink restarted). */
  chainStart: 'first' | 'restart' | null;
  genesis: boolean;
}

/** Where a run of unkeyed records began (keys given): broken unless a keyed record of the same chain follows. */
interface Uncovered {
  at: VerifyBreak;
  before: Pick<VerifyResult, 'records' | 'firstSeq' | 'lastSeq' | 'lastHash' | 'anchored' | 'chains'> & { files: VerifyFileSummary[] };
}

interface Context {
  strict: boolean;
  /** By key_id (two keys with one key_id, a 2^-32 chance: the later one is used). Empty: no key given. */
  keys: Map<string, AuditKey>;
}

export async function auditVerify(files: readonly string[], options: VerifyOptions = {}): Promise<VerifyResult> {
  const keys = new Map<string, AuditKey>();
  for (const secret of options.keys ?? []) {
    const key = new AuditKey(secret);
    keys.set(key.keyId, key);
  }
  const ctx: Context = { strict: options.strict ?? true, keys };
  const result: VerifyResult = {
    ok: true,
    records: 0,
    files: [],
    chains: 0,
    anchored: false,
    firstSeq: null,
    lastSeq: null,
    lastHash: null,
    mode: 'none',
    keyedRecords: 0,
    keyIds: [],
    keyRequired: keys.size > 0,
    keyedFromSeq: null,
  };
  const allowPrefix = options.allowUnkeyedPrefix === true;
  const ordered = await chainOrder(files);
  if ('broken' in ordered) return finish(result, ordered.broken);
  const state: LinkState = { hash: null, seq: 0, sawKeyed: false };
  let uncovered: Uncovered | null = null;
  for (const file of ordered.files) {
    const summary: VerifyFileSummary = { file, records: 0, firstSeq: null, lastSeq: null };
    result.files.push(summary);
    let fileStart = true;
    try {
      for await (const { line, text, terminated } of readLines(file)) {
        const checked = checkLine(text, terminated, ctx, state, fileStart);
        if (typeof checked === 'string') return finish(result, { file, line, seq: seqOf(text), reason: checked });
        if (checked.chainStart === 'restart' && uncovered) return finishUncovered(result, uncovered);
        if (checked.keyId !== null) {
          if (uncovered) result.keyedFromSeq ??= checked.seq;
          uncovered = null;
        } else if (ctx.keys.size > 0) {
          if (!allowPrefix) return finish(result, { file, line, seq: checked.seq, reason: REASON_UNKEYED });
          uncovered ??= { at: { file, line, seq: checked.seq, reason: REASON_UNCOVERED }, before: snapshot(result) };
        }
        fileStart = false;
        count(result, summary, state, checked);
      }
    } catch (err) {
      return finish(result, { file, line: 0, seq: null, reason: `cannot read file (${errCode(err)})` });
    }
  }
  return uncovered ? finishUncovered(result, uncovered) : finish(result);
}

function count(result: VerifyResult, summary: VerifyFileSummary, state: LinkState, checked: Checked): void {
  if (checked.chainStart === 'first') {
    result.chains = 1;
    if (checked.genesis) result.anchored = true;
  } else if (checked.chainStart === 'restart') result.chains += 1;
  if (checked.keyId !== null) {
    state.sawKeyed = true;
    result.keyedRecords += 1;
    if (!result.keyIds.includes(checked.keyId)) result.keyIds.push(checked.keyId);
  }
  state.hash = checked.hash;
  state.seq = checked.seq;
  result.records += 1;
  result.firstSeq ??= checked.seq;
  result.lastSeq = checked.seq;
  result.lastHash = checked.hash;
  summary.records += 1;
  summary.firstSeq ??= checked.seq;
  summary.lastSeq = checked.seq;
}

function snapshot(r: VerifyResult): Uncovered['before'] {
  return {
    records: r.records,
    firstSeq: r.firstSeq,
    lastSeq: r.lastSeq,
    lastHash: r.lastHash,
    anchored: r.anchored,
    chains: r.chains,
    files: r.files.map((f) => ({ ...f })),
  };
}

/** Report an unkeyed run that no keyed record covered: the result as it stood before the run. */
function finishUncovered(result: VerifyResult, u: Uncovered): VerifyResult {
  // the run holds unkeyed records only, so keyedRecords and keyIds are unchanged since it began
  Object.assign(result, u.before);
  return finish(result, u.at);
}

function finish(result: VerifyResult, broken?: VerifyBreak): VerifyResult {
  const { records, keyedRecords } = result;
  result.mode = records === 0 ? 'none' : keyedRecords === records ? 'keyed' : keyedRecords === 0 ? 'unkeyed' : 'mixed';
  if (broken) {
    result.ok = false;
    result.firstBroken = broken;
  }
  return result;
}

/** The record's own hash check: sha256, or the HMAC of the key it declares. A string is the reason it fails. */
function checkHash(body: Record<string, unknown>, canonical: string, hash: string, ctx: Context): { keyId: string | null } | string {
  const { alg, key_id: keyId } = body;
  if (alg === undefined) {
    if (keyId !== undefined) return 'key_id without alg';
    if (sha256Hex(canonical) !== hash) return 'hash mismatch: the record was modified';
    return { keyId: null };
  }
  if (alg !== AUDIT_HMAC_ALG) return `unknown alg (expected "${AUDIT_HMAC_ALG}" or none)`;
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) return 'missing or malformed key_id';
  if (ctx.keys.size === 0) return `keyed record (${AUDIT_HMAC_ALG}, key_id ${keyId}): pass --key-file (or PGWARDEN_AUDIT_KEY) to verify it`;
  const key = ctx.keys.get(keyId);
  if (key === undefined) {
    return `keyed with another key (key_id ${keyId}; the given key${ctx.keys.size > 1 ? 's have' : ' has'} key_id ${[...ctx.keys.keys()].join(', ')}): wrong key, or the record's key_id was modified`;
  }
  // Offline check of a file: no timing oracle to protect, a plain comparison is fine.
  if (key.mac(canonical) !== hash) return 'HMAC mismatch: the record was modified (its key_id matches the given key)';
  return { keyId };
}

/** Check one line against the previous link; a string is the reason it is broken. */
function checkLine(text: string, terminated: boolean, ctx: Context, prev: LinkState, fileStart: boolean): Checked | string {
  if (!terminated) {
    return 'truncated record: the last line has no newline (torn or truncated write)';
  }
  if (text.length === 0) return 'empty line';
  let rec: unknown;
  try {
    rec = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return 'not a JSON object';
  const { hash, ...body } = rec as Record<string, unknown>;
  if (typeof hash !== 'string' || !HEX64.test(hash)) return 'missing or malformed hash';
  const seq = body.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return 'missing or malformed seq';
  if (typeof body.prev !== 'string' || !HEX64.test(body.prev)) return 'missing or malformed prev';
  const canonical = canonicalJson(body);
  const own = checkHash(body, canonical, hash, ctx);
  if (typeof own === 'string') return own;
  if (own.keyId === null && prev.sawKeyed) return REASON_DOWNGRADE;
  if (ctx.strict && text !== lineFor(canonical, hash)) {
    return 'record is not in canonical form (re-encoded, duplicate keys or extra whitespace)';
  }
  const genesis = seq === 1 && body.prev === GENESIS_PREV;
  const checked: Checked = { hash, seq, keyId: own.keyId, chainStart: null, genesis };
  if (prev.hash === null) {
    if (seq === 1 && !genesis) return 'first record (seq 1) does not start from the genesis hash';
    return { ...checked, chainStart: 'first' };
  }
  // a new chain: a stream sink (stdout/stderr) restarted
  if (genesis) return { ...checked, chainStart: 'restart' };
  if (body.prev !== prev.hash) {
    return fileStart
      ? 'prev does not match the last hash of the previous file: a file of the set is missing, or records were removed'
      : 'prev does not match the previous record: a record was deleted, inserted or reordered before this one';
  }
  if (seq !== prev.seq + 1) return `seq ${seq} does not follow ${prev.seq}`;
  return checked;
}

function seqOf(text: string): number | null {
  const m = /"seq":(\d{1,15})[,}]/.exec(text);
  return m ? Number(m[1]) : null;
}

function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}

/** Sort files by the seq of their first record when every file has one; otherwise keep the given order. */
async function chainOrder(files: readonly string[]): Promise<{ files: string[] } | { broken: VerifyBreak }> {
  const firsts: { file: string; seq: number | null; index: number }[] = [];
  for (const [index, file] of files.entries()) {
    let first: string | null;
    try {
      first = await readFirstLine(file);
    } catch (err) {
      return { broken: { file, line: 0, seq: null, reason: `cannot read file (${errCode(err)})` } };
    }
    const seq = first === null ? null : seqOf(first);
    // a first line without a readable seq: keep the operator's order, verification will report it
    if (first !== null && seq === null) return { files: [...files] };
    firsts.push({ file, seq, index });
  }
  // Empty files carry no records; they sort last and verify trivially.
  const sorted = [...firsts].sort((a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) || a.index - b.index);
  return { files: sorted.map((f) => f.file) };
}
