/**
 * Columns of object-identifier types (regclass, regproc, regrole …, aclitem, arrays and domains
 * over them) in the relations a statement reads (issue #9, `catalogs: false`).
 *
 * A stored regclass value prints as a relation name looked up in the system catalogs when it is
 * output (or cast to text): `SELECT rel FROM app.audit` lists names of relations the policy hides,
 * and whether they exist. Under `catalogs: false` a statement that may output such a column — it
 * names the column, uses `*`, or refers to the row as a whole — is SYSTEM_CATALOG.
 *
 * Guarantees: over-approximation by name (a column name is matched wherever it appears in the
 * statement, whatever it is qualified with); types are recognised from the snapshot's type
 * information (domains and arrays followed to the pg_catalog type) or, without it, from the
 * formatted type name.
 * Does not: tell `rel::oid` (harmless) from `rel` (prints a name): both are refused.
 */
import type { CatalogRelation, CatalogSnapshot } from './types.js';
import { REG_TYPES } from './walk.js';

const REG_NAME = new RegExp(`^(pg_catalog\\.)?(${[...REG_TYPES].join('|')})(\\[\\])*$`);

/**
 * Every REG_TYPES name contains one of these: a type name containing none of them cannot match
 * REG_NAME, so the regular expression is skipped for it (most columns; checked at load, so a
 * reg type added later without a hint fails at start instead of going unseen).
 */
const REG_HINTS = ['reg', 'aclitem'] as const;
for (const t of REG_TYPES) if (!REG_HINTS.some((h) => t.includes(h))) throw new Error(`regcolumns: REG_HINTS misses ${t}`);

/** The reg type behind a column's type, or undefined. */
export function regTypeOfColumn(col: { type: string; typeOid?: number }, catalog: CatalogSnapshot): string | undefined {
  const info = catalog.typeInfo;
  if (info !== undefined && col.typeOid !== undefined) {
    let t = info.types.get(col.typeOid);
    for (let i = 0; t !== undefined && i < 16; i++) {
      if (t.schema === 'pg_catalog' && REG_TYPES.has(t.name)) return t.name;
      if (t.base === 0 || (t.kind !== 'd' && t.category !== 'A')) return undefined;
      t = info.types.get(t.base);
    }
    if (t !== undefined) return undefined;
  }
  if (!col.type.includes(REG_HINTS[0]) && !col.type.includes(REG_HINTS[1])) return undefined;
  const m = REG_NAME.exec(col.type.trim());
  return m?.[2];
}

interface ColumnUse {
  /** Last field of every column reference. */
  names: Set<string>;
  /** Unqualified references (`x`): a column, or a whole row named by its alias (`SELECT t FROM t`). */
  singles: Set<string>;
  star: boolean;
}

/** Column names the statement refers to (last field of every ColumnRef) and whether `*` occurs. Bounded. */
export function columnUse(stmts: readonly unknown[]): ColumnUse {
  const out: ColumnUse = { names: new Set(), singles: new Set(), star: false };
  const stack: unknown[] = [...stmts];
  let n = 0;
  while (stack.length > 0 && n++ < 200_000) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    const ref = o.ColumnRef as { fields?: unknown[] } | undefined;
    if (ref !== undefined && Array.isArray(ref.fields)) {
      const last = ref.fields[ref.fields.length - 1] as { String?: { sval?: string }; A_Star?: unknown } | undefined;
      const s = last?.String?.sval;
      if (typeof s === 'string') {
        out.names.add(s);
        if (ref.fields.length === 1) out.singles.add(s);
      }
      if (last?.A_Star !== undefined) out.star = true;
    }
    for (const k in o) {
      const x = o[k];
      if (x !== null && typeof x === 'object') stack.push(x);
    }
  }
  if (n > 200_000) out.star = true;
  return out;
}

/** Whether `rel` has a column of a reg type at all (exposedRegColumns can only report those). */
export function hasRegColumn(rel: CatalogRelation, catalog: CatalogSnapshot): boolean {
  return (rel.columns ?? []).some((c) => regTypeOfColumn(c, catalog) !== undefined);
}

/**
 * The reg-typed columns of `rel` the statement may output: named anywhere, or every one of them
 * when the statement uses `*` or names the relation (or an alias) as a whole row.
 */
export function exposedRegColumns(rel: CatalogRelation, use: ColumnUse, catalog: CatalogSnapshot): { column: string; type: string }[] {
  const out: { column: string; type: string }[] = [];
  for (const c of rel.columns ?? []) {
    const t = regTypeOfColumn(c, catalog);
    if (t === undefined) continue;
    // a whole-row reference (`t`, `to_jsonb(t)`) is a ColumnRef whose only field is the alias: it
    // cannot be told from another relation's column by name, so any unqualified name that is no
    // column of `rel` counts
    const wholeRow = [...use.singles].some((x) => !(rel.columns ?? []).some((col) => col.name === x));
    if (use.star || use.names.has(c.name) || wholeRow) out.push({ column: c.name, type: t });
  }
  return out;
}
