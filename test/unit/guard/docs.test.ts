/**
 * docs/reasons.md is generated from the reason catalogue and must not drift from it.
 * Regenerate with: npx tsx src/guard/docs.ts > docs/reasons.md
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReasonsDoc } from '../../../src/guard/docs.js';
import { REASONS } from '../../../src/guard/reasons.js';

describe('docs/reasons.md', () => {
  const doc = readFileSync(new URL('../../../docs/reasons.md', import.meta.url), 'utf8');

  it('is exactly the generated text (run `npx tsx src/guard/docs.ts > docs/reasons.md`)', () => {
    expect(doc).toBe(renderReasonsDoc());
  });

  it('documents every code with its category, meaning and fix', () => {
    for (const [code, def] of Object.entries(REASONS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(row, code).toBeDefined();
      expect(row).toContain(def.summary.replace(/\|/g, '\\|'));
      expect(row).toContain(def.fix.replace(/\|/g, '\\|'));
    }
  });
});
