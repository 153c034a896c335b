/**
 * Bearer-token authentication: maps an `Authorization: Bearer <token>` header to a principal.
 *
 * Guarantees:
 * - Only SHA-256 digests are kept; a raw token in the config is hashed when the store is built.
 * - The presented credential is hashed and compared with `crypto.timingSafeEqual` against
 *   EVERY configured digest (no early exit), so timing reveals neither which token matched nor
 *   how many bytes did. Comparing fixed-length digests also hides the secret's length.
 * - Results carry the principal and a token id (a label), never the token or its digest.
 * - Expiry (`expires_at`) is checked per token at authentication time.
 * Does not: rate-limit failed attempts (the HTTP layer does), revoke tokens at runtime other
 * than by building a new store from a reloaded config, or log anything.
 */
import * as crypto from 'node:crypto';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { defaultTokenId, digestToken } from '../config/token-digest.js';

export { defaultTokenId, digestToken } from '../config/token-digest.js';

/** Prefix of generated tokens, so secret scanners and humans can recognise a leaked one. */
export const TOKEN_PREFIX = 'pgw_';

/** A new random token: `pgw_` + 43 base64url characters (256 bits from crypto.randomBytes). */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** `crypto.hash` where Node has it (≥ 20.12), else undefined. */
type OneShotHash = ((algorithm: string, data: string, outputEncoding: 'buffer') => Buffer) | undefined;

/**
 * The credential digest over the given one-shot hash: with one, one call and no Hash object
 * (issue #13: one per HTTP request; ≈ 1 against 2.3 µs); without (Node < 20.12), createHash.
 * Both are the SHA-256 of the credential's UTF-8 bytes (test/unit/auth/tokens.test.ts pins it).
 */
export function credentialDigestWith(oneShot: OneShotHash): (credential: string) => Buffer {
  return typeof oneShot === 'function' ? (credential) => oneShot('sha256', credential, 'buffer') : (credential) => createHash('sha256').update(credential, 'utf8').digest();
}

/** SHA-256 of the presented credential's UTF-8 bytes, on this Node. */
export const credentialDigest: (credential: string) => Buffer = credentialDigestWith(typeof crypto.hash === 'function' ? crypto.hash : undefined);

export type AuthResult =
  | { ok: true; principal: string; tokenId: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'invalid' | 'expired' };

export interface TokenInfo {
  principal: string;
  tokenId: string;
  /** ISO-8601, when the token expires. */
  expiresAt?: string;
}

interface Entry {
  principal: string;
  tokenId: string;
  digest: Buffer;
  expiresAtMs: number | undefined;
  expiresAt: string | undefined;
}

/** Longest credential considered; anything longer is malformed (no token we generate or accept is near it). */
const MAX_CREDENTIAL_LENGTH = 4096;
/** Visible ASCII only: no spaces, control characters or non-ASCII in a credential. */
const CREDENTIAL_RE = /^[\x21-\x7e]+$/;
/** Scheme, then one or more spaces/tabs, then the credential; surrounding whitespace tolerated. */
const HEADER_RE = /^[ \t]*([A-Za-z]+)[ \t]+([^ \t]+)[ \t]*$/;

export class TokenStore {
  readonly #entries: readonly Entry[];

  /** Same as `new TokenStore(config)`. */
  static fromConfig(config: Pick<Config, 'principals'>): TokenStore {
    return new TokenStore(config);
  }

