/**
 * Canonical JSON and record hashing for the audit hash chain.
 *
 * Canonical form (in the spirit of RFC 8785 / JCS): object keys sorted by UTF-16 code units,
 * no whitespace, strings and numbers as JSON.stringify writes them (ECMAScript shortest
 * round-trip numbers, well-formed escapes), `undefined` members omitted. The record hash is
 * sha256 (hex) over the canonical JSON of the record without its `hash` member — or, for a record
 * that declares `alg: "hmac-sha256"`, the HMAC of the same text (keyed.ts).
 *
 * Guarantees: the same parsed record always yields the same hash, whatever the key order or
 * whitespace on disk. Does not: key the sha256 (an attacker who can rewrite an UNKEYED file from a
 * point on can recompute the chain; set audit.hmac_key, and anchor the last hash elsewhere, see
 * docs/audit.md).
 */
import * as crypto from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v: unknown) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** crypto.hash (Node ≥ 20.12): one call, no Hash object — about half the cost of createHash per record. */
const oneShot: ((alg: string, data: string, enc: 'hex') => string) | undefined = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Hex(text: string): string {
  // both hash the string's UTF-8 bytes
  if (oneShot !== undefined) return oneShot('sha256', text, 'hex');
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Hash of a parsed record: sha256 over the canonical JSON of every member except `hash`. */
export function recordHash(record: Record<string, unknown>): string {
  const { hash: _hash, ...body } = record;
  return sha256Hex(canonicalJson(body));
}

/** The exact line the writer produces for a canonical body string and its hash (no newline). */
export function lineFor(canonicalBody: string, hash: string): string {
  // canonicalBody is a non-empty object "{…}"; `hash` goes last, outside the hashed text.
  return `${canonicalBody.slice(0, -1)},"hash":"${hash}"}`;
}

export const HEX64 = /^[0-9a-f]{64}$/;
