/**
 * What one write reaches as PostgreSQL will run it (issue #14 items 4-6), from the catalog
 * snapshot (pure, no I/O):
 * - the tables it writes: the target, or every table a view target reads (its auto-updatable base
 *   is among them; over-approximated to all of them), and the tables foreign keys with ON DELETE /
 *   ON UPDATE CASCADE, SET NULL or SET DEFAULT change, transitively;
 * - the triggers that fire: enabled user triggers for the write's event on the target (INSTEAD
 *   OF on a view), on the tables written through a view, and on cascade targets;
 * - the rewrite rules the write meets (on the target and on the tables behind a view);
 * - every relation whose definitions the judgment used, and those definitions as one canonical
 *   string, so the executor can re-read them inside the write's transaction and refuse when
 *   they changed (src/db/writes/execute.ts, CATALOG_CHANGED).
 *
 * Guarantees: over-approximates (a trigger whose event cannot be told, or facts that are not
 * loaded, count as firing); built-in trigger functions that only modify the new row
 * (suppress_redundant_updates_trigger, tsvector_update_trigger[_column]) are not effects.
 * Does not: read trigger or rule bodies (their targets are unknowable here: the rules refuse
 * them unless an operator trusts them by name), or follow what a trusted trigger does.
 */
import type { CatalogSnapshot, CatalogWriteInfo } from '../types.js';
import { updatedColumns } from './reversible.js';
import type { FoundWrite } from './ast.js';
import type { WriteTargetInfo } from './target.js';

type Event = 'insert' | 'update' | 'delete';

export interface WriteReach {
  /** Tables written other than the target itself: through a view target, or by a cascade. */
  written: { table: string; via: 'view' | 'cascade' }[];
  triggers: { table: string; trigger: string; function: string }[];
  rules: { table: string; rule: string }[];
  /** Every relation whose definitions the judgment used (sorted, schema.name). */
  relations: string[];
}

const ACTING: ReadonlySet<string> = new Set(['cascade', 'set null', 'set default']);
const ROW_ONLY_BUILTINS: ReadonlySet<string> = new Set([
  'pg_catalog.suppress_redundant_updates_trigger',
  'pg_catalog.tsvector_update_trigger',
  'pg_catalog.tsvector_update_trigger_column',
]);

function eventsOf(kind: FoundWrite['kind']): Event[] {
  return kind === 'merge' ? ['insert', 'update', 'delete'] : [kind];
}

export function writeReach(w: FoundWrite, t: WriteTargetInfo, catalog: CatalogSnapshot): WriteReach {
  const target = t.schema === undefined ? t.name : `${t.schema}.${t.name}`;
  const events = eventsOf(w.kind);
  const relations = new Set<string>([target]);
  const written: WriteReach['written'] = [];
  const triggers: WriteReach['triggers'] = [];
  const rules: WriteReach['rules'] = [];

  // The tables the statement itself writes: the target, or the tables behind a view.
  const direct: string[] = [];
  const rel = t.rel;
  if (rel?.kind === 'view' || rel?.kind === 'materialized_view') {
    for (const dep of rel.dependsOn ?? []) {
      relations.add(dep);
      const d = catalog.relations.get(dep);
      if (d?.kind === 'table' || d?.kind === 'partitioned_table' || d?.kind === 'foreign_table') {
        direct.push(dep);
        written.push({ table: dep, via: 'view' });
      }
    }
  } else direct.push(target);

  // What fires on the target (INSTEAD OF triggers and rules on a view included) and on the written tables.
  const visit = (table: string, ev: readonly Event[]): void => {
    const info = catalog.relations.get(table)?.write;
    if (info === undefined) return;
    for (const trig of firing(info, ev)) triggers.push({ table, trigger: trig.name, function: trig.function });
    for (const rule of meeting(info, ev)) rules.push({ table, rule });
  };
  visit(target, events);
  for (const d of direct) if (d !== target) visit(d, events);

  // Cascades from every written table, transitively (their triggers fire too).
  const set = w.kind === 'update' ? updatedColumns(w) : undefined;
  const seen = new Set<string>();
  const todo: string[] = [];
  for (const d of direct) {
    for (const fk of catalog.relations.get(d)?.write?.referencedBy ?? []) {
      const onDelete = (w.kind === 'delete' || w.kind === 'merge') && ACTING.has(fk.onDelete);
      const onUpdate = (w.kind === 'update' || w.kind === 'merge') && ACTING.has(fk.onUpdate) && (set === undefined || fk.columns.some((c) => set.has(c)));
      if (onDelete || onUpdate) todo.push(fk.table);
    }
  }
  while (todo.length > 0 && seen.size < 1000) {
    const key = todo.pop() as string;
    if (seen.has(key)) continue;
    seen.add(key);
    relations.add(key);
    written.push({ table: key, via: 'cascade' });
    // a cascaded delete fires DELETE triggers, SET NULL / SET DEFAULT and ON UPDATE CASCADE fire UPDATE triggers
    visit(key, ['delete', 'update']);
    for (const fk of catalog.relations.get(key)?.write?.referencedBy ?? []) if (ACTING.has(fk.onDelete) || ACTING.has(fk.onUpdate)) todo.push(fk.table);
  }
  return { written, triggers, rules, relations: [...relations].sort() };
}

function firing(info: CatalogWriteInfo, events: readonly Event[]): { name: string; function: string }[] {
  if (info.triggers === undefined) return info.userTriggers.map((name) => ({ name, function: '(unknown)' }));
  return info.triggers.filter((x) => x.enabled && x.events.some((e) => (events as readonly string[]).includes(e)) && !ROW_ONLY_BUILTINS.has(x.function));
}

function meeting(info: CatalogWriteInfo, events: readonly Event[]): string[] {
  if (info.ruleFacts === undefined) return [...info.rules];
  return info.ruleFacts.filter((r) => r.enabled && (events as readonly string[]).includes(r.event)).map((r) => r.name);
}

/**
 * The definitions a write was judged on, as one canonical string: for each relation (sorted) its
 * write facts (null when it has none or no longer exists). The executor builds the same string
 * from facts it re-reads inside the write's transaction (src/db/catalog-writes.ts readWriteFacts).
 */
export function definitionsDigest(relations: readonly string[], facts: (key: string) => CatalogWriteInfo | undefined): string {
  return JSON.stringify([...relations].sort().map((k) => [k, facts(k) ?? null]));
}
