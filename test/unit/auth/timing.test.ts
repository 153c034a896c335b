/**
 * The authenticate loop compares the presented digest with EVERY configured digest through
 * crypto.timingSafeEqual, whichever one matches (no early exit). Counted with a spy wrapping
 * the real function.
 */
import type * as Crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ count: 0, lengths: [] as number[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.count++;
      calls.lengths.push(a.byteLength, b.byteLength);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const { TokenStore, digestToken } = await import('../../../src/auth/tokens.js');

const tokens = ['first-token-0123456789abcdefghijklmnopqrstuv', 'second-token-0123456789abcdefghijklmnopqrst', 'third-token-0123456789abcdefghijklmnopqrstuv'];

describe('TokenStore compares against every digest', () => {
  const store = new TokenStore({
    principals: {
      a: { policy: 'p', tokens: [{ sha256: digestToken(tokens[0] as string) }] },
      b: { policy: 'p', tokens: [{ sha256: digestToken(tokens[1] as string) }, { sha256: digestToken(tokens[2] as string) }] },
    },
  });

  it.each([
    ['the first token', `Bearer ${tokens[0]}`, true],
    ['the last token', `Bearer ${tokens[2]}`, true],
    ['an unknown token', 'Bearer unknown-token-0123456789abcdefghijklmnop', false],
    ['a one-character token', 'Bearer x', false],
  ])('%s: 3 comparisons of 32-byte digests', (_label, header, ok) => {
    calls.count = 0;
    calls.lengths = [];
    expect(store.authenticate(header).ok).toBe(ok);
    expect(calls.count).toBe(3);
    expect(new Set(calls.lengths)).toEqual(new Set([32]));
  });
});
