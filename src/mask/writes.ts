/**
 * Writes under a policy with masks: what a write may not do so that nothing an agent observes
 * about it — allowed, held or refused, its blast radius, its row count, its error, the values it
 * stores — depends on a raw masked value.
 *
 * A write sees masked data through two doors, closed here and in index.ts:
 * - other relations it reads (UPDATE … FROM, DELETE … USING, MERGE … USING, subqueries, CTEs):
 *   index.ts replaces every masked one with its masked projection, as for a read, so the write
 *   computes over masked values only;
 * - its TARGET, which cannot be replaced (PostgreSQL writes the base table). Its raw row is
 *   reachable by a masked column's name, by a whole-row reference (`t`, `t.*`, `customers.*`,
 *   `app.customers.*`, `ROW(t.*)`, `to_jsonb(t)`, `(t).ssn`, `ssn(t)`), by RETURNING *, and by
 *   the constraints PostgreSQL checks while writing (a unique or exclusion index, a CHECK, a
 *   foreign key in either direction whose columns include a masked column: whether the write
 *   fails with 23505/23P01/23514/23503 tells whether a raw value equals a guess).
 *
 * Guarantees (for a write allowed by the guard, under a policy with masks):
 * - MASKED_COLUMN_WRITE when the statement names a masked column of a target anywhere (by name
 *   only: any column reference with that last name, in any scope — conservative), assigns one
 *   (INSERT column list or no list, UPDATE SET, ON CONFLICT DO UPDATE SET, MERGE actions), uses a
 *   single-name reference or a qualified star whose qualifier is the target's alias or relation
 *   name (in any scope — conservative), or returns `*`;
 * - MASKED_CONSTRAINT when the write makes PostgreSQL compare a raw masked value (see
 *   constraintRefusals), or when a table it writes has masks and its constraints are not in the
 *   catalog snapshot (fail closed).
 * Does not: see triggers or rules (their bodies may read masked columns: the write rules refuse
 * writes to tables with user triggers or rules under issue #14), or defaults that read other
 * tables.
 */
import { reason, type Reason } from '../guard/reasons.js';
import type { CatalogConstraint, CatalogRelation, CatalogSnapshot } from '../guard/types.js';
import { relationMasks, type MaskIndex } from './masks.js';
import type { WalkResult } from './rewrite.js';

type Target = WalkResult['targets'][number];

/** Masked column names of `key` under the policy (empty set: none). */
function maskedOf(index: MaskIndex, catalog: CatalogSnapshot, key: string): ReadonlySet<string> | 'no-columns' {
  const rm = relationMasks(index, catalog, key);
  if (rm === undefined) return new Set();
  if (rm === 'no-columns') return 'no-columns';
  return new Set(rm.masks.keys());
}

/** Refusals for the targets of a write (see the module header). */
export function writeRefusals(walk: WalkResult, index: MaskIndex, catalog: CatalogSnapshot): Reason[] {
  const out: Reason[] = [];
  for (const target of walk.targets) {
    const masked = maskedOf(index, catalog, target.key);
    if (masked === 'no-columns') {
      out.push(reason('MASK_REWRITE_UNSUPPORTED', `the column list of ${target.key} is not known; writes to it are refused while it has masks`));
      continue;
    }
    if (masked.size > 0) {
      const r = targetReferences(walk, target, masked);
      if (r !== undefined) out.push(r);
    }
    out.push(...constraintRefusals(walk, target, index, catalog));
  }
  return dedupe(out);
}

function targetReferences(walk: WalkResult, target: Target, masked: ReadonlySet<string>): Reason | undefined {
  const names = [...masked].filter((c) => walk.allColumns.has(c) || walk.assignedColumns.has(c)).sort();
  const refNames = new Set([target.alias, target.relname]);
  const wholeRow = [...refNames].some((n) => walk.singleNames.has(n) || walk.starQualifiers.has(n));
  const sets = walk.insertAllColumns && (target.kind === 'insert' || target.kind === 'merge');
  if (names.length === 0 && !wholeRow && !walk.returningStar && !sets) return undefined;
  const what: string[] = [];
  if (names.length > 0) what.push(`names the masked column ${names.join(', ')}`);
  if (wholeRow) what.push(`references its whole row (${target.alias}, ${target.alias}.*)`);
  if (walk.returningStar) what.push('returns *');
  if (sets) what.push('sets every column (no column list)');
  return reason(
    'MASKED_COLUMN_WRITE',
    `the write to ${target.key} ${what.join(' and ')}; with masks on ${[...masked].sort().join(', ')} its outcome could depend on raw values`,
    `Name only unmasked columns of ${target.key} (not ${[...masked].sort().join(', ')}), list the columns of an INSERT, and do not use ${target.alias} or ${target.alias}.* as a value.`,
  );
}

/** Constraints of `key` and of every relation that inherits from it (a write without ONLY reaches them). */
function constraintsOf(catalog: CatalogSnapshot, key: string): { rel: CatalogRelation; key: string }[] | undefined {
  const rel = catalog.relations.get(key);
  if (rel === undefined) return undefined;
  const out = [{ rel, key }];
  if (rel.write?.hasChildren === true || rel.kind === 'partitioned_table') {
    for (const [k, r] of catalog.relations) if (r.ancestors?.includes(key)) out.push({ rel: r, key: k });
  }
  return out;
}

const intersects = (a: readonly string[], b: ReadonlySet<string>): boolean => a.some((x) => b.has(x));

