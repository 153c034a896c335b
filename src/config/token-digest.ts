/**
 * The stored form of a bearer token and the label of one without an `id`: what configuration
 * loading needs from tokens (hashing raw tokens at load, telling duplicate tokens apart). Here,
 * not in src/auth/, so that config imports no other layer; auth/tokens.ts builds its store on
 * these and re-exports them.
 *
 * Guarantees: digestToken is the hex SHA-256 of the token's UTF-8 bytes, the `sha256:` form a
 * config may hold instead of the token. Does not: judge strength (token-strength.ts) or compare
 * credentials (auth/tokens.ts, in constant time).
 */
import { createHash } from 'node:crypto';

/** Hex SHA-256 of a token (the form stored in configs as `sha256:`). */
export function digestToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The label of a token without an explicit `id`: `principal#index`. */
export function defaultTokenId(principal: string, index: number): string {
  return `${principal}#${index}`;
}
