/**
 * Relation resolution and relation policy.
 *
 * Guarantees:
 * - names resolve exactly as PostgreSQL resolves them: qualified names as written (the parser has
 *   already folded unquoted identifiers to lower case and decoded U&"…" escapes); unqualified
 *   names search pg_catalog FIRST (unless the pinned search_path lists it elsewhere), then the
 *   search_path in order; the first schema that has the relation wins; a database-qualified name
 *   (db.schema.table) is judged by its schema and table;
 * - a relation missing from the snapshot is UNKNOWN_RELATION (and asks for a catalog refresh);
 * - system schemas: pg_toast always SYSTEM_CATALOG; pg_catalog/information_schema SYSTEM_CATALOG
 *   unless the policy enables catalogs, and even then the catalogs that hold secrets or sampled
 *   column values (pg_authid, pg_shadow, pg_statistic, pg_stats…) stay hidden unless the policy's
 *   tables.allow names them explicitly;
 * - schemas: only the policy's schemas (empty: the database search_path) → else DENIED_SCHEMA;
 *   tables: deny patterns win over allow patterns → DENIED_TABLE;
 * - views (and materialized views) are checked against every base relation they read
 *   (CatalogRelation.dependsOn, transitive): one hidden or denied base relation → VIEW_NOT_ALLOWED;
 *   views:false → every view is VIEW_NOT_ALLOWED;
 * - a write to a system schema is SYSTEM_CATALOG even when the policy enables catalogs (an
 *   UPDATE of pg_settings is set_config() for the pooled session);
 * - inheritance: a scan of a parent without ONLY (read or write) also reaches every inheritance
 *   child and partition (CatalogRelation.ancestors), whose own privileges PostgreSQL does not
 *   check: one hidden or denied descendant → DENIED_TABLE (VIEW_NOT_ALLOWED for a view's base
 *   relation, whose ONLY the catalog does not record).
 * Does not: see functions a view calls, or row-level security (the database enforces that).
 *
 * Size (#15 item 5): relationRules (~68 lines) is the ordered list of the rules for one resolved
 * relation (unknown, hidden schema, denied, view, write target …), each a few lines, kept in the
 * order the reasons are reported.
 */
import type { DatabasePolicy } from '../config/schema.js';
import { effectiveSearchPath, judgeFunction, type FunctionRules } from './functions.js';
import { displayIdent, displayQualified } from './names.js';
import { firstDenyMatch, firstMatch } from './patterns.js';
import { reason, type Reason } from './reasons.js';
import type { CatalogRelation, CatalogSnapshot } from './types.js';
import type { RelationRef } from './walk.js';

export const CATALOG_SCHEMAS: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema']);

/**
 * System relations that stay hidden even when a policy enables catalogs: password hashes, user
 * mappings (passwords), server files, raw large objects, column statistics (most-common values
 * and histograms are samples of the data itself, for every table the role can read), and other
 * sessions' statement text (every principal shares the gateway's login role, so pg_stat_activity
 * would show one principal the statements of another, literals and mask keys included).
 */
export const SENSITIVE_CATALOG_RELATIONS: ReadonlySet<string> = new Set([
  'pg_catalog.pg_authid', 'pg_catalog.pg_shadow', 'pg_catalog.pg_user_mapping', 'pg_catalog.pg_user_mappings',
  'pg_catalog.pg_largeobject', 'pg_catalog.pg_statistic', 'pg_catalog.pg_statistic_ext_data', 'pg_catalog.pg_stats',
  'pg_catalog.pg_stats_ext', 'pg_catalog.pg_stats_ext_exprs', 'pg_catalog.pg_file_settings',
  'pg_catalog.pg_hba_file_rules', 'pg_catalog.pg_ident_file_mappings', 'pg_catalog.pg_subscription',
  'information_schema.user_mapping_options', 'information_schema._pg_user_mappings',
  'pg_catalog.pg_stat_activity', 'pg_catalog.pg_stat_statements', 'pg_catalog.pg_stat_statements_info',
]);

/**
 * System relations never readable through pgwarden, whatever the policy (`catalogs: true` and
 * `tables.allow` naming them included): pg_prepared_statements lists the pooled connection's
 * named statements, i.e. the read path's statement cache (src/db/statement-cache.ts) with the
 * agent's literals and masked rewrites.
 */
export const NEVER_READABLE_CATALOG_RELATIONS: ReadonlySet<string> = new Set(['pg_catalog.pg_prepared_statements']);

export interface RelationContext {
  policy: DatabasePolicy;
  policyName: string;
  searchPath: readonly string[];
  catalog: CatalogSnapshot;
  /** Function rules, for the functions a view's definition calls (CatalogRelation.dependsOnFunctions). */
  functionRules?: FunctionRules;
  /** Gateway-owned schemas, denied whatever the policy says. Default DEFAULT_RESERVED_SCHEMAS. */
  reservedSchemas?: readonly string[];
}

