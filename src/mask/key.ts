/**
 * Key material for `hash` masks: keyed HMAC-SHA-256 computed inside PostgreSQL with the stock
 * `sha256(bytea)` (PostgreSQL ≥ 11, no pgcrypto): HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)).
 *
 * Guarantees: the configured secret never appears in SQL; the statement carries neither the
 * secret nor the key: the two padded blocks of a key DERIVED from the secret (HMAC(secret,
 * "pgwarden/mask/v1")) are BIND PARAMETERS (masks.ts paramKeyRefs), so a failing masked statement
 * that PostgreSQL writes to its log (log_min_error_statement, on by default), pg_stat_activity and
 * pg_stat_statements show `$n`, not the key. The same derived key serves every hash mask, so
 * hashed values join across tables and queries.
 * Does not: hide bind values from a server that logs them — log_statement = all (or
 * log_min_duration_statement) with log_parameter_max_length ≠ 0 (the default is -1: logged in
 * full). Operators set log_parameter_max_length = 0 for the gateway's login role (docs/masking.md);
 * the blocks sit in InitPlans so EXPLAIN without VERBOSE shows no value, EXPLAIN VERBOSE of hashed
 * statements stays refused, and the gateway never logs, traces or echoes the bind values.
 */
import { createHmac } from 'node:crypto';

const BLOCK = 64;
const CONTEXT = 'pgwarden/mask/v1';

export interface MaskKey {
  /** Derived key (32 bytes). */
  readonly derived: Buffer;
  /** (K ⊕ 0x36…) as lowercase hex (64 bytes). */
  readonly ipadHex: string;
  /** (K ⊕ 0x5c…) as lowercase hex (64 bytes). */
  readonly opadHex: string;
}

/** Derive the masking key from the configured secret (masking.hash_key). */
export function deriveMaskKey(secret: string): MaskKey {
  const derived = createHmac('sha256', secret).update(CONTEXT).digest();
  const block = Buffer.alloc(BLOCK);
  derived.copy(block);
  const ipad = Buffer.alloc(BLOCK);
  const opad = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    ipad[i] = (block[i] as number) ^ 0x36;
    opad[i] = (block[i] as number) ^ 0x5c;
  }
  return { derived, ipadHex: ipad.toString('hex'), opadHex: opad.toString('hex') };
}

/** The hash mask computed in Node (same bytes as the SQL): lowercase hex, first `length` characters. */
export function hmacHex(key: MaskKey, text: string, length: number): string {
  return createHmac('sha256', key.derived).update(text, 'utf8').digest('hex').slice(0, length);
}