  constructor(config: Pick<Config, 'principals'>) {
    const entries: Entry[] = [];
    const seen = new Set<string>();
    for (const [principal, p] of Object.entries(config.principals)) {
      p.tokens.forEach((t, index) => {
        const hex = (t.sha256 ?? (t.token === undefined ? undefined : digestToken(t.token)))?.toLowerCase();
        if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) {
          throw new Error(`principals.${principal}.tokens[${index}]: exactly one of token or sha256 is required`);
        }
        if (seen.has(hex)) {
          // Defense in depth: validate.ts already refuses this with a friendlier message.
          throw new Error(`principals.${principal}.tokens[${index}]: the same token is configured more than once`);
        }
        seen.add(hex);
        const expiresAtMs = t.expires_at === undefined ? undefined : Date.parse(t.expires_at);
        entries.push({
          principal,
          tokenId: t.id ?? defaultTokenId(principal, index),
          digest: Buffer.from(hex, 'hex'),
          expiresAtMs,
          expiresAt: t.expires_at,
        });
      });
    }
    this.#entries = entries;
  }

  /** Number of configured tokens (expired ones included). */
  get size(): number {
    return this.#entries.length;
  }

  /** Labels and expiry of every token, for status and admin views (no digests). */
  list(): TokenInfo[] {
    return this.#entries.map((e) => ({
      principal: e.principal,
      tokenId: e.tokenId,
      ...(e.expiresAt === undefined ? {} : { expiresAt: e.expiresAt }),
    }));
  }

  /** Authenticate an `Authorization` header value. */
  authenticate(authorizationHeader: string | undefined, now?: Date): AuthResult {
    if (authorizationHeader === undefined || authorizationHeader.trim() === '') return { ok: false, reason: 'missing' };
    const credential = parseBearer(authorizationHeader);
    if (credential === undefined) return { ok: false, reason: 'malformed' };

    const presented = credentialDigest(credential);
    let match: Entry | undefined;
    for (const entry of this.#entries) {
      // Every digest is compared, whatever matched before; each comparison is constant time.
      const equal = timingSafeEqual(presented, entry.digest);
      if (equal && match === undefined) match = entry;
    }
    if (match === undefined) return { ok: false, reason: 'invalid' };
    if (match.expiresAtMs !== undefined && !((now?.getTime() ?? Date.now()) < match.expiresAtMs)) return { ok: false, reason: 'expired' };
    return { ok: true, principal: match.principal, tokenId: match.tokenId };
  }
}

/** The credential of a `Bearer` header (scheme case-insensitive), or undefined when malformed. */
export function parseBearer(header: string): string | undefined {
  if (header.length > MAX_CREDENTIAL_LENGTH + 64) return undefined;
  const m = HEADER_RE.exec(header);
  if (!m) return undefined;
  const [, scheme, credential] = m;
  if (scheme === undefined || credential === undefined) return undefined;
  if (scheme.toLowerCase() !== 'bearer') return undefined;
  if (credential.length > MAX_CREDENTIAL_LENGTH || !CREDENTIAL_RE.test(credential)) return undefined;
  return credential;
}

export interface TokenCommandOptions {
  /** Principal the snippet is written for (default `agent`). */
  principal?: string;
  /** Policy the snippet's principal uses (default `default`). */
  policy?: string;
  /** Token label for logs and audit (default `<principal>-<yyyy-mm-dd>`). */
  id?: string;
  /** ISO-8601 expiry to put in the snippet. */
  expiresAt?: string;
  /** Use this token instead of generating one (tests). */
  token?: string;
  now?: Date;
}

/**
 * Text for `pgwarden token`: the new token (shown once), its SHA-256, and a YAML snippet that
 * configures it by digest. The CLI prints this to stdout; nothing is stored.
 */
export function tokenCommandOutput(options: TokenCommandOptions = {}): string {
  const token = options.token ?? generateToken();
  const sha256 = digestToken(token);
  const principal = options.principal ?? 'agent';
  const policy = options.policy ?? 'default';
  const id = options.id ?? `${principal}-${(options.now ?? new Date()).toISOString().slice(0, 10)}`;
  const lines = [
    '# pgwarden token: shown once, not stored anywhere. Give it to the agent as',
    '#   Authorization: Bearer <token>',
    '',
    `token:  ${token}`,
    `sha256: ${sha256}`,
    '',
    '# Add to pgwarden.yaml (only the digest goes in the file):',
    'principals:',
    `  ${principal}:`,
    `    policy: ${policy}`,
    '    tokens:',
    `      - id: ${id}`,
    `        sha256: ${sha256}`,
    ...(options.expiresAt === undefined ? [] : [`        expires_at: ${options.expiresAt}`]),
    '',
    '# Or, without a file: PGWARDEN_TOKEN=<token> (principal "agent", read-only policy "default").',
    '',
  ];
  return lines.join('\n');
}
