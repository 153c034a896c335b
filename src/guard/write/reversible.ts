/**
 * Whether the effects of one top-level write can be recorded for undo (NOT_REVERSIBLE otherwise).
 *
 * Guarantees: a write is reversible only when every row it changes is a row of ONE plain table
 * that has a primary key, identified by that key before and after, and nothing else changes:
 * - target: a plain table ('table' kind) with write facts loaded; views, partitioned tables,
 *   foreign tables and anything else are refused; an UPDATE or DELETE of a table with
 *   inheritance children is refused unless the statement says ONLY (an INSERT reaches the named
 *   table only);
 * - no primary key; user triggers (any event: the undo itself would fire them); rewrite rules;
 * - DELETE on a table that other tables reference with ON DELETE CASCADE / SET NULL / SET DEFAULT;
 *   UPDATE of columns referenced with ON UPDATE CASCADE / SET NULL / SET DEFAULT;
 * - UPDATE of a primary-key column (the undo restores by key);
 * - INSERT … ON CONFLICT DO UPDATE (upsert: inserted and updated rows cannot be told apart), MERGE;
 * - volatile functions in UPDATE (SET, WHERE, FROM) and DELETE (WHERE, USING): count, capture and
 *   write would each see different values or rows; in INSERT only volatile functions that may
 *   have side effects (user-defined or unknown) — random(), gen_random_uuid(), clock_timestamp()…
 *   are fine there because the undo deletes the inserted rows by the keys RETURNING reports.
 * Does not: see what column DEFAULTs do (a serial's sequence advances and is not rewound), or
 * functions called by CHECK constraints or by other objects; RLS is the database's business.
 *
 * Size (#15 item 5): irreversibility (~61 lines) is one ordered list of the cases that make a
 * write irreversible, each a few lines.
 */
import type { OnConflictAction } from '@pgsql/types';
import { writeAnalysisBudget, type Budget } from '../ast/budget.js';
import { descendRaw, THROW_ON_REFUSE, traverseField, visitorTable, type Visitor } from '../ast/traverse.js';
import { effectiveSearchPath } from '../functions.js';
import type { CatalogSnapshot } from '../types.js';
import { asArray, isObj, names, unwrap, type FoundWrite } from './ast.js';
import { isVolatile, type WriteTargetInfo } from './target.js';

/**
 * Whether an INSERT's ON CONFLICT action can be undone (null) or why not. Total over
 * OnConflictAction; a member a newer parser adds is refused until someone decides.
 */
export const ON_CONFLICT_UNDO: Readonly<Record<OnConflictAction, string | null>> = {
  ONCONFLICT_NONE: null,
  ONCONFLICT_NOTHING: null, // conflicting rows are left alone: the undo deletes only the inserted ones
  ONCONFLICT_UPDATE: 'INSERT … ON CONFLICT DO UPDATE (upsert) is not recorded for undo in this version',
};

/** Volatile built-ins without side effects outside the statement (fine in INSERT values). */
const PURE_VOLATILE_BUILTINS: ReadonlySet<string> = new Set([
  'random', 'random_normal', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'clock_timestamp', 'timeofday',
]);

const ACTING: ReadonlySet<string> = new Set(['cascade', 'set null', 'set default']);