/**
 * The constraint oracles of one write target:
 * - INSERT (and MERGE, ON CONFLICT): a unique or exclusion index over a masked column of the
 *   table compares the new row with every existing row's raw value — refused unless the masked
 *   columns of the index get NULL (not assigned, no default) and NULLs are distinct (exclusion
 *   indexes: refused); a foreign key whose REFERENCED columns include a masked column (of the
 *   referenced table) looks the new value up among raw values — refused when any of its
 *   referencing columns is assigned or has a default;
 * - UPDATE (and MERGE, ON CONFLICT DO UPDATE): the same indexes and foreign keys when the write
 *   assigns one of their columns; a CHECK over a masked column when the write assigns one of its
 *   columns or the check is NOT VALID (the new row carries the old raw value);
 * - DELETE, and UPDATE of a referenced key (and MERGE): a foreign key from another table that
 *   references this one, when either side's key columns include a masked column (RESTRICT / NO
 *   ACTION fails, CASCADE acts, depending on raw values).
 * A masked table (or a table a foreign key links to a masked table) without constraint facts in
 * the snapshot is refused.
 */
function constraintRefusals(walk: WalkResult, target: Target, index: MaskIndex, catalog: CatalogSnapshot): Reason[] {
  const out: Reason[] = [];
  const inserts = target.kind === 'insert' || target.kind === 'merge';
  const updates = target.kind === 'update' || target.kind === 'merge' || target.onConflictUpdate;
  const deletes = target.kind === 'delete' || target.kind === 'merge';
  const rels = constraintsOf(catalog, target.key);
  const unknown = (why: string): Reason =>
    reason('MASKED_CONSTRAINT', `the constraints of ${target.key} are not known (${why}); under masks the write is refused`, 'Retry after the catalog snapshot is refreshed, or ask an operator to run the write.');
  if (rels === undefined) return [];
  for (const { rel, key } of rels) {
    const masked = maskedOf(index, catalog, key);
    if (masked === 'no-columns') return [unknown('its column list is not in the snapshot')];
    const info = rel.write;
    if (info === undefined || info.constraints === undefined || info.defaulted === undefined) {
      if (masked.size > 0) return [unknown('no constraint facts in the snapshot')];
      continue;
    }
    const assigned = walk.assignedColumns;
    const all = walk.insertAllColumns;
    const defaulted = new Set(info.defaulted);
    const filled = (c: string): boolean => all || assigned.has(c) || defaulted.has(c);
    for (const con of info.constraints) {
      const why = oracle(con, { masked, assigned, filled, inserts, updates, all, maskedOfRef: (k) => maskedOf(index, catalog, k) });
      if (why !== undefined) out.push(constraintReason(target.key, key, con, why));
    }
    if (deletes || updates) {
      for (const ref of info.referencedBy) {
        const other = maskedOf(index, catalog, ref.table);
        const keyed = ref.columns.some((c) => assigned.has(c)) || all;
        if (!deletes && !keyed) continue;
        const referencing = ref.referencingColumns;
        const otherMasked = other === 'no-columns' || referencing === undefined ? other !== 'no-columns' && other.size > 0 : intersects(referencing, other);
        if (intersects(ref.columns, masked) || otherMasked || other === 'no-columns') {
          out.push(
            reason(
              'MASKED_CONSTRAINT',
              `${ref.table} references ${key} (${ref.constraint}) through a masked key: ${deletes ? 'deleting' : 'changing'} rows of ${key} would succeed or fail depending on raw masked values`,
              `Ask an operator to run this write; an agent cannot ${deletes ? 'delete from' : 'change the key of'} ${key} while the key is masked.`,
            ),
          );
        }
      }
    }
  }
  return out;
}

interface OracleContext {
  masked: ReadonlySet<string>;
  assigned: ReadonlySet<string>;
  filled: (c: string) => boolean;
  inserts: boolean;
  updates: boolean;
  all: boolean;
  maskedOfRef: (key: string) => ReadonlySet<string> | 'no-columns';
}

/** Why one constraint is an oracle for this write (undefined: it is not). */
function oracle(con: CatalogConstraint, x: OracleContext): string | undefined {
  const touchesMasked = intersects(con.columns, x.masked);
  const assignsAny = x.all || con.columns.some((c) => x.assigned.has(c));
  switch (con.kind) {
    case 'unique':
    case 'exclusion': {
      if (!touchesMasked) return undefined;
      if (x.updates && assignsAny) return 'it compares the changed row with the raw values of every other row';
      if (x.inserts) {
        const maskedFilled = con.columns.some((c) => x.masked.has(c) && x.filled(c));
        if (maskedFilled || con.kind === 'exclusion' || con.nullsNotDistinct === true) return 'it compares the new row with the raw values of every row';
      }
      return undefined;
    }
    case 'check':
      if (!touchesMasked || !x.updates) return undefined;
      if (assignsAny || con.validated === false) return 'it evaluates the changed row, raw masked values included';
      return undefined;
    case 'foreign_key': {
      const ref = con.references;
      if (ref === undefined) return undefined;
      const refMasked = x.maskedOfRef(ref.table);
      const keyMasked = refMasked === 'no-columns' || intersects(ref.columns, refMasked);
      if (!keyMasked) return undefined;
      if ((x.updates && assignsAny) || (x.inserts && con.columns.some((c) => x.filled(c)))) return `it looks the value up among the raw values of ${ref.table}`;
      return undefined;
    }
  }
}

function constraintReason(targetKey: string, key: string, con: CatalogConstraint, why: string): Reason {
  const on = key === targetKey ? key : `${key} (inherits from ${targetKey})`;
  return reason(
    'MASKED_CONSTRAINT',
    `the ${con.kind.replace('_', ' ')} constraint ${con.name} on ${on} covers a masked column: ${why}, so whether the write succeeds would reveal them`,
    `Do not set ${con.columns.join(', ')} in this write, or ask an operator to run it.`,
  );
}

function dedupe(list: Reason[]): Reason[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const k = `${r.code}\u0000${r.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