/** The gateway's own state (undo journal, approvals): never readable or writable by agents. */
export const DEFAULT_RESERVED_SCHEMAS: readonly string[] = ['pgwarden'];

export interface ResolvedRelation {
  schema: string | undefined;
  name: string;
  rel: CatalogRelation | undefined;
  /** schema.name when resolved, else the name as written. */
  display: string;
}

export function isSystemSchema(schema: string): boolean {
  return CATALOG_SCHEMAS.has(schema) || schema === 'pg_toast' || schema.startsWith('pg_toast_temp') || schema.startsWith('pg_temp');
}

/** Resolve a name as written ([name], [schema, name], [db, schema, name]). */
export function resolveRelation(parts: readonly string[], catalog: CatalogSnapshot, searchPath: readonly string[]): ResolvedRelation {
  const name = parts[parts.length - 1] ?? '';
  if (parts.length >= 2) {
    const schema = parts[parts.length - 2] as string;
    const rel = catalog.relations.get(`${schema}.${name}`);
    return { schema, name, rel, display: displayQualified(schema, name) };
  }
  for (const s of effectiveSearchPath(searchPath)) {
    const rel = catalog.relations.get(`${s}.${name}`);
    if (rel) return { schema: s, name, rel, display: displayQualified(s, name) };
  }
  return { schema: undefined, name, rel: undefined, display: displayIdent(name) };
}

export function allowedSchemas(ctx: RelationContext): readonly string[] {
  if (ctx.policy.schemas.length > 0) return ctx.policy.schemas;
  return ctx.searchPath.filter((s) => s !== '$user' && s !== 'pg_temp' && s !== 'pg_catalog');
}

/** Name-level rules (no view expansion): the reasons `schema.name` is hidden, empty when readable. */
export function nameRules(schema: string, name: string, ctx: RelationContext): Reason[] {
  // the displayed name (displayQualified) is built only for a reason: most names pass every rule
  const p = ctx.policy;
  const out: Reason[] = [];
  const denyPattern = firstDenyMatch(p.tables.deny, schema, name);
  if (schema === 'pg_toast' || schema.startsWith('pg_toast_temp')) {
    out.push(reason('SYSTEM_CATALOG', `${displayQualified(schema, name)} is TOAST storage, never readable through pgwarden`));
    return out;
  }
  if (CATALOG_SCHEMAS.has(schema)) {
    if (!p.catalogs) {
      out.push(reason('SYSTEM_CATALOG', `${displayQualified(schema, name)} is a system catalog, hidden by policy '${ctx.policyName}'`));
    } else if (NEVER_READABLE_CATALOG_RELATIONS.has(`${schema}.${name}`)) {
      out.push(reason('SYSTEM_CATALOG', `${displayQualified(schema, name)} lists the connection's prepared statements (the gateway's statement cache) and is never readable through pgwarden`));
    } else if (SENSITIVE_CATALOG_RELATIONS.has(`${schema}.${name}`) && firstMatch(p.tables.allow, schema, name) !== `${schema}.${name}`) {
      out.push(
        reason(
          'SYSTEM_CATALOG',
          `${displayQualified(schema, name)} holds secrets or sampled column values and stays hidden even though policy '${ctx.policyName}' allows catalogs`,
        ),
      );
    }
    if (denyPattern !== undefined) out.push(deniedTable(displayQualified(schema, name), ctx, `matches deny pattern ${denyPattern}`));
    return out;
  }
  if ((ctx.reservedSchemas ?? DEFAULT_RESERVED_SCHEMAS).includes(schema)) {
    out.push(reason('DENIED_SCHEMA', `schema ${displayIdent(schema)} (${displayQualified(schema, name)}) holds pgwarden's own state (undo journal, approvals) and is never exposed to agents`));
    return out;
  }
  if (denyPattern !== undefined) out.push(deniedTable(displayQualified(schema, name), ctx, `matches deny pattern ${denyPattern}`));
  if (!allowedSchemas(ctx).includes(schema)) {
    out.push(reason('DENIED_SCHEMA', `schema ${displayQualified(schema, name).split('.')[0]} (${displayQualified(schema, name)}) is not exposed by policy '${ctx.policyName}'`));
  } else if (denyPattern === undefined && p.tables.allow.length > 0 && firstMatch(p.tables.allow, schema, name) === undefined) {
    out.push(deniedTable(displayQualified(schema, name), ctx, 'is not on the table allow-list'));
  }
  return out;
}

function deniedTable(shown: string, ctx: RelationContext, why: string): Reason {
  return reason('DENIED_TABLE', `${shown} is denied by policy '${ctx.policyName}' (${why})`);
}

