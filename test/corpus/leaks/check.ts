/**
 * The leak check: does any output byte carry a raw masked value, or a reversible transform of
 * one? Case-insensitive throughout (so lower/upper/initcap are covered).
 *
 * Forbidden, for every raw value v of a masked column: the substrings of v and of reverse(v)
 * (MIN_DATA = 4 characters when the substring holds a digit or a symbol, MIN_WORD = 5 when it is
 * letters and spaces only — 4-letter pieces of names are pieces of English words too: "clause"
 * contains "laus" of Niklaus), the digit runs of v with separators removed (MIN_DIGITS = 8:
 * shorter pure-digit runs occur by chance in hashes, ids, counts and plan costs; every digit group
 * of the demo PII is still covered through its separators, e.g. "-1037", "1037-7"), and the
 * substrings of v's hex and base64 encodings and unsalted md5/sha256 (MIN_ENCODED = 12).
 *
 * Exempt, because they are public by construction:
 * - any substring of a designed masked output (the kept domain of an email, the last 4 digits of
 *   a phone, a hash, a marker) and of the same transforms of it (reverse, hex, base64, md5…);
 * - substrings (up to PUBLIC_MAX = 12 characters) of what the policy lets the agent read anyway:
 *   unmasked columns of the same tables (dates such as "2024-01-11" share pieces with SSNs),
 *   identifiers, the words plans, errors and the gateway's own JSON are made of;
 * - per statement: its identifiers and keywords (output column names such as "upper"), and for
 *   plans only — which echo the statement — the whole statement text, literals included.
 */
import { createHash } from 'node:crypto';

export const MIN_DATA = 4;
export const MIN_WORD = 5;
export const MIN_DIGITS = 8;
export const MIN_ENCODED = 12;
export const PUBLIC_MAX = 12;
const MAX_LEN = 40;

export interface LeakFinding {
  fragment: string;
  /** A few characters of output around the finding (for the failure message). */
  context: string;
}

function substrings(s: string, min: number, max: number, into: Set<string>, pred: (f: string) => boolean = () => true): void {
  for (let i = 0; i < s.length; i++) {
    for (let l = min; l <= max && i + l <= s.length; l++) {
      const f = s.slice(i, i + l);
      if (pred(f)) into.add(f);
    }
  }
}

const reverse = (s: string): string => [...s].reverse().join('');
const stripped = (s: string): string => s.replace(/[^\p{L}\p{N}]/gu, '');
const digitsOnly = (f: string): boolean => /^[0-9]+$/.test(f);
const lettersOnly = (f: string): boolean => /^[\p{L} ]+$/u.test(f);

function encodings(v: string): string[] {
  const bytes = Buffer.from(v, 'utf8');
  return [bytes.toString('hex'), bytes.toString('base64'), createHash('md5').update(bytes).digest('hex'), createHash('sha256').update(bytes).digest('hex')];
}

function rawFragment(f: string): boolean {
  if (digitsOnly(f)) return f.length >= MIN_DIGITS;
  if (lettersOnly(f)) return f.length >= MIN_WORD;
  return f.length >= MIN_DATA;
}

export interface LeakCheckerInput {
  /** Every raw value of every masked column (text form). */
  raw: Iterable<string>;
  /** Every masked value the masks produce by design. */
  designed: Iterable<string>;
  /** Text the agent may read anyway: identifiers, unmasked values, plan/error/gateway vocabulary. */
  publicText: Iterable<string>;
}

export class LeakChecker {
  private readonly forbidden = new Set<string>();
  /** The first MIN_DATA characters of every forbidden fragment: check() skips positions that start none. */
  private readonly heads = new Set<string>();

  constructor(input: LeakCheckerInput) {
    const exempt = new Set<string>();
    for (const d of input.designed) {
      const l = d.toLowerCase();
      for (const x of [l, reverse(l), stripped(l), ...encodings(d).map((e) => e.toLowerCase())]) substrings(x, MIN_DATA, MAX_LEN, exempt);
    }
    for (const p of input.publicText) substrings(p.toLowerCase(), MIN_DATA, PUBLIC_MAX, exempt);
    const add = (f: string): void => {
      if (!exempt.has(f)) this.forbidden.add(f);
    };
    const tmp = new Set<string>();
    for (const v of input.raw) {
      const l = v.toLowerCase();
      tmp.clear();
      substrings(l, MIN_DATA, MAX_LEN, tmp, rawFragment);
      substrings(reverse(l), MIN_DATA, MAX_LEN, tmp, rawFragment);
      substrings(stripped(l), MIN_DIGITS, MAX_LEN, tmp, digitsOnly);
      for (const e of encodings(v)) substrings(e.toLowerCase(), MIN_ENCODED, MAX_LEN, tmp);
      for (const f of tmp) add(f);
    }
    for (const f of this.forbidden) this.heads.add(f.slice(0, MIN_DATA));
  }

  get size(): number {
    return this.forbidden.size;
  }

  /**
   * Findings in `output`. `statementWords` (identifiers/keywords of the statement) are exempt;
   * `echoedStatement` (plans) exempts the whole statement text.
   */
  check(output: string, options: { statementWords?: readonly string[]; echoedStatement?: string } = {}): LeakFinding[] {
    const text = output.toLowerCase();
    const own = new Set<string>();
    for (const w of options.statementWords ?? []) substrings(w.toLowerCase(), MIN_DATA, MAX_LEN, own);
    if (options.echoedStatement !== undefined) substrings(options.echoedStatement.toLowerCase(), MIN_DATA, MAX_LEN, own);
    const findings: LeakFinding[] = [];
    for (let i = 0; i < text.length && findings.length < 5; i++) {
      // no forbidden fragment starts here: skip the position (same findings, far fewer lookups)
      if (!this.heads.has(text.slice(i, i + MIN_DATA))) continue;
      for (let l = MIN_DATA; l <= MAX_LEN && i + l <= text.length; l++) {
        const f = text.slice(i, i + l);
        if (this.forbidden.has(f) && !own.has(f)) {
          findings.push({ fragment: f, context: output.slice(Math.max(0, i - 24), i + l + 24) });
          i += l - 1;
          break;
        }
      }
    }
    return findings;
  }
}
