/**
 * The masked-writes corpus (test/corpus/masked-writes, issue #9 items 1, 2, 7) through the pure
 * guard AND the masker, as the gateway's execute runs them: a block case is refused by one of the
 * two with all its codes; hold and allow cases pass both and plan to a WritePlan from the masked
 * tree. The catalog is the mask fixture plus the corpus's extra tables (extra-schema.sql) as facts;
 * test/integration/e2e/masked-writes.test.ts runs the same cases against a real PostgreSQL through
 * the MCP client.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import type { CatalogRelation, CatalogSnapshot, CatalogWriteInfo } from '../../../src/guard/types.js';
import { isWritePlan, planWrite } from '../../../src/guard/write/index.js';
import { Masker } from '../../../src/mask/index.js';
import { loadWriteCorpus, loadWritePolicy } from '../../corpus/writes/index.js';
import { demoCatalog, guardRequest, testGuard } from '../guard/fixtures/catalog.js';
import { HASH_KEY, maskCatalog } from './fixtures.js';

export const MASKED_WRITES_DIR = fileURLToPath(new URL('../../corpus/masked-writes', import.meta.url));
const cases = loadWriteCorpus(MASKED_WRITES_DIR);
const wp = loadWritePolicy(MASKED_WRITES_DIR);

const info = (primaryKey: string[], extra: Partial<CatalogWriteInfo>): CatalogWriteInfo => ({
  primaryKey, notNull: primaryKey, generated: [], identityAlways: [], userTriggers: [], rules: [], referencedBy: [], hasChildren: false, constraints: [], defaulted: [], ...extra,
});

/** extra-schema.sql as catalog facts (what src/db/catalog-writes.ts loads; the e2e run uses the real ones). */
function corpusCatalog(): CatalogSnapshot {
  const base = maskCatalog();
  const rels = new Map([...base.relations].filter(([, r]) => r.schema === 'app' || r.schema === 'internal'));
  const customers = rels.get('app.customers') as CatalogRelation & { write: CatalogWriteInfo };
  rels.set('app.customers', {
    ...customers,
    write: {
      ...customers.write,
      referencedBy: [...customers.write.referencedBy, { table: 'app.newsletter', constraint: 'newsletter_email_fkey', columns: ['email'], referencingColumns: ['email'], onDelete: 'no action', onUpdate: 'no action' }],
    },
  });
  rels.set('app.newsletter', {
    schema: 'app', name: 'newsletter', kind: 'table', estimatedRows: 3,
    columns: [{ name: 'id', type: 'bigint' }, { name: 'email', type: 'text' }, { name: 'topic', type: 'text' }],
    write: info(['id'], {
      constraints: [
        { name: 'newsletter_pkey', kind: 'unique', columns: ['id'] },
        { name: 'newsletter_email_fkey', kind: 'foreign_key', columns: ['email'], validated: true, references: { table: 'app.customers', columns: ['email'] } },
      ],
      defaulted: ['topic'],
    }),
  });
  rels.set('app.members', {
    schema: 'app', name: 'members', kind: 'table', estimatedRows: 5,
    columns: [{ name: 'id', type: 'bigint' }, { name: 'club', type: 'text' }, { name: 'ssn', type: 'text' }, { name: 'nick', type: 'text' }],
    write: info(['id'], {
      constraints: [
        { name: 'members_pkey', kind: 'unique', columns: ['id'] },
        { name: 'members_club_ssn_key', kind: 'unique', columns: ['club', 'ssn'] },
        { name: 'members_check', kind: 'check', columns: ['ssn', 'nick'], validated: true },
      ],
    }),
  });
  return demoCatalog({ relations: [...rels.values()], version: 11 });
}

describe('masked-writes corpus (pure guard + masker, policy writer with masks)', () => {
  let guard: Guard;
  let catalog: CatalogSnapshot;
  const masker = new Masker({ hashKey: HASH_KEY });
  beforeAll(async () => {
    guard = await testGuard({ cacheSize: 0 });
    catalog = corpusCatalog();
  });

  it('has block cases for every class and allowed writes over masked tables', () => {
    expect(cases.filter((c) => c.expect === 'block').length).toBeGreaterThanOrEqual(30);
    expect(cases.filter((c) => c.expect !== 'block').length).toBeGreaterThanOrEqual(10);
  });

  for (const c of cases) {
    it(`${c.expect} ${c.id}: ${c.why}`, () => {
      const d = guard.decide(guardRequest(c.sql, { tool: 'execute', policy: wp.policy, policyName: wp.policyName, searchPath: wp.searchPath, catalog }));
      const codes = d.reasons.map((r) => r.code);
      const plan = d.decision === 'allow' ? masker.plan({ decision: d, policy: wp.policy, catalog, searchPath: wp.searchPath }) : undefined;
      if (plan !== undefined && !plan.ok) codes.push(...plan.reasons.map((r) => r.code));
      if (c.expect === 'block') {
        expect(d.decision === 'block' || (plan !== undefined && !plan.ok), `sql: ${c.sql}`).toBe(true);
        for (const code of c.codes) expect(codes, `sql: ${c.sql}`).toContain(code);
        return;
      }
      expect(codes, `sql: ${c.sql}`).toEqual([]);
      const tree = plan?.ok === true && plan.rewritten ? plan.stmt : d;
      const planned = planWrite(tree, catalog, wp.searchPath);
      expect(isWritePlan(planned) ? 'planned' : planned.reasons.map((r) => `${r.code}: ${r.message}`)).toBe('planned');
    });
  }
});
