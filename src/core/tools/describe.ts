/**
 * The `describe` tool: the schemas and tables of a database, or one table's columns, keys,
 * indexes and a few sample rows — only what this principal could read.
 *
 * Guarantees: a relation is listed or described only when a plain SELECT of it would be allowed
 * for this principal (the guard decides); an invisible and a missing table get the same refusal;
 * masked columns are named with their mask, and sample rows are masked at the source like any
 * query (no sample when masking refuses them).
 * Does not: show hidden relations' names, comments or row estimates.
 */
import { reason } from '../../guard/reasons.js';
import type { CatalogSnapshot } from '../../guard/types.js';
import { policyHasMasks } from '../../mask/index.js';
import type { CallContext, Resolved } from '../call/context.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { maskedErrors, read } from '../call/read.js';
import { safeName } from '../call/refusals.js';
import { quoteIdent, resolveTableName } from '../names.js';
import type { RelationDetail, RelationSummary } from '../ports.js';
import { ok, refused, type Outcome } from '../results.js';

export function describe(p: CallPlumbing, ctx: CallContext, args: { database?: string | undefined; table?: string | undefined }): Promise<Outcome<Record<string, unknown>>> {
  return p.call(ctx, 'describe', args.database, async (r, _started, _event, ctx) => {
    if (args.table === undefined || args.table.trim() === '') return ok(await describeDatabase(p, r));
    return describeTable(p, ctx, r, args.table);
  });
}

async function describeDatabase(p: CallPlumbing, r: Resolved): Promise<Record<string, unknown>> {
  const catalog = await r.db.catalog();
  const schemas = visibleSchemas(r);
  const all = await r.db.listRelations(schemas);
  const tables: (RelationSummary & { description?: string })[] = [];
  for (const rel of all) {
    if (!relationVisible(p, r, catalog, rel.schema, rel.name)) continue;
    const description = r.policy.descriptions.tables[`${rel.schema}.${rel.name}`] ?? rel.comment ?? undefined;
    tables.push({ schema: rel.schema, name: rel.name, kind: rel.kind, estimatedRows: rel.estimatedRows, ...(description ? { description } : {}) });
  }
  return {
    database: r.database,
    schemas: schemas.map((s) => ({ name: s, ...(r.policy.descriptions.schemas[s] ? { description: r.policy.descriptions.schemas[s] } : {}) })),
    tables,
  };
}

/** A relation is visible when a plain SELECT of it would be allowed for this principal. */
function relationVisible(p: CallPlumbing, r: Resolved, catalog: CatalogSnapshot, schema: string, name: string): boolean {
  const sql = `SELECT * FROM ${quoteIdent(schema)}.${quoteIdent(name)}`;
  const d = p.deps.guard.decide({
    sql,
    tool: 'query',
    principal: 'describe',
    database: r.database,
    policy: r.policy,
    observe: false,
    policyName: r.view.policyName,
    searchPath: r.db.config.search_path,
    catalog,
    policyVersion: p.deps.configVersion,
    reservedSchemas: [p.deps.config.journal.schema],
  });
  return d.decision === 'allow';
}

async function describeTable(p: CallPlumbing, ctx: CallContext, r: Resolved, table: string): Promise<Outcome<Record<string, unknown>>> {
  const catalog = await r.db.catalog();
  const target = resolveTableName(table, catalog, r.db.config.search_path);
  const notVisible = refused<Record<string, unknown>>({
    decision: 'block',
    reasons: [reason('UNKNOWN_TABLE', `No visible table named "${safeName(table)}".`)],
  });
  if (!target || !relationVisible(p, r, catalog, target.schema, target.name)) return notVisible;
  const detail: RelationDetail | undefined = await r.db.describeRelation(target.schema, target.name);
  if (!detail) return notVisible;
  const key = `${detail.schema}.${detail.name}`;
  const maskedCols = p.deps.masker?.maskedColumns(r.policy, catalog, detail.schema, detail.name) ?? new Map<string, string>();
  const columns = detail.columns.map((c) => {
    const description = r.policy.descriptions.columns[`${key}.${c.name}`] ?? c.comment ?? undefined;
    const mask = maskedCols.get(c.name);
    return { name: c.name, type: c.type, nullable: c.nullable, ...(description ? { description } : {}), masked: mask !== undefined, ...(mask ? { mask } : {}) };
  });
  const sample = await describeSample(p, ctx, r, catalog, detail.schema, detail.name);
  return ok({
    database: r.database,
    schema: detail.schema,
    name: detail.name,
    kind: detail.kind,
    description: r.policy.descriptions.tables[key] ?? detail.comment ?? undefined,
    estimatedRows: detail.estimatedRows,
    columns,
    primaryKey: detail.primaryKey,
    foreignKeys: detail.foreignKeys,
    indexes: detail.indexes,
    masked: [...maskedCols.keys()].map((c) => `${key}.${c}`),
    ...(sample ? { sample } : { sampleOmitted: 'a view over masked columns shows no sample rows' }),
  });
}

/** A few sample rows, masked at the source like any query; undefined when masking refuses them. */
async function describeSample(
  p: CallPlumbing,
  ctx: CallContext,
  r: Resolved,
  catalog: CatalogSnapshot,
  schema: string,
  name: string,
): Promise<{ columns: string[]; rows: unknown[][] } | undefined> {
  const key = `${schema}.${name}`;
  const limit = p.deps.describeSampleRows ?? 3;
  let sql = `SELECT * FROM ${quoteIdent(schema)}.${quoteIdent(name)} LIMIT ${limit}`;
  let rewritten = false;
  let params: readonly unknown[] | undefined;
  if (policyHasMasks(r.policy)) {
    if (!p.deps.masker) return undefined;
    const plan = p.deps.masker.describeSample({ policy: r.policy, catalog, searchPath: r.db.config.search_path, schema, name, limit });
    if (!plan.ok) return undefined;
    sql = plan.sql;
    params = plan.params.length > 0 ? plan.params : undefined;
    rewritten = plan.masked.length > 0;
  }
  const sample = await maskedErrors(rewritten, () =>
    read(p, ctx, r, sql, undefined, () => ({ database: r.database, operation: 'SELECT', collection: key, summary: `SELECT ${key}` }), params),
  );
  return { columns: sample.columns.map((c) => c.name), rows: sample.rows };
}

function visibleSchemas(r: Resolved): string[] {
  return r.policy.schemas.length > 0 ? [...r.policy.schemas] : [...r.db.config.search_path];
}
