/**
 * Test fixture for the write rules and planner: the demo catalog (test/unit/guard/fixtures, whose
 * demo tables carry write facts from src/demo/seed.sql), plus tables with the shapes that are
 * not reversible (a trigger, a rule, cascading foreign keys, no primary key, partitioned, foreign,
 * inheritance children), and a read-write policy builder.
 */
import { databasePolicySchema, type DatabasePolicy } from '../../../../src/config/schema.js';
import type { CatalogRelation, CatalogSnapshot, CatalogWriteInfo, GuardRequest } from '../../../../src/guard/types.js';
import { demoCatalog } from '../fixtures/catalog.js';

function info(primaryKey: string[], notNull: string[], extra: Partial<CatalogWriteInfo> = {}): CatalogWriteInfo {
  return { primaryKey, notNull, generated: [], identityAlways: [], userTriggers: [], rules: [], referencedBy: [], hasChildren: false, ...extra };
}

/** Extra tables with irreversible shapes (also created in the scratch database by the integration test). */
export const EXTRA_RELATIONS: CatalogRelation[] = [
  { schema: 'app', name: 'audited', kind: 'table', estimatedRows: 10, write: info(['id'], ['id'], { userTriggers: ['audited_touch'] }) },
  { schema: 'app', name: 'ruled', kind: 'table', estimatedRows: 10, write: info(['id'], ['id'], { rules: ['ruled_log'] }) },
  {
    schema: 'app',
    name: 'parents',
    kind: 'table',
    estimatedRows: 10,
    write: info(['id'], ['id'], {
      referencedBy: [{ table: 'app.children', constraint: 'children_parent_id_fkey', columns: ['id'], onDelete: 'cascade', onUpdate: 'cascade' }],
    }),
  },
  { schema: 'app', name: 'children', kind: 'table', estimatedRows: 10, write: info(['id'], ['id']) },
  { schema: 'app', name: 'nopk', kind: 'table', estimatedRows: 10, write: info([], []) },
  { schema: 'app', name: 'parted', kind: 'partitioned_table', estimatedRows: 10, write: info(['id'], ['id'], { hasChildren: true }) },
  { schema: 'app', name: 'remote', kind: 'foreign_table', estimatedRows: 10 },
  { schema: 'app', name: 'base', kind: 'table', estimatedRows: 10, write: info(['id'], ['id'], { hasChildren: true }) },
  { schema: 'app', name: 'ledger', kind: 'partitioned_table', estimatedRows: 10, write: info(['id'], ['id'], { hasChildren: true }) },
  { schema: 'app', name: 'ledger_open', kind: 'table', estimatedRows: 10, ancestors: ['app.ledger'], write: info(['id'], ['id']) },
  { schema: 'internal', name: 'ledger_secret', kind: 'table', estimatedRows: 1, ancestors: ['app.ledger'], write: info(['id'], ['id']) },
  { schema: 'app', name: 'notes_base', kind: 'table', estimatedRows: 10, write: info(['id'], ['id'], { hasChildren: true }) },
  { schema: 'internal', name: 'notes_secret', kind: 'table', estimatedRows: 1, ancestors: ['app.notes_base'], write: info([], ['id']) },
  {
    schema: 'app',
    name: 'accounts',
    kind: 'table',
    estimatedRows: 10,
    write: info(['id'], ['id'], {
      referencedBy: [{ table: 'internal.account_secrets', constraint: 'account_secrets_account_id_fkey', columns: ['id'], onDelete: 'cascade', onUpdate: 'no action' }],
    }),
  },
  { schema: 'internal', name: 'account_secrets', kind: 'table', estimatedRows: 10, write: info(['id'], ['id']) },
  { schema: 'app', name: 'gen', kind: 'table', estimatedRows: 10, write: info(['id'], ['id'], { generated: ['total'], identityAlways: ['id'] }) },
];

let cached: CatalogSnapshot | undefined;

/** The demo catalog with write facts and the extra tables. */
export function writeCatalog(): CatalogSnapshot {
  if (cached) return cached;
  cached = demoCatalog({ relations: EXTRA_RELATIONS, functions: [
    { schema: 'app', name: 'bump', securityDefiner: false, volatility: 'volatile', language: 'plpgsql' },
  ] });
  return cached;
}

/** A read-write policy over schema app (internal.* denied), writes as given. */
export function writePolicyFor(writes: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): DatabasePolicy {
  return databasePolicySchema.parse({
    mode: 'read-write',
    schemas: ['app'],
    tables: { allow: [], deny: ['internal.*'] },
    functions: { mode: 'denylist', allow: ['app.bump'] },
    writes,
    ...extra,
  });
}

export function writeRequest(sql: string, overrides: Partial<GuardRequest> = {}): GuardRequest {
  return {
    sql,
    tool: 'execute',
    principal: 'writer',
    database: 'demo',
    policy: writePolicyFor(),
    observe: false,
    policyName: 'writer',
    searchPath: ['app', 'public'],
    catalog: writeCatalog(),
    policyVersion: 1,
    ...overrides,
  };
}