/** Why the write cannot be recorded for undo (empty: reversible). Messages name identifiers only. */
export function irreversibility(w: FoundWrite, t: WriteTargetInfo, catalog: CatalogSnapshot, searchPath: readonly string[], budget: Budget = writeAnalysisBudget()): string[] {
  const out: string[] = [];
  const rel = t.rel;
  if (w.kind === 'merge') out.push('MERGE is not recorded for undo in this version');
  if (rel === undefined) {
    out.push(`${t.display} is not in the catalog`);
    return out;
  }
  switch (rel.kind) {
    case 'table':
      break;
    case 'view':
      out.push(`${t.display} is a view: writes through views are not recorded`);
      return out;
    case 'partitioned_table':
      out.push(`${t.display} is a partitioned table: only writes to plain tables are recorded in this version`);
      return out;
    case 'foreign_table':
      out.push(`${t.display} is a foreign table: its rows live on another server`);
      return out;
    default:
      out.push(`${t.display} is not a table`);
      return out;
  }
  const info = rel.write;
  if (info === undefined) {
    out.push(`no key information is loaded for ${t.display}`);
    return out;
  }
  if (info.primaryKey.length === 0) out.push(`${t.display} has no primary key`);
  if (info.userTriggers.length > 0) out.push(`${t.display} has user trigger(s) ${info.userTriggers.join(', ')}`);
  if (info.rules.length > 0) out.push(`${t.display} has rewrite rule(s) ${info.rules.join(', ')}`);
  // INSERT adds rows to the named table only; UPDATE and DELETE without ONLY reach the children.
  if (info.hasChildren && t.inh && w.kind !== 'insert') out.push(`${t.display} has inheritance children that the write also reaches (write to ONLY ${t.display})`);

  if (w.kind === 'delete') {
    for (const fk of info.referencedBy) {
      if (ACTING.has(fk.onDelete)) out.push(`foreign key ${fk.constraint} of ${fk.table} acts ON DELETE ${fk.onDelete.toUpperCase()}`);
    }
  }
  if (w.kind === 'update') {
    const set = updatedColumns(w);
    const pk = info.primaryKey.filter((c) => set.has(c));
    if (pk.length > 0) out.push(`the UPDATE changes primary key column(s) ${pk.join(', ')}`);
    for (const fk of info.referencedBy) {
      if (ACTING.has(fk.onUpdate) && fk.columns.some((c) => set.has(c))) {
        out.push(`foreign key ${fk.constraint} of ${fk.table} acts ON UPDATE ${fk.onUpdate.toUpperCase()}`);
      }
    }
  }
  if (w.kind === 'insert') {
    const oc = w.body.onConflictClause;
    if (isObj(oc)) {
      const why = ON_CONFLICT_UNDO[oc.action as OnConflictAction] as string | null | undefined;
      if (why !== null) out.push(why ?? 'INSERT … ON CONFLICT with an action this version does not know is not recorded for undo');
    }
  }
  const volatile = volatileCalls(w, catalog, searchPath, budget);
  if (volatile.length > 0) out.push(`volatile function(s) ${volatile.join(', ')} ${w.kind === 'insert' ? 'may have side effects' : 'make the changed rows and values unrepeatable'}`);
  return out;
}

/** Columns an UPDATE assigns (SET a = …, SET (b, c) = …, SET d[1] = …). */
export function updatedColumns(w: FoundWrite): Set<string> {
  const set = new Set<string>();
  for (const rt of asArray(w.body.targetList)) {
    const [, b] = unwrap(rt);
    if (typeof b.name === 'string') set.add(b.name);
  }
  return set;
}

/**
 * Volatile calls a write evaluates (sorted names; exported for the golden-facts test). Spends
 * `budget` per object or list visited; throws TooComplexError when it runs out (never a shorter list).
 */
export function volatileCalls(w: FoundWrite, catalog: CatalogSnapshot, searchPath: readonly string[], budget: Budget = writeAnalysisBudget()): string[] {
  const fields =
    w.kind === 'insert'
      ? ['selectStmt', 'onConflictClause', 'withClause']
      : ['targetList', 'whereClause', 'fromClause', 'usingClause', 'withClause', 'joinCondition', 'mergeWhenClauses', 'sourceRelation'];
  const state: VolatileWalk = { w, catalog, searchPath, found: new Set() };
  for (const f of fields) traverseField(w.type, w.body, f, VOLATILE_CALLS, state, budget);
  return [...state.found].sort();
}

interface VolatileWalk {
  w: FoundWrite;
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  found: Set<string>;
}

/** volatileCalls as a visitor: every FuncCall is judged, everything else descended into. */
const VOLATILE_CALLS: Visitor<VolatileWalk> = {
  table: visitorTable<VolatileWalk>(descendRaw(), {
    FuncCall: ({ body, state }) => {
      const { w, catalog, searchPath, found } = state;
      const parts = names(body.funcname);
      if (parts === undefined) found.add('(unnamed)');
      else if (isVolatile(parts, catalog, searchPath)) {
        const name = parts[parts.length - 1] ?? '';
        const builtin = parts.length === 1 ? isBuiltin(name, catalog, searchPath) : parts[0] === 'pg_catalog';
        if (!(w.kind === 'insert' && builtin && PURE_VOLATILE_BUILTINS.has(name))) found.add(parts.join('.'));
      }
    },
  }),
  inherit: 0,
  listInherit: 0,
  ...THROW_ON_REFUSE,
};

/** An unqualified name resolves to pg_catalog (searched first unless the path lists it later). */
function isBuiltin(name: string, catalog: CatalogSnapshot, searchPath: readonly string[]): boolean {
  const overloads = catalog.functions.get(name) ?? [];
  for (const s of effectiveSearchPath(searchPath)) {
    if (overloads.some((f) => f.schema === s)) return s === 'pg_catalog';
  }
  return false;
}
