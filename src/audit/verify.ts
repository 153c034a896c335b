/**
 * `pgwarden audit verify`: check the hash chain of one audit file or a set of rotated files.
 *
 * Guarantees: reports the FIRST record that does not verify — a modified field (hash mismatch),
 * a deleted, inserted or reordered record (prev link), a seq gap, a re-encoded line (strict
 * mode), a torn or truncated last line — with its file, line and seq. Files are verified in
 * chain order (sorted by their first seq), so a shell glob in any order works, and the link
 * between files is checked like any other link.
 * Does not: detect removal of whole records at the END of the newest file or of whole files
 * at the start of the set, and cannot stop an attacker who recomputes every hash after an edit:
 * compare `lastSeq`/`lastHash` with a copy anchored elsewhere (see docs/audit.md).
 */
import { canonicalJson, HEX64, lineFor, sha256Hex } from './canonical.js';
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
  firstBroken?: VerifyBreak;
}

export interface VerifyOptions {
  /** Require each line to be exactly the canonical encoding the writer produces (default true). */
  strict?: boolean;
}

interface LinkState {
  hash: string | null;
  seq: number;
}

export async function auditVerify(files: readonly string[], options: VerifyOptions = {}): Promise<VerifyResult> {
  const strict = options.strict ?? true;
  const result: VerifyResult = { ok: true, records: 0, files: [], chains: 0, anchored: false, firstSeq: null, lastSeq: null, lastHash: null };
  const ordered = await chainOrder(files);
  if ('broken' in ordered) return { ...result, ok: false, firstBroken: ordered.broken };
  const state: LinkState = { hash: null, seq: 0 };
  for (const file of ordered.files) {
    const summary: VerifyFileSummary = { file, records: 0, firstSeq: null, lastSeq: null };
    result.files.push(summary);
    let fileStart = true;
    try {
      for await (const { line, text, terminated } of readLines(file)) {
        const checked = checkLine(text, terminated, strict, state, result, fileStart);
        if (typeof checked === 'string') {
          result.ok = false;
          result.firstBroken = { file, line, seq: seqOf(text), reason: checked };
          return result;
        }
        fileStart = false;
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
    } catch (err) {
      result.ok = false;
      result.firstBroken = { file, line: 0, seq: null, reason: `cannot read file (${errCode(err)})` };
      return result;
    }
  }
  return result;
}

/** Check one line against the previous link; a string is the reason it is broken. */
function checkLine(
  text: string,
  terminated: boolean,
  strict: boolean,
  prev: LinkState,
  result: VerifyResult,
  fileStart: boolean,
): { hash: string; seq: number } | string {
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
  if (sha256Hex(canonical) !== hash) return 'hash mismatch: the record was modified';
  if (strict && text !== lineFor(canonical, hash)) {
    return 'record is not in canonical form (re-encoded, duplicate keys or extra whitespace)';
  }
  if (prev.hash === null) {
    if (seq === 1) {
      if (body.prev !== GENESIS_PREV) return 'first record (seq 1) does not start from the genesis hash';
      result.anchored = true;
    }
    result.chains = 1;
    return { hash, seq };
  }
  if (seq === 1 && body.prev === GENESIS_PREV) {
    // a new chain: a stream sink (stdout/stderr) restarted
    result.chains += 1;
    return { hash, seq };
  }
  if (body.prev !== prev.hash) {
    return fileStart
      ? 'prev does not match the last hash of the previous file: a file of the set is missing, or records were removed'
      : 'prev does not match the previous record: a record was deleted, inserted or reordered before this one';
  }
  if (seq !== prev.seq + 1) return `seq ${seq} does not follow ${prev.seq}`;
  return { hash, seq };
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
