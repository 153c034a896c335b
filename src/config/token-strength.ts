/**
 * Bearer-token strength, judged when the configuration loads.
 *
 * Guarantees: a raw token is refused when it is shorter than MIN_TOKEN_LENGTH, holds anything
 * but visible ASCII, reads like a placeholder (the words of .env.example and of common templates:
 * "replace", "change me", "example", "placeholder", "your token", …), uses fewer than
 * MIN_DISTINCT_CHARS distinct characters, or carries less than MIN_ESTIMATED_BITS bits by a
 * per-character Shannon estimate (length × entropy of its own character frequencies). A token
 * from `pgwarden token` (256 random bits) or `openssl rand -hex 16` passes.
 * Messages say what to do (`pgwarden token`) and never echo the token.
 * Does not: prove randomness. The estimate only catches tokens a person typed or left from a
 *   template; a token copied from a public document still passes if it looks random. Digests
 *   (`sha256:`) cannot be judged and are taken as given.
 */

export const MIN_TOKEN_LENGTH = 32;
export const MIN_DISTINCT_CHARS = 8;
/** Random 128-bit hex tokens estimate at 96–128 bits (min of 10,000 samples: 96); repeated short phrases far below. */
export const MIN_ESTIMATED_BITS = 90;

/**
 * Words of placeholders in .env.example, docs and common templates. Only words of 7 or more
 * letters: a random base64url token contains a given 4-letter word (case-insensitive) about once
 * in 30,000 tokens, a 7-letter one about once in 10^10.
 */
const PLACEHOLDER_RE = /replace|change[-_ ]?me|changeit|example|placeholder|your[-_ ]?(own[-_ ]?)?(token|secret)|insert[-_ ]?here|random[-_ ]?char/i;

const RUN_PGWARDEN_TOKEN = 'create one with `pgwarden token`';

/** Estimated bits: length × Shannon entropy of the token's own character distribution. */
export function estimatedBits(token: string): number {
  const counts = new Map<string, number>();
  for (const ch of token) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / token.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * token.length;
}

/** Why a raw token is too weak to serve, or undefined when it is acceptable. */
export function tokenWeakness(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `is shorter than ${MIN_TOKEN_LENGTH} characters; ${RUN_PGWARDEN_TOKEN}`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'must be visible ASCII without spaces (it is sent in an HTTP header)';
  if (PLACEHOLDER_RE.test(token)) return `looks like a placeholder from a template, not a secret; ${RUN_PGWARDEN_TOKEN}`;
  if (new Set(token).size < MIN_DISTINCT_CHARS) return `uses fewer than ${MIN_DISTINCT_CHARS} distinct characters; ${RUN_PGWARDEN_TOKEN}`;
  if (estimatedBits(token) < MIN_ESTIMATED_BITS) return `is too predictable (about ${Math.floor(estimatedBits(token))} bits, at least ${MIN_ESTIMATED_BITS} needed); ${RUN_PGWARDEN_TOKEN}`;
  return undefined;
}
