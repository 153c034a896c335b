/**
 * Every must-allow corpus statement, planned under a masking policy: it is either rewritten
 * (and the text that would run reads masked tables only through masked projections), left
 * untouched (no masked table), or refused with a masking reason code — never rewritten into
 * something else. The deparser's remaining gaps (it cannot print JSON_TABLE / SQL/JSON query
 * functions; WITH TIES and GROUP BY DISTINCT are printed by src/mask/deparse.ts) are caught by the
 * round-trip check and refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus } from '../../corpus/index.js';
import { MaskHarness, maskPolicy, rawReads } from './fixtures.js';

let h: MaskHarness;
beforeAll(async () => {
  h = await MaskHarness.create();
});

const MASKED = { 'app.customers': ['email', 'phone', 'ssn', 'full_name'], 'app.orders': ['shipping_address'] };

describe('corpus round trip under masks', () => {
  it('rewrites the allow corpus soundly, refusing only what it cannot reproduce exactly', () => {
    const cases = loadCorpus().filter((c) => c.expect === 'allow' && (c.tool === 'query' || c.tool === 'explain'));
    const counts = { untouched: 0, rewritten: 0, refused: 0, guardRefused: 0 };
    const refused: string[] = [];
    for (const c of cases) {
      let planned;
      try {
        planned = h.plan(c.sql, maskPolicy(), c.tool === 'explain' ? 'explain' : 'query');
      } catch {
        counts.guardRefused++; // the corpus policy differs slightly (e.g. search_path public)
        continue;
      }
      const { plan } = planned;
      if (!plan.ok) {
        counts.refused++;
        refused.push(`${c.id}: ${plan.reasons.map((r) => r.code).join(',')}`);
        for (const r of plan.reasons) expect(['MASK_REWRITE_UNSUPPORTED', 'MASKED_VIEW', 'FUNCTION_NOT_ALLOWED']).toContain(r.code);
        continue;
      }
      if (!plan.rewritten) {
        counts.untouched++;
        continue;
      }
      counts.rewritten++;
      expect(rawReads(plan.sql, MASKED), c.id).toEqual([]);
    }
    const planned = counts.untouched + counts.rewritten + counts.refused;
    expect(counts.rewritten).toBeGreaterThan(50);
    // the deparser gaps are few: at least 95 % of the statements run (rewritten or untouched)
    expect((counts.untouched + counts.rewritten) / planned, refused.join('\n')).toBeGreaterThanOrEqual(0.95);
  });
});
