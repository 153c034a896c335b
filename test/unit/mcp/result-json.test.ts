/**
 * resultJson (src/mcp/server.ts): the HTTP fast path's serialization of a tool result. Joined, its
 * parts are exactly JSON.stringify(result) — for toResult's results (whose structuredContent JSON
 * is reused from the text block) and for any other result.
 */
import { describe, expect, it } from 'vitest';
import { resultJson, toResult } from '../../../src/mcp/server.js';

const payloads: Record<string, unknown>[] = [
  { columns: [{ name: 'id', type: 'int4' }], rows: [[1, 'a"b\\c', '\u2028x\u0000', 'é😀', null]], rowCount: 1, truncated: false, masked: [], elapsedMs: 3 },
  { decision: 'block', reasons: [{ code: 'MULTI_STATEMENT', message: 'One statement.', fix: 'Send one.' }], requestId: 'r-1' },
  { nested: { deep: [{ a: undefined, b: 1e21, c: -0, d: 'x'.repeat(10_000) }] }, skipped: undefined },
  {},
];

describe('resultJson', () => {
  it('joins to JSON.stringify(result) for toResult results, successes and refusals', () => {
    for (const p of payloads) {
      for (const outcome of [{ ok: true as const, value: p }, { ok: false as const, refusal: p }]) {
        const result = toResult(outcome as never);
        expect(resultJson(result).join('')).toBe(JSON.stringify(result));
      }
    }
  });

  it('stringifies any other result as it is (one part)', () => {
    const other = { content: [{ type: 'text' as const, text: 'boom' }], isError: true };
    expect(resultJson(other)).toEqual([JSON.stringify(other)]);
    const changed = toResult({ ok: true, value: { a: 1 } });
    const copy = { ...changed };
    expect(resultJson(copy)).toEqual([JSON.stringify(copy)]);
  });
});
