import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  TOKEN_PREFIX,
  TokenStore,
  credentialDigest,
  credentialDigestWith,
  digestToken,
  generateToken,
  parseBearer,
  tokenCommandOutput,
} from '../../../src/auth/tokens.js';
import { configSchema, loadConfig } from '../../../src/config/index.js';

const OLD = 'old-token-0123456789abcdefghijklmnopqrstuvwxyz';
const NEW = 'new-token-0123456789abcdefghijklmnopqrstuvwxyz';
const OPS = 'ops-token-0123456789abcdefghijklmnopqrstuvwxyz';

function store(): TokenStore {
  return new TokenStore(
    configSchema.parse({
      databases: {},
      policies: {},
      principals: {
        analyst: {
          policy: 'p',
          tokens: [
            { id: 'analyst-old', sha256: digestToken(OLD), expires_at: '2030-01-01T00:00:00Z' },
            { id: 'analyst-new', token: NEW },
          ],
        },
        ops: { policy: 'p', tokens: [{ sha256: digestToken(OPS).toUpperCase() }] },
      },
    }),
  );
}

describe('TokenStore.authenticate', () => {
  const before = new Date('2029-12-31T23:59:59Z');
  const after = new Date('2030-01-01T00:00:00Z');

  it('maps a valid token to its principal and token id', () => {
    expect(store().authenticate(`Bearer ${OPS}`)).toEqual({ ok: true, principal: 'ops', tokenId: 'ops#0' });
  });

  it('rotation: both tokens of one principal work until the old one expires', () => {
    const s = store();
    expect(s.authenticate(`Bearer ${OLD}`, before)).toEqual({ ok: true, principal: 'analyst', tokenId: 'analyst-old' });
    expect(s.authenticate(`Bearer ${NEW}`, before)).toEqual({ ok: true, principal: 'analyst', tokenId: 'analyst-new' });
    expect(s.authenticate(`Bearer ${OLD}`, after)).toEqual({ ok: false, reason: 'expired' });
    expect(s.authenticate(`Bearer ${NEW}`, after)).toMatchObject({ ok: true, principal: 'analyst' });
  });

  it('refuses unknown tokens, including near misses', () => {
    const s = store();
    expect(s.authenticate(`Bearer ${OPS}x`)).toEqual({ ok: false, reason: 'invalid' });
    expect(s.authenticate(`Bearer ${OPS.slice(0, -1)}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(s.authenticate(`Bearer ${digestToken(OPS)}`)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('accepts the scheme in any case and tolerates extra spaces', () => {
    const s = store();
    for (const h of [`bearer ${OPS}`, `BEARER ${OPS}`, `BeArEr    ${OPS}`, `  Bearer ${OPS}  `, `Bearer\t${OPS}`]) {
      expect(s.authenticate(h)).toMatchObject({ ok: true, principal: 'ops' });
    }
  });

  it('missing and malformed headers', () => {
    const s = store();
    expect(s.authenticate(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(s.authenticate('')).toEqual({ ok: false, reason: 'missing' });
    expect(s.authenticate('   ')).toEqual({ ok: false, reason: 'missing' });
    for (const h of [
      'Bearer',
      `Basic ${Buffer.from(`ops:${OPS}`).toString('base64')}`,
      `Token ${OPS}`,
      `Bearer ${OPS} extra`,
      `Bearer${OPS}`,
      `Bearer ${OPS}\u0000`,
      `Bearer ${OPS}é`,
      `Bearer ${'a'.repeat(5000)}`,
    ]) {
      expect(s.authenticate(h), h.slice(0, 20)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('results never carry the token or its digest', () => {
    const s = store();
    const text = JSON.stringify([s.authenticate(`Bearer ${OPS}`), s.authenticate(`Bearer ${OLD}`, after), s.list()]);
    for (const secret of [OPS, OLD, NEW, digestToken(OPS), digestToken(OLD), digestToken(NEW)]) expect(text).not.toContain(secret);
  });

  it('list() shows labels and expiry only', () => {
    expect(store().list()).toEqual([
      { principal: 'analyst', tokenId: 'analyst-old', expiresAt: '2030-01-01T00:00:00Z' },
      { principal: 'analyst', tokenId: 'analyst-new' },
      { principal: 'ops', tokenId: 'ops#0' },
    ]);
  });

  it('refuses to build with the same token twice', () => {
    const config = configSchema.parse({
      databases: {},
      policies: {},
      principals: { a: { policy: 'p', tokens: [{ token: OPS }] }, b: { policy: 'p', tokens: [{ sha256: digestToken(OPS) }] } },
    });
    expect(() => new TokenStore(config)).toThrow(/more than once/);
  });

  it('works from a loaded config (raw tokens already hashed)', async () => {
    const config = await loadConfig({ env: { DATABASE_URL: 'postgres://h/d', PGWARDEN_TOKEN: OPS } });
    expect(TokenStore.fromConfig(config).authenticate(`Bearer ${OPS}`)).toEqual({ ok: true, principal: 'agent', tokenId: 'agent#env' });
  });
});

describe('timing safety (structural)', () => {
  const source = readFileSync(new URL('../../../src/auth/tokens.ts', import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('authenticate(authorizationHeader'), source.indexOf('export function parseBearer'));

  it('compares digests with crypto.timingSafeEqual, over every entry, without leaving the loop early', () => {
    expect(body).toMatch(/for \(const entry of this\.#entries\)/);
    expect(body).toContain('timingSafeEqual(presented, entry.digest)');
    const loop = /for \(const entry of this\.#entries\) \{([\s\S]*?)\n {4}\}/.exec(body)?.[1];
    expect(loop).toBeDefined();
    expect(loop).not.toMatch(/\b(break|return|continue|throw)\b/);
    expect(body).not.toMatch(/===\s*entry\.digest|entry\.digest\.equals|\.toString\('hex'\)\s*===/);
  });
});

describe('generateToken / digestToken / tokenCommandOutput', () => {
  it('generates distinct prefixed base64url tokens of 47 characters (256 random bits)', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^${TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(parseBearer(`Bearer ${a}`)).toBe(a);
  });

  it('digests are hex sha256', () => {
    expect(digestToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('prints the token once, its digest, and a snippet that loads and authenticates', async () => {
    const token = generateToken();
    const text = tokenCommandOutput({ token, principal: 'ci', policy: 'default', id: 'ci-1' });
    expect(text.split(token).length - 1).toBe(1);
    expect(text).toContain(digestToken(token));
    const snippet = parse(text.slice(text.indexOf('principals:')).split('\n\n')[0] ?? '') as { principals: unknown };
    const config = configSchema.parse({
      databases: { main: { url: 'postgres://h/d' } },
      policies: { default: { databases: { main: {} } } },
      principals: snippet.principals,
    });
    expect(new TokenStore(config).authenticate(`Bearer ${token}`)).toEqual({ ok: true, principal: 'ci', tokenId: 'ci-1' });
  });
});

describe('credentialDigest', () => {
  it('is the SHA-256 of the UTF-8 bytes, as createHash and digestToken compute it', () => {
    for (const credential of [OPS, generateToken(), 'x', 'é-ü-😀', 'a'.repeat(4096)]) {
      const digest = credentialDigest(credential);
      expect(Buffer.isBuffer(digest)).toBe(true);
      expect(digest.equals(createHash('sha256').update(credential, 'utf8').digest())).toBe(true);
      expect(digest.toString('hex')).toBe(digestToken(credential));
    }
  });

  it('without crypto.hash (Node < 20.12) the createHash fallback gives the same digests (UTF-8 SHA-256)', () => {
    const fallback = credentialDigestWith(undefined);
    const oneShot = credentialDigestWith(crypto.hash);
    for (const credential of [OPS, generateToken(), 'x', 'é-ü-😀', 'a'.repeat(4096)]) {
      const digest = fallback(credential);
      expect(Buffer.isBuffer(digest)).toBe(true);
      expect(digest.toString('hex')).toBe(digestToken(credential));
      expect(digest.equals(oneShot(credential))).toBe(true);
    }
    expect(fallback('é').equals(fallback('e'))).toBe(false);
  });

  it('uses the one-shot hash when there is one: SHA-256, buffer output, the credential as given', () => {
    const calls: unknown[][] = [];
    const digest = credentialDigestWith((...args) => (calls.push(args), crypto.hash(...args)))('pgw_abc');
    expect(calls).toEqual([['sha256', 'pgw_abc', 'buffer']]);
    expect(digest.toString('hex')).toBe(digestToken('pgw_abc'));
  });
});
