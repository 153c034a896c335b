/**
 * Golden mask output: every SQL text of every corpus (test/corpus block/allow, the leak corpus,
 * the write corpus, the masked-writes corpus) that the guard allows under the mask fixture policy
 * (test/unit/mask/fixtures.ts: masks on app.customers and app.orders, a hash key), planned by the
 * Masker, and compared with __snapshots__/mask-rewrite.txt, one line per statement:
 *   `<case id> untouched` | `<case id> rewritten params=N masked=[…] <the SQL that would run>` |
 *   `<case id> refused CODE: message | CODE: message`.
 * Statements the guard refuses have no line (the guard's own facts are pinned by
 * test/unit/guard/ast/golden.test.ts).
 *
 * Why: the mask walk (src/mask/rewrite.ts) moves onto the traversal core (issue #15): the walk
 * facts are pinned by the guard golden test, this pins what the rewrite makes of them. A refactor
 * leaves this file byte-identical; a deliberate fix changes exactly the lines it should (update
 * with `npx vitest run test/unit/mask/golden-rewrite.test.ts -u`, read the diff, and say in the
 * commit message which lines changed and why).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Guard } from '../../../src/guard/index.js';
import { Masker, type MaskPlan } from '../../../src/mask/index.js';
import { loadCorpus } from '../../corpus/index.js';
import { loadLeakCorpus } from '../../corpus/leaks/index.js';
import { loadWriteCorpus } from '../../corpus/writes/index.js';
import { guardRequest, testGuard } from '../guard/fixtures/catalog.js';
import { HASH_KEY, maskCatalog, maskPolicy } from './fixtures.js';

const MASKED_WRITES_DIR = fileURLToPath(new URL('../../corpus/masked-writes', import.meta.url));

type Tool = 'query' | 'explain' | 'execute';

/** Every SQL text with a stable id and the tool it is judged for, in a stable order. */
function allTexts(): [string, string, Tool][] {
  const out: [string, string, Tool][] = [];
  for (const c of loadCorpus()) out.push([c.id, c.sql, c.tool === 'explain' ? 'explain' : c.tool === 'execute' ? 'execute' : 'query']);
  for (const c of loadLeakCorpus()) if (c.sql !== undefined) out.push([`leaks/${c.id}`, c.sql, c.tool === 'explain' ? 'explain' : 'query']);
  for (const c of loadWriteCorpus()) out.push([c.id, c.sql, 'execute']);
  for (const c of loadWriteCorpus(MASKED_WRITES_DIR)) out.push([c.id, c.sql, 'execute']);
  return out;
}

function line(id: string, plan: MaskPlan): string {
  if (!plan.ok) return `${id} refused ${plan.reasons.map((r) => `${r.code}: ${r.message}`).join(' | ')}`;
  if (!plan.rewritten) return `${id} untouched`;
  return `${id} rewritten params=${plan.params.length} masked=[${plan.masked.join(',')}] ${plan.sql}`;
}

function rewriteLines(guard: Guard): string {
  const catalog = maskCatalog();
  const reads = maskPolicy();
  const writes = maskPolicy({ mode: 'read-write' });
  const masker = new Masker({ hashKey: HASH_KEY });
  const lines: string[] = [];
  for (const [id, sql, tool] of allTexts()) {
    const policy = tool === 'execute' ? writes : reads;
    const decision = guard.decide(guardRequest(sql, { policy, catalog, tool }));
    if (decision.decision !== 'allow') continue;
    lines.push(line(id, masker.plan({ decision, policy, catalog, searchPath: ['app', 'public'] })));
  }
  return `${lines.join('\n')}\n`;
}

describe('golden mask rewrite over every corpus text', () => {
  let guard: Guard;
  beforeAll(async () => {
    guard = await testGuard();
  });

  it('the Masker plans every allowed statement as before', async () => {
    const text = rewriteLines(guard);
    expect(text.split('\n').filter((l) => / rewritten /.test(l)).length).toBeGreaterThan(200);
    await expect(text).toMatchFileSnapshot('__snapshots__/mask-rewrite.txt');
  }, 120_000);
});
