/**
 * Keyed record hashes for the audit chain: HMAC-SHA-256 under `audit.hmac_key`.
 *
 * A keyed record declares `alg: "hmac-sha256"` and `key_id` in its hashed body, and its `hash` is
 * HMAC-SHA-256(key, canonical JSON of the body) — the configured secret's UTF-8 bytes are the HMAC
 * key, so `openssl dgst -sha256 -hmac "$KEY"` over the canonical body reproduces it.
 * `key_id` is the first 8 hex characters of HMAC-SHA-256(key, "pgwarden/audit/key-id/v1"): a
 * key check value that tells the verifier which key a record claims, so a wrong key is reported
 * as such and not as tampering. A canonical body always starts with "{", so it can never be the
 * key-id message (the two uses of the key are separated).
 *
 * Guarantees: without the key, nobody can produce a `hash` the verifier accepts for a keyed
 * record, so editing a record and recomputing the chain is detected. The key is held as a
 * KeyObject (not printed by util.inspect, not serialized by JSON.stringify) and never written.
 * Does not: hide anything an HMAC already reveals — `key_id` (32 bits) and every record's hash
 * are deterministic in the key, so whoever reads the log can test guesses of a WEAK key offline;
 * hence the 32-character minimum. It does not stop someone who holds the key, and it does not
 * detect records removed from the end (anchor the last hash, see docs/audit.md).
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export const AUDIT_HMAC_ALG = 'hmac-sha256' as const;
export type AuditHashAlg = typeof AUDIT_HMAC_ALG;
/** Shortest accepted `audit.hmac_key` (characters), as in the config schema. */
export const MIN_AUDIT_KEY_LENGTH = 32;
export const KEY_ID = /^[0-9a-f]{8}$/;
const KEY_ID_MESSAGE = 'pgwarden/audit/key-id/v1';

export class AuditKey {
  readonly #key: KeyObject;
  /** First 8 hex characters of HMAC-SHA-256(key, "pgwarden/audit/key-id/v1"). */
  readonly keyId: string;

  /** Throws (without the value) when the secret is shorter than MIN_AUDIT_KEY_LENGTH characters. */
  constructor(secret: string) {
    if (typeof secret !== 'string' || secret.length < MIN_AUDIT_KEY_LENGTH) {
      throw new Error(`audit key must be at least ${MIN_AUDIT_KEY_LENGTH} characters`);
    }
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.keyId = createHmac('sha256', this.#key).update(KEY_ID_MESSAGE, 'utf8').digest('hex').slice(0, 8);
  }

  /** HMAC-SHA-256 (lowercase hex) of a canonical record body. */
  mac(canonicalBody: string): string {
    return createHmac('sha256', this.#key).update(canonicalBody, 'utf8').digest('hex');
  }

  toJSON(): string {
    return `[AuditKey ${this.keyId}]`;
  }

  toString(): string {
    return `[AuditKey ${this.keyId}]`;
  }
}
