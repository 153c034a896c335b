/**
 * Key material for `hash` masks: keyed HMAC-SHA-256 computed inside PostgreSQL with the stock
 * `sha256(bytea)` (PostgreSQL ≥ 11, no pgcrypto): HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)).
 *
 * Guarantees: the configured secret never appears in SQL; the SQL carries only the two padded
 * blocks of a key DERIVED from it (HMAC(secret, "pgwarden/mask/v1")), so a leaked statement text
 * exposes the masking key, not the configured secret (which may be shared with other systems).
 * The same derived key serves every hash mask, so hashed values join across tables and queries.
 * Does not: hide the padded blocks from anyone who can read the rewritten statement text; that is
 * why the rewrite puts them in InitPlans (not shown by EXPLAIN without VERBOSE), refuses EXPLAIN
 * VERBOSE and statement-text views for statements with hash masks, and the gateway must never log
 * or trace the rewritten text (see docs/masking.md).
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
