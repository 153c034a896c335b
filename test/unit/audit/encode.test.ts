/**
 * The writer's encoding fast paths (issue #13) produce exactly what the reference encoding does:
 * the record hash is sha256 over the UTF-8 bytes of the canonical JSON, whichever API computes it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/audit/canonical.js';

describe('audit encoding', () => {
  it('sha256Hex is sha256 over the UTF-8 bytes (ASCII, multi-byte, astral, lone surrogates, empty, long)', () => {
    const texts = ['', '{"a":1}', 'café — ünïcödé', '𝔘𝔫𝔦 😀', 'lone \ud800 high', 'lone \udc00 low', 'x'.repeat(100_000)];
    for (const t of texts) expect(sha256Hex(t)).toBe(createHash('sha256').update(Buffer.from(t, 'utf8')).digest('hex'));
  });
});