function splitKey(key: string, catalog: CatalogSnapshot): [string, string] {
  const rel = catalog.relations.get(key);
  if (rel) return [rel.schema, rel.name];
  const dot = key.indexOf('.');
  return dot === -1 ? ['', key] : [key.slice(0, dot), key.slice(dot + 1)];
}

const descendantIndex = new WeakMap<CatalogSnapshot, Map<string, string[]>>();

/** Every inheritance child and partition of `key`, transitively (from the children's ancestors). */
export function descendantsOf(catalog: CatalogSnapshot, key: string): readonly string[] {
  let index = descendantIndex.get(catalog);
  if (index === undefined) {
    index = new Map();
    for (const rel of catalog.relations.values()) {
      for (const a of rel.ancestors ?? []) {
        const list = index.get(a);
        if (list === undefined) index.set(a, [`${rel.schema}.${rel.name}`]);
        else list.push(`${rel.schema}.${rel.name}`);
      }
    }
    descendantIndex.set(catalog, index);
  }
  return index.get(key) ?? [];
}

/** Descendants of `key` that the policy hides (their rows come back through a scan of `key`). */
function hiddenDescendants(key: string, ctx: RelationContext): string[] {
  const out: string[] = [];
  for (const d of descendantsOf(ctx.catalog, key)) {
    const [ds, dn] = splitKey(d, ctx.catalog);
    if (nameRules(ds, dn, ctx).length > 0) out.push(displayQualified(ds, dn));
  }
  return out;
}

function isView(rel: CatalogRelation | undefined): boolean {
  return rel !== undefined && (rel.kind === 'view' || rel.kind === 'materialized_view');
}

/** All reasons a resolved relation may not be read (or written), empty when it may. */
export function relationRules(r: ResolvedRelation, ref: RelationRef, ctx: RelationContext): { reasons: Reason[]; unknown: boolean } {
  // a type name is judged only when it is a relation's row type
  if (ref.role === 'type' && r.rel === undefined) return { reasons: [], unknown: false };
  if (r.schema === undefined) {
    if (ref.optional || ref.role === 'other') return { reasons: [], unknown: false };
    const path = effectiveSearchPath(ctx.searchPath).join(', ');
    return {
      reasons: [withSuggestion(reason('UNKNOWN_RELATION', `relation ${r.display} does not exist (searched ${path})`), r.name, ctx)],
      unknown: true,
    };
  }
  const reasons = nameRules(r.schema, r.name, ctx);
  if (ref.role === 'write' && isSystemSchema(r.schema) && !reasons.some((x) => x.code === 'SYSTEM_CATALOG')) {
    // catalogs: true opens reading, never writing: UPDATE pg_settings runs set_config() for the
    // pooled session (standard_conforming_strings, DateStyle …), the rest is the server's own state
    reasons.push(reason('SYSTEM_CATALOG', `${r.display} is a system catalog; writing it changes server or session state and is never allowed`));
  }
  const inherited: Reason[] = [];
  let unknown = false;
  if (r.rel === undefined) {
    if (!ref.optional && ref.role !== 'other' && reasons.length === 0) {
      reasons.push(withSuggestion(reason('UNKNOWN_RELATION', `relation ${r.display} does not exist`), r.name, ctx));
      unknown = true;
    }
  } else if (reasons.length === 0 && (ref.role === 'read' || ref.role === 'write') && ref.only !== true && !isView(r.rel)) {
    // a scan without ONLY returns (an UPDATE/DELETE changes) the rows of every child and partition
    // the hidden descendants are not named, nor counted (their names are what the policy hides)
    if (hiddenDescendants(`${r.schema}.${r.name}`, ctx).length > 0) {
      inherited.push(
        reason(
          'DENIED_TABLE',
          `${r.display} also ${ref.role === 'write' ? 'reaches' : 'returns'} the rows of an inheritance child or partition that policy '${ctx.policyName}' hides`,
          `Use ONLY ${r.display} for its own rows, or read an allowed child directly. Call describe to list what this principal may read.`,
        ),
      );
    }
  }
  if (r.rel !== undefined && isView(r.rel) && !CATALOG_SCHEMAS.has(r.schema) && reasons.length === 0) {
    const what = r.rel.kind === 'view' ? 'view' : 'materialized view';
    if (!ctx.policy.views) {
      reasons.push(reason('VIEW_NOT_ALLOWED', `${r.display} is a ${what} and policy '${ctx.policyName}' does not allow views`));
    } else {
      for (const dep of r.rel.dependsOn ?? []) {
        const [ds, dn] = splitKey(dep, ctx.catalog);
        // a hidden base relation is not named (its name is what the policy hides)
        if (nameRules(ds, dn, ctx).length > 0) {
          reasons.push(reason('VIEW_NOT_ALLOWED', `${r.display} reads a relation that policy '${ctx.policyName}' hides`));
        } else if (hiddenDescendants(`${ds}.${dn}`, ctx).length > 0) {
          reasons.push(reason('VIEW_NOT_ALLOWED', `${r.display} reads ${displayQualified(ds, dn)}, whose child or partition policy '${ctx.policyName}' hides`));
        }
      }
      // a view that calls a function the policy refuses (a SECURITY DEFINER side door, pg_sleep…)
      if (ctx.functionRules) {
        for (const fn of r.rel.dependsOnFunctions ?? []) {
          const dot = fn.indexOf('.');
          const parts = dot === -1 ? [fn] : [fn.slice(0, dot), fn.slice(dot + 1)];
          const v = judgeFunction(parts, ctx.catalog, ctx.searchPath, ctx.functionRules, ctx.policyName);
          if (!v.ok && !v.unknown) {
            const fnSchema = dot === -1 ? 'pg_catalog' : fn.slice(0, dot);
            const shown = fnSchema === 'pg_catalog' || ctx.searchPath.includes(fnSchema) || allowedSchemas(ctx).includes(fnSchema);
            reasons.push(reason('VIEW_NOT_ALLOWED', shown ? `${r.display} calls function ${v.resolved}, which ${v.why}` : `${r.display} calls a function that policy '${ctx.policyName}' hides`));
          }
        }
      }
    }
  }
  return { reasons: [...reasons.map((x) => (x.code === 'UNKNOWN_RELATION' ? x : withSuggestion(x, r.name, ctx, r.display))), ...inherited], unknown };
}

