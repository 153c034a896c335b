/**
 * Writes under masks (issue #9 items 1, 2, 7), over parse trees: the target's raw row is reachable
 * by no spelling (whole-row references, qualified stars, composite field selection, functions of
 * the row, masked names in any clause), constraints over masked columns are not oracles, and
 * writes that read masked tables only through unmasked columns run over the masked projection.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogRelation, CatalogSnapshot } from '../../../src/guard/types.js';
import type { MaskPlan } from '../../../src/mask/index.js';
import { MaskHarness, maskPolicy } from './fixtures.js';
import { demoCatalog } from '../guard/fixtures/catalog.js';

let h: MaskHarness;
beforeAll(async () => {
  h = await MaskHarness.create();
});

const rw = (): ReturnType<typeof maskPolicy> => maskPolicy({ mode: 'read-write' });
const plan = (sql: string, catalog?: CatalogSnapshot): MaskPlan => {
  if (catalog === undefined) return h.plan(sql, rw(), 'execute').plan;
  return h.masker.planText(sql, { policy: rw(), catalog, searchPath: ['app', 'public'], relations: [] });
};
const codes = (sql: string, catalog?: CatalogSnapshot): string[] => {
  const p = plan(sql, catalog);
  return p.ok ? ['ok'] : p.reasons.map((r) => r.code);
};

/** Every spelling of the red team's whole-row reference, in every clause a write has. */
const WHOLE_ROW = [
  // SET
  'UPDATE ONLY app.customers c SET city = (c.*)::text WHERE c.id = 5',
  'UPDATE app.customers c SET city = c::text WHERE c.id = 5',
  'UPDATE app.customers SET city = customers::text WHERE id = 5',
  'UPDATE app.customers SET city = (customers.*)::text WHERE id = 5',
  'UPDATE app.customers SET city = (app.customers.*)::text WHERE id = 5',
  'UPDATE app.customers c SET city = ROW(c.*)::text WHERE c.id = 5',
  'UPDATE app.customers c SET city = to_jsonb(c.*)::text WHERE c.id = 5',
  'UPDATE app.customers c SET city = to_jsonb(c) ->> 3 WHERE c.id = 5',
  'UPDATE app.customers SET city = row_to_json(app.customers.*)::text WHERE id = 5',
  'UPDATE app.customers c SET city = (c).ssn WHERE c.id = 5',
  'UPDATE app.customers c SET city = ssn(c) WHERE c.id = 5',
  'UPDATE app.customers c SET city = (c.*).email WHERE c.id = 5',
  'UPDATE app.customers c SET city = json_build_array(c)::text WHERE c.id = 5',
  'UPDATE app.customers c SET (city, country) = (SELECT c.*::text, c::text) WHERE c.id = 5',
  // WHERE (the red team's oracle: rowCount 1 or 0)
  "UPDATE app.customers c SET city = city WHERE c.id = 2 AND (c.*)::text ~ '^\\(2,[^,]*,[^,]*,[^,]*,174-'",
  "UPDATE app.customers c SET city = city WHERE c.id = 2 AND c::text LIKE '%174-%'",
  "UPDATE app.customers SET city = city WHERE id = 2 AND position('174-' IN customers::text) > 0",
  "UPDATE app.customers SET city = city WHERE id = 2 AND row_to_json(app.customers.*) ->> 'ssn' LIKE '1%'",
  "DELETE FROM app.customers c WHERE c.id = 2 AND (c.*)::text ~ '174-'",
  "DELETE FROM app.customers WHERE id = 2 AND to_jsonb(customers) ->> 'email' LIKE 'a%'",
  // subqueries correlated to the target
  "UPDATE app.customers c SET city = city WHERE c.id = 2 AND EXISTS (SELECT 1 FROM app.products p WHERE c::text LIKE '%' || p.sku || '%')",
  "UPDATE app.orders o SET status = 'paid' WHERE o.id = 1 AND EXISTS (SELECT 1 WHERE o::text LIKE '%street%')",
  "UPDATE app.customers c SET city = (SELECT max(p.sku) FROM app.products p WHERE p.name = (c.*)::text) WHERE c.id = 2",
  // ON CONFLICT and MERGE
  "INSERT INTO app.customers AS c (id, full_name, country, city, signed_up) VALUES (1, 'x', 'NL', 'A', now()) ON CONFLICT (id) DO UPDATE SET city = c::text",
  "INSERT INTO app.customers AS c (id, full_name, country, city, signed_up) VALUES (1, 'x', 'NL', 'A', now()) ON CONFLICT (id) DO UPDATE SET city = 'x' WHERE c.* IS NOT NULL AND c::text LIKE '%1%'",
  // null mask on orders.shipping_address
  "UPDATE app.orders o SET status = 'paid' WHERE o.id = 1 AND o::text LIKE '%Main%'",
  "UPDATE app.orders SET status = 'paid' WHERE id = 1 AND orders.*::text LIKE '%Main%'",
];

