/**
 * Mask test fixtures: the demo catalog with the column lists src/db/catalog.ts loads (the
 * guard's fixture has none), a partition child of app.customers, and a masking policy.
 */
import { parseSync } from 'libpg-query';
import { databasePolicySchema, type DatabasePolicy } from '../../../src/config/schema.js';
import type { CatalogRelation, CatalogSnapshot, CatalogWriteInfo, Decision } from '../../../src/guard/types.js';
import { Masker, type MaskPlan } from '../../../src/mask/index.js';
import { DEMO_RELATIONS, demoCatalog, guardRequest, testGuard } from '../guard/fixtures/catalog.js';
import type { Guard } from '../../../src/guard/index.js';

const cols = (list: string): { name: string; type: string }[] =>
  list.split(',').map((c) => {
    const [name, ...type] = c.trim().split(' ');
    return { name: name as string, type: type.join(' ') };
  });

export const COLUMNS: Record<string, { name: string; type: string }[]> = {
  'app.customers': cols(
    'id bigint, full_name text, email text, phone text, ssn text, country text, city text, signed_up timestamp with time zone, marketing_opt_in boolean, profile jsonb',
  ),
  'app.orders': cols('id bigint, customer_id bigint, status text, placed_at timestamp with time zone, shipped_at timestamp with time zone, total_cents integer, shipping_address text'),
  'app.products': cols('id integer, sku text, name text, category text, price_cents integer, active boolean, tags text[]'),
  'app.customer_notes': cols('id bigint, full_name text, note text'),
  'app.order_totals': cols('customer_id bigint, orders bigint, total_cents bigint'),
  'app.customers_eu': cols(
    'id bigint, full_name text, email text, phone text, ssn text, country text, city text, signed_up timestamp with time zone, marketing_opt_in boolean, profile jsonb, vat character varying(20)',
  ),
  'app.priced': cols('id integer, price_eur numeric'),
};

/** Constraint facts (src/db/catalog-writes.ts) of the masked demo tables, as the seed declares them. */
const CONSTRAINTS: Record<string, Pick<CatalogWriteInfo, 'constraints' | 'defaulted'>> = {
  'app.customers': {
    constraints: [
      { name: 'customers_pkey', kind: 'unique', columns: ['id'] },
      { name: 'customers_email_key', kind: 'unique', columns: ['email'] },
    ],
    defaulted: ['marketing_opt_in', 'profile'],
  },
  'app.orders': {
    constraints: [
      { name: 'orders_pkey', kind: 'unique', columns: ['id'] },
      { name: 'orders_customer_id_fkey', kind: 'foreign_key', columns: ['customer_id'], validated: true, references: { table: 'app.customers', columns: ['id'] } },
      { name: 'orders_status_check', kind: 'check', columns: ['status'], validated: true },
    ],
    defaulted: [],
  },
};

function withFacts(r: CatalogRelation): CatalogRelation {
  const key = `${r.schema}.${r.name}`;
  const facts = CONSTRAINTS[key] ?? (r.write !== undefined ? { constraints: [], defaulted: [] } : undefined);
  return {
    ...r,
    ...(COLUMNS[key] ? { columns: COLUMNS[key] } : {}),
    ...(r.write !== undefined && facts !== undefined ? { write: { ...r.write, ...facts, referencedBy: r.write.referencedBy.map((k) => ({ ...k, referencingColumns: [/_([a-z]+_id)_fkey$/.exec(k.constraint)?.[1] ?? 'id'] })) } } : {}),
  };
}

export function maskCatalog(): CatalogSnapshot {
  const withColumns: CatalogRelation[] = DEMO_RELATIONS.map(withFacts);
  return demoCatalog({
    relations: [
      ...withColumns,
      { schema: 'app', name: 'customers_eu', kind: 'table', ancestors: ['app.customers'], columns: COLUMNS['app.customers_eu'] },
      { schema: 'app', name: 'priced', kind: 'view', dependsOn: ['app.products'], dependsOnFunctions: ['app.cents_to_eur', 'pg_catalog.round'], columns: COLUMNS['app.priced'] },
    ],
    version: 7,
  });
}

export const MASKS = {
  'app.customers.email': { mask: 'email' },
  'app.customers.phone': { mask: 'partial', keep_last: 4 },
  'app.customers.ssn': { mask: 'hash' },
  'app.customers.full_name': { mask: 'redact' },
  'app.orders.shipping_address': { mask: 'null' },
};