/**
 * The name-level refusals of `schema.name` with their fixes (nameRules + a suggestion from the
 * readable relations): identical whether or not the relation exists, so a refusal never says
 * whether a hidden relation is there (visibility.ts).
 */
export function nameRefusals(schema: string, name: string, ctx: RelationContext): Reason[] {
  const display = displayQualified(schema, name);
  return nameRules(schema, name, ctx).map((x) => withSuggestion(x, name, ctx, display));
}

/** Replace a reason's default fix with a concrete one naming an allowed alternative when cheap. */
function withSuggestion(x: Reason, name: string, ctx: RelationContext, subject?: string): Reason {
  const alt = suggestRelation(name, ctx);
  const because = subject === undefined ? '' : `: ${subject} ${reasonVerb(x)} by policy '${ctx.policyName}'`;
  if (x.code === 'UNKNOWN_RELATION') {
    return { ...x, fix: alt ? `Did you mean ${alt}? Check names with describe and qualify them with their schema.` : x.fix };
  }
  if (alt && subject !== undefined && alt !== subject) {
    return { ...x, fix: `Use ${alt} instead of ${subject}${because}. Call describe to list what this principal may read.` };
  }
  return { ...x, fix: `Remove ${subject ?? name} from the statement${because}. Call describe to list what this principal may read.` };
}

function reasonVerb(x: Reason): string {
  switch (x.code) {
    case 'SYSTEM_CATALOG':
      return 'is hidden';
    case 'VIEW_NOT_ALLOWED':
      return 'is not allowed';
    case 'DENIED_SCHEMA':
      return 'is outside the exposed schemas';
    default:
      return 'is denied';
  }
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}

/** An allowed, readable relation with the same or a similar name (only computed for refusals). */
/** Relation kinds a fix may propose: what a principal reads rows from (never sequences, indexes…). */
const SUGGESTIBLE_KINDS: ReadonlySet<string> = new Set(['table', 'partitioned_table', 'view', 'materialized_view', 'foreign_table']);

export function suggestRelation(name: string, ctx: RelationContext): string | undefined {
  let best: string | undefined;
  let bestScore = 0;
  const schemas = allowedSchemas(ctx);
  let scanned = 0;
  for (const rel of ctx.catalog.relations.values()) {
    if (!schemas.includes(rel.schema) || !SUGGESTIBLE_KINDS.has(rel.kind)) continue;
    if (++scanned > 5000) break;
    let score = 0;
    if (rel.name === name) score = 100;
    else {
      const cp = commonPrefix(rel.name, name);
      if (cp >= 4) score = 20 + cp;
      else {
        const d = editDistance(rel.name, name);
        if (d <= 2) score = 10 - d;
      }
    }
    if (score <= bestScore) continue;
    if (nameRules(rel.schema, rel.name, ctx).length > 0) continue;
    if (hiddenDescendants(`${rel.schema}.${rel.name}`, ctx).length > 0) continue;
    if (isView(rel) && (!ctx.policy.views || (rel.dependsOn ?? []).some((d) => nameRules(...splitKey(d, ctx.catalog), ctx).length > 0))) continue;
    best = displayQualified(rel.schema, rel.name);
    bestScore = score;
  }
  return best;
}