describe('writes: the target row is unreachable through whole-row references (item 1)', () => {
  // the masker alone (planText): it must hold whatever the guard's write rules let through
  for (const sql of WHOLE_ROW) {
    it(`refuses: ${sql}`, () => {
      expect(codes(sql, h.catalog)).toContain('MASKED_COLUMN_WRITE');
    });
  }

  it('ON CONFLICT DO UPDATE naming a masked column of the existing row (masker alone: the guard refuses it as irreversible)', () => {
    expect(codes("INSERT INTO app.customers AS c (id, country, city, signed_up) VALUES (1, 'NL', 'A', now()) ON CONFLICT (id) DO UPDATE SET city = c.email", h.catalog)).toContain('MASKED_COLUMN_WRITE');
  });

  it('names the reference and says how to fix it', () => {
    const p = plan('UPDATE app.customers c SET city = (c.*)::text WHERE c.id = 5');
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.reasons[0]?.message).toMatch(/whole row/);
      expect(p.reasons[0]?.fix).toMatch(/unmasked columns/);
    }
  });
});

describe('writes: masked columns of the target by name, in any clause', () => {
  for (const sql of [
    "UPDATE app.customers SET city = 'x' WHERE ssn LIKE '1%'",
    "UPDATE app.customers SET city = email WHERE id = 1",
    "UPDATE app.customers SET phone = 'x' WHERE id = 1",
    "UPDATE app.customers c SET city = 'x' WHERE c.id = 1 AND length(c.full_name) > 3",
    "UPDATE app.customers SET city = 'x' WHERE id = 1 AND app.customers.ssn IS NOT NULL",
    "DELETE FROM app.customers WHERE id = 1 AND email LIKE 'a%'",
    "INSERT INTO app.customers (id, full_name, email, country, city, signed_up) VALUES (1, 'x', 'e', 'NL', 'A', now())",
    "INSERT INTO app.customers VALUES (999, 'n', 'e', 'p', 's', 'c', 'c', now(), false, '{}')",
    "UPDATE app.orders SET status = 'paid' WHERE id = 1 AND shipping_address IS NULL",
  ]) {
    it(`refuses: ${sql}`, () => {
      expect(codes(sql)).toContain('MASKED_COLUMN_WRITE');
    });
  }
});

describe('writes that read masked tables through unmasked columns run over the masked projection (item 7)', () => {
  for (const sql of [
    "UPDATE app.orders SET status = 'paid' WHERE customer_id IN (SELECT id FROM app.customers WHERE country = 'NL')",
    "UPDATE app.orders o SET status = 'paid' FROM app.customers c WHERE c.id = o.customer_id AND c.country = 'NL'",
    "DELETE FROM app.order_items i USING app.orders o WHERE o.id = i.order_id AND o.status = 'cancelled'",
    "UPDATE app.customers SET city = 'Utrecht' WHERE id = 7",
    "UPDATE app.customers c SET city = upper(c.city) WHERE c.id IN (SELECT customer_id FROM app.orders WHERE status = 'paid')",
  ]) {
    it(`allows: ${sql}`, () => {
      const p = plan(sql);
      expect(p.ok ? 'ok' : p.reasons.map((r) => `${r.code}: ${r.message}`)).toBe('ok');
    });
  }

  it('a write reading a masked column of ANOTHER table reads the masked value (never raw)', () => {
    const p = plan("UPDATE app.orders o SET status = 'paid' FROM app.customers c WHERE c.id = o.customer_id AND c.ssn LIKE '1%'");
    expect(p.ok && p.rewritten).toBe(true);
    if (p.ok && p.rewritten) {
      expect(p.sql).toMatch(/pg_catalog\.sha256/);
      expect(p.sql).not.toMatch(/FROM app\.customers AS c/);
    }
  });

  it('the target itself read in a subquery is masked there', () => {
    const p = plan("UPDATE app.customers SET city = 'x' WHERE id IN (SELECT id FROM app.customers WHERE country = 'NL') AND id < 10");
    expect(p.ok && p.rewritten).toBe(true);
  });
});