export function maskPolicy(overrides: Record<string, unknown> = {}): DatabasePolicy {
  return databasePolicySchema.parse({
    mode: 'read-only',
    schemas: ['app'],
    tables: { allow: [], deny: ['internal.*'] },
    masks: MASKS,
    ...overrides,
  });
}

export const HASH_KEY = 'unit-test-mask-key-0123456789';

export interface Planned {
  decision: Decision;
  plan: MaskPlan;
}

export class MaskHarness {
  readonly catalog = maskCatalog();
  readonly masker = new Masker({ hashKey: HASH_KEY });
  private constructor(private readonly guard: Guard) {}

  static async create(): Promise<MaskHarness> {
    return new MaskHarness(await testGuard());
  }

  plan(sql: string, policy: DatabasePolicy = maskPolicy(), tool: 'query' | 'explain' | 'execute' = 'query'): Planned {
    const decision = this.guard.decide(guardRequest(sql, { policy, catalog: this.catalog, tool }));
    if (decision.decision !== 'allow') throw new Error(`guard refused ${sql}: ${decision.reasons.map((r) => r.code).join(', ')}`);
    return { decision, plan: this.masker.plan({ decision, policy, catalog: this.catalog, searchPath: ['app', 'public'] }) };
  }
}

type Body = Record<string, unknown>;

function wrapped(v: unknown): [string, Body] | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !/^[A-Z]/.test(keys[0] as string)) return undefined;
  const body = (v as Body)[keys[0] as string];
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? [keys[0] as string, body as Body] : undefined;
}

/**
 * Independent check of a rewritten text: every RangeVar naming a masked table (any spelling:
 * qualified or the unqualified table name) is the only FROM item of a SELECT whose output column
 * of each masked name is NOT a bare column reference. Returns the problems found.
 */
export function rawReads(sql: string, masked: Record<string, string[]>): string[] {
  const problems: string[] = [];
  const tree = parseSync(sql) as { stmts: { stmt: unknown }[] };
  const okRangeVars = new Set<unknown>();
  const stack: unknown[] = tree.stmts.map((s) => s.stmt);
  const cteNames = new Set([...JSON.stringify(tree).matchAll(/"ctename":"([^"]*)"/g)].map((m) => m[1]));
  const isMasked = (rv: Body): string | undefined => {
    const name = rv.relname as string;
    if (rv.schemaname === undefined && cteNames.has(name)) return undefined; // (coarse: any CTE of that name)
    const schema = (rv.schemaname as string | undefined) ?? 'app';
    const key = `${schema}.${name}`;
    return masked[key] !== undefined ? key : undefined;
  };
  const all: unknown[] = [];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      stack.push(...v);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    all.push(v);
    const w = wrapped(v);
    const body = w ? w[1] : (v as Body);
    if (w?.[0] === 'SelectStmt' || ('targetList' in body && 'fromClause' in body)) {
      const from = Array.isArray(body.fromClause) ? body.fromClause : [];
      if (from.length === 1) {
        const f = wrapped(from[0]);
        const rv = f?.[0] === 'RangeVar' ? f[1] : f?.[0] === 'RangeTableSample' ? wrapped(f[1].relation)?.[1] : undefined;
        const key = rv ? isMasked(rv) : undefined;
        if (rv && key) {
          const targets = (Array.isArray(body.targetList) ? body.targetList : []).map((t) => wrapped(t)?.[1] ?? {});
          const bad = (masked[key] ?? []).filter((col) =>
            targets.some((t) => {
              const val = wrapped(t.val);
              const name = (t.name as string | undefined) ?? (val?.[0] === 'ColumnRef' ? JSON.stringify(val[1].fields) : '');
              return val?.[0] === 'ColumnRef' && (name === col || JSON.stringify(val[1].fields).includes(`"${col}"`));
            }),
          );
          const star = targets.some((t) => JSON.stringify(t).includes('A_Star'));
          if (bad.length === 0 && !star) okRangeVars.add(rv);
        }
      }
    }
    for (const x of Object.values(body)) stack.push(x);
  }
  for (const v of all) {
    const w = wrapped(v);
    if (w?.[0] === 'RangeVar' && isMasked(w[1]) && !okRangeVars.has(w[1])) problems.push(`raw read of ${String(w[1].relname)}`);
  }
  return problems;
}
