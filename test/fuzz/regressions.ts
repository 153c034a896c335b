/**
 * Regression cases the fuzzer found (test/corpus/fuzz/regressions.yaml), replayed by
 * test/fuzz/fuzz.test.ts: a case holds (the property is true for it) unless it carries
 * `known_gap`, in which case it must still fail (it.fails) until someone fixes it and removes the
 * mark. A known gap's `match` (a case-insensitive regular expression) also tolerates the random
 * run's findings of the same class, so CI stays green and deterministic while the gap is open.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadCorpus } from '../corpus/index.js';
import { loadLeakCorpus } from '../corpus/leaks/index.js';
import { loadWriteCorpus } from '../corpus/writes/index.js';
import { NOISY_TEXT, type Seeds } from './generate.js';

export const REGRESSIONS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'corpus', 'fuzz', 'regressions.yaml');

const regressionSchema = z.strictObject({
  property: z.enum(['noninterference', 'side-effects', 'touches', 'fidelity']),
  tool: z.enum(['query', 'explain', 'check', 'execute']).default('query'),
  sql: z.string().min(1),
  /** writes: the read that shows what the write stored. */
  follow_up: z.string().optional(),
  why: z.string().min(3),
  /** Open: the property still fails for this case (runs as it.fails). */
  known_gap: z.string().min(3).optional(),
  /** With known_gap: random findings of this property whose statement matches are tolerated. */
  match: z.string().optional(),
});

export type Regression = z.infer<typeof regressionSchema> & { id: string };

export function loadRegressions(): Regression[] {
  const parsed = z.array(regressionSchema).parse(parseYaml(readFileSync(REGRESSIONS_PATH, 'utf8')) ?? []);
  return parsed.map((r, i) => {
    if (r.match !== undefined) new RegExp(r.match, 'is'); // throws on a bad pattern
    return { ...r, id: `fuzz/regressions.yaml#${i + 1}` };
  });
}

/** The corpora as generator seeds. */
export function loadSeeds(): Seeds {
  const corpus = loadCorpus().filter((c) => !c.parseError && !NOISY_TEXT.test(c.sql));
  return {
    wild: [
      ...corpus.filter((c) => c.expect === 'block').map((c) => ({ id: c.id, sql: c.sql, tool: c.tool === 'explain' ? ('explain' as const) : c.tool === 'check' ? ('check' as const) : ('query' as const) })),
      ...loadLeakCorpus()
        .filter((c) => c.sql !== undefined && c.tool !== 'describe' && !NOISY_TEXT.test(c.sql))
        .map((c) => ({ id: `leaks/${c.id}`, sql: c.sql as string, tool: c.tool === 'explain' ? ('explain' as const) : ('query' as const) })),
    ],
    // user-defined functions are refused while the policy has masks (docs/masking.md): not green here
    green: corpus.filter((c) => c.expect === 'allow' && c.tool === 'query' && !/^\s*explain\b/i.test(c.sql) && !/\b(cents_to_eur|lookup_key)\b/i.test(c.sql)).map((c) => ({ id: c.id, sql: c.sql })),
    writes: loadWriteCorpus().filter((c) => c.tool === 'execute').map((c) => ({ id: c.id, sql: c.sql })),
  };
}