/** The demo catalog plus a newsletter table whose e-mail references app.customers(email), and more constraints. */
function constraintCatalog(): CatalogSnapshot {
  const base = h.catalog;
  const rels = [...base.relations.values()];
  const customers = base.relations.get('app.customers') as CatalogRelation;
  const cw = customers.write as NonNullable<CatalogRelation['write']>;
  const extra: CatalogRelation[] = [
    {
      ...customers,
      write: {
        ...cw,
        constraints: [
          ...(cw.constraints ?? []),
          { name: 'customers_country_ssn_key', kind: 'unique', columns: ['country', 'ssn'] },
          { name: 'customers_name_check', kind: 'check', columns: ['city', 'phone'], validated: true },
          { name: 'customers_legacy_check', kind: 'check', columns: ['ssn'], validated: false },
        ],
        referencedBy: [...cw.referencedBy, { table: 'app.newsletter', constraint: 'newsletter_email_fkey', columns: ['email'], referencingColumns: ['email'], onDelete: 'no action', onUpdate: 'no action' }],
      },
    },
    {
      schema: 'app',
      name: 'newsletter',
      kind: 'table',
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'email', type: 'text' },
        { name: 'topic', type: 'text' },
      ],
      write: {
        primaryKey: ['id'], notNull: ['id'], generated: [], identityAlways: [], userTriggers: [], rules: [], referencedBy: [], hasChildren: false,
        constraints: [
          { name: 'newsletter_pkey', kind: 'unique', columns: ['id'] },
          { name: 'newsletter_email_fkey', kind: 'foreign_key', columns: ['email'], validated: true, references: { table: 'app.customers', columns: ['email'] } },
        ],
        defaulted: [],
      },
    },
  ];
  const byKey = new Map(rels.map((r) => [`${r.schema}.${r.name}`, r]));
  for (const r of extra) byKey.set(`${r.schema}.${r.name}`, r);
  return demoCatalog({ relations: [...byKey.values()].filter((r) => r.schema === 'app' || r.schema === 'internal'), version: 99 });
}

describe('writes: constraints over masked columns are not oracles (item 2)', () => {
  let cat: CatalogSnapshot;
  beforeAll(() => {
    cat = constraintCatalog();
  });

  for (const sql of [
    "INSERT INTO app.newsletter (id, email) VALUES (1, 'guess@mail.test')",
    "INSERT INTO app.newsletter VALUES (1, 'guess@mail.test', 't')",
    "INSERT INTO app.newsletter (id, email) VALUES (1, 'guess@mail.test') ON CONFLICT DO NOTHING",
    "UPDATE app.newsletter SET email = 'guess@mail.test' WHERE id = 1",
    'DELETE FROM app.customers WHERE id = 5',
    "UPDATE app.customers SET country = 'NL' WHERE id = 5",
    "UPDATE app.customers SET city = 'x' WHERE id = 5",
    "UPDATE app.customers SET marketing_opt_in = true WHERE id = 5",
  ]) {
    it(`refuses: ${sql}`, () => {
      expect(codes(sql, cat)).toContain('MASKED_CONSTRAINT');
    });
  }

  for (const sql of [
    "INSERT INTO app.newsletter (id, topic) VALUES (1, 'news')",
    "UPDATE app.newsletter SET topic = 'x' WHERE id = 1",
    "DELETE FROM app.newsletter WHERE id = 1",
  ]) {
    it(`allows: ${sql}`, () => {
      expect(codes(sql, cat)).toEqual(['ok']);
    });
  }

  it('the demo UNIQUE(email): an INSERT that leaves email NULL cannot conflict; one that sets it is refused', () => {
    expect(codes("INSERT INTO app.customers (id, full_name, country, city, signed_up) VALUES (1, 'x', 'NL', 'A', now())")).toContain('MASKED_COLUMN_WRITE');
    expect(codes("INSERT INTO app.customers (id, country, city, signed_up) VALUES (1, 'NL', 'A', now())")).toEqual(['ok']);
  });

  it('a masked table without constraint facts in the snapshot is refused (fail closed)', () => {
    const c = demoCatalog({
      relations: [...h.catalog.relations.values()]
        .filter((r) => r.schema === 'app')
        .map((r) => (r.name === 'customers' && r.write ? { ...r, write: { ...r.write, constraints: undefined } } : r)) as CatalogRelation[],
      version: 100,
    });
    expect(codes("UPDATE app.customers SET city = 'x' WHERE id = 1", c)).toContain('MASKED_CONSTRAINT');
  });
});
