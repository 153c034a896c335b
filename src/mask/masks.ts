/**
 * Mask definitions: which columns of which relation a policy masks, the SQL expression of each
 * mask, and a reference implementation in TypeScript (tests compare the two; describe can use it).
 *
 * Guarantees:
 * - a relation's masks are its own `schema.table.column` entries plus those of every inheritance
 *   ancestor (partitions and children of a masked table are masked the same way) and of every
 *   masked descendant (a scan of a parent returns its children's rows: the parent is over-masked);
 * - every mask expression reads the raw column exactly once, inside the masked projection, and
 *   calls only schema-qualified pg_catalog functions (no operator, whose resolution follows the
 *   search_path); NULL stays NULL for every mask (NULL-ness is not hidden);
 * - output types: `null` keeps the column type; the other masks produce text, cast back to the
 *   column type when that is a built-in string type (text, varchar(n), char(n)), else text;
 * - hash: keyed HMAC-SHA-256 of the value's text form (key.ts), hex, first `length` characters.
 *   The padded key blocks are bind parameters (never statement text, which failing statements
 *   write to the server log), each in a scalar sub-select (an InitPlan), which EXPLAIN shows only
 *   with VERBOSE.
 * Does not: decide where masks apply in a statement (rewrite.ts).
 */
import type { DatabasePolicy, MaskSpec } from '../config/schema.js';
import type { CatalogColumn, CatalogRelation, CatalogSnapshot } from '../guard/types.js';
import { hmacHex, type MaskKey } from './key.js';

/** One masked column of one relation. */
export interface ColumnMask {
  column: string;
  type: string;
  spec: MaskSpec;
}

/** What a policy masks in one relation. */
export interface RelationMasks {
  /** schema.name of the relation read. */
  key: string;
  schema: string;
  name: string;
  /** Every column, in order (the projection lists them all). */
  columns: readonly CatalogColumn[];
  /** Masked columns by name. */
  masks: ReadonlyMap<string, ColumnMask>;
}

/** policy.masks indexed by `schema.table` → column → spec. */
export type MaskIndex = ReadonlyMap<string, ReadonlyMap<string, MaskSpec>>;

const indexCache = new WeakMap<object, MaskIndex>();

/** Split a `schema.table.column` key (the schema validates the shape). */
export function splitMaskKey(key: string): { schema: string; table: string; column: string } | undefined {
  const parts = key.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  return { schema: parts[0] as string, table: parts[1] as string, column: parts[2] as string };
}

export function maskIndex(policy: Pick<DatabasePolicy, 'masks'>): MaskIndex {
  const masks = policy.masks;
  const hit = indexCache.get(masks);
  if (hit !== undefined) return hit;
  const index = new Map<string, Map<string, MaskSpec>>();
  for (const [key, spec] of Object.entries(masks)) {
    const k = splitMaskKey(key);
    if (k === undefined) continue;
    const rel = `${k.schema}.${k.table}`;
    let cols = index.get(rel);
    if (cols === undefined) index.set(rel, (cols = new Map()));
    cols.set(k.column, spec);
  }
  indexCache.set(masks, index);
  return index;
}

export function policyHasMasks(policy: Pick<DatabasePolicy, 'masks'> | undefined): boolean {
  return policy !== undefined && Object.keys(policy.masks).length > 0;
}

export function policyHasHashMasks(policy: Pick<DatabasePolicy, 'masks'> | undefined): boolean {
  return policy !== undefined && Object.values(policy.masks).some((m) => m.mask === 'hash');
}

/** Masked relations that inherit from `key` (a scan of `key` without ONLY returns their rows too). */
function maskedDescendants(index: MaskIndex, catalog: CatalogSnapshot, key: string): string[] {
  const out: string[] = [];
  for (const masked of index.keys()) {
    if (masked !== key && catalog.relations.get(masked)?.ancestors?.includes(key)) out.push(masked);
  }
  return out;
}

/**
 * The mask specs that apply to a relation by column name: its own entries win over its
 * ancestors'; masks of its descendants apply too (over-masking the parent's own rows), because a
 * scan of the parent returns the children's rows.
 */
export function specsFor(index: MaskIndex, key: string, rel: CatalogRelation | undefined, catalog?: CatalogSnapshot): Map<string, MaskSpec> | undefined {
  let out: Map<string, MaskSpec> | undefined;
  const sources = catalog !== undefined ? maskedDescendants(index, catalog, key) : [];
  sources.push(...[...(rel?.ancestors ?? [])].reverse());
  sources.push(key);
  for (const src of sources) {
    const cols = index.get(src);
    if (cols === undefined) continue;
    out ??= new Map();
    for (const [c, s] of cols) out.set(c, s);
  }
  return out;
}

/** Whether the relation `key` has any mask under this policy (itself or through an ancestor). */
export function isMaskedRelation(index: MaskIndex, catalog: CatalogSnapshot, key: string): boolean {
  if (index.size === 0) return false;
  if (index.has(key)) return true;
  for (const a of catalog.relations.get(key)?.ancestors ?? []) if (index.has(a)) return true;
  return maskedDescendants(index, catalog, key).length > 0;
}

/**
 * The masks of relation `key`, or undefined when it has none; 'no-columns' when it has masks but
 * the snapshot does not list its columns (the caller fails closed).
 */
export function relationMasks(index: MaskIndex, catalog: CatalogSnapshot, key: string): RelationMasks | 'no-columns' | undefined {
  if (!isMaskedRelation(index, catalog, key)) return undefined;
  const rel = catalog.relations.get(key);
  const specs = specsFor(index, key, rel, catalog);
  if (specs === undefined) return undefined;
  const columns = rel?.columns;
  if (rel === undefined || columns === undefined || columns.length === 0) return 'no-columns';
  const masks = new Map<string, ColumnMask>();
  for (const col of columns) {
    const spec = specs.get(col.name);
    if (spec !== undefined) masks.set(col.name, { column: col.name, type: col.type, spec });
  }
  if (masks.size === 0) return undefined;
  return { key, schema: rel.schema, name: rel.name, columns, masks };
}

// ------------------------------------------------------------------ SQL text

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A standard-conforming string literal (the gateway never turns standard_conforming_strings off). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Built-in string types a text mask can be cast back to: text, varchar(n), char(n). */
export function stringTypeCast(type: string): string | undefined {
  if (type === 'text') return 'text';
  const m = /^(character varying|character)(\(\d+\))?$/.exec(type);
  if (m === null) return undefined;
  return (m[1] === 'character varying' ? 'varchar' : 'bpchar') + (m[2] ?? '');
}

const PARTIAL_FILL = '***';

/**
 * Where a hash mask's SQL finds the padded key blocks: SQL expressions of type bytea. The gateway
 * uses bind parameters (`paramKeyRefs`), so the key never travels in statement text (which a
 * failing statement writes to the server log); `literalKeyRefs` spells them as literals (tests and
 * the reference comparison only).
 */
export interface KeyRefs {
  readonly ipad: string;
  readonly opad: string;
}

/** `$ipad` / `$opad` bind parameters, each in a scalar sub-select (an InitPlan: EXPLAIN without VERBOSE shows no value). */
export function paramKeyRefs(ipadParam: number, opadParam: number): KeyRefs {
  return { ipad: `(SELECT CAST($${ipadParam} AS bytea))`, opad: `(SELECT CAST($${opadParam} AS bytea))` };
}

/** The key blocks as literals (tests only: the gateway never puts the key in statement text). */
export function literalKeyRefs(key: MaskKey): KeyRefs {
  return { ipad: `(SELECT CAST('\\x${key.ipadHex}' AS bytea))`, opad: `(SELECT CAST('\\x${key.opadHex}' AS bytea))` };
}

/** The bind values for paramKeyRefs (bytea in text form), in order: ipad, opad. */
export function keyParamValues(key: MaskKey): [string, string] {
  return [`\\x${key.ipadHex}`, `\\x${key.opadHex}`];
}

/** The SQL expression that replaces column `col` (already quoted) under `spec`. */
export function maskExpression(mask: ColumnMask, key: MaskKey | KeyRefs | undefined): string {
  const v = quoteIdent(mask.column);
  const t = `CAST(${v} AS text)`;
  const spec = mask.spec;
  let expr: string;
  switch (spec.mask) {
    case 'null':
      return `CAST(NULL AS ${mask.type})`;
    case 'redact':
      expr = `CASE WHEN ${v} IS NULL THEN NULL ELSE ${quoteLiteral(spec.value)} END`;
      break;
    case 'partial': {
      const keep = spec.keep_first + spec.keep_last;
      expr =
        `CASE WHEN ${v} IS NULL THEN NULL WHEN pg_catalog.int4le(pg_catalog.char_length(${t}), ${keep}) THEN ${quoteLiteral(PARTIAL_FILL)} ` +
        `ELSE pg_catalog.concat(pg_catalog.left(${t}, ${spec.keep_first}), ${quoteLiteral(PARTIAL_FILL)}, pg_catalog.right(${t}, ${spec.keep_last})) END`;
      break;
    }
    case 'email':
      expr =
        `CASE WHEN ${v} IS NULL THEN NULL WHEN pg_catalog.int4gt(pg_catalog.strpos(${t}, '@'), 0) ` +
        `THEN pg_catalog.concat('***@', pg_catalog.split_part(${t}, '@', -1)) ELSE '***' END`;
      break;
    case 'hash': {
      if (key === undefined) throw new Error('hash mask without a key');
      const refs = 'ipadHex' in key ? literalKeyRefs(key) : key;
      const ipad = refs.ipad;
      const opad = refs.opad;
      const inner = `pg_catalog.sha256(pg_catalog.byteacat(${ipad}, pg_catalog.convert_to(${t}, 'UTF8')))`;
      expr = `pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.byteacat(${opad}, ${inner})), 'hex'), ${spec.length})`;
      break;
    }
  }
  const cast = stringTypeCast(mask.type);
  return cast !== undefined && cast !== 'text' ? `CAST(${expr} AS ${cast})` : expr;
}

/**
 * The masked projection of a relation: every column in order, masked ones replaced, then the
 * system columns in `system` (ctid, tableoid …) under their own names, when the statement reads them.
 */
export function projectionSql(rm: RelationMasks, inh: boolean, key: MaskKey | KeyRefs | undefined, system: readonly string[] = []): string {
  const cols = rm.columns.map((c) => {
    const m = rm.masks.get(c.name);
    return m === undefined ? quoteIdent(c.name) : `${maskExpression(m, key)} AS ${quoteIdent(c.name)}`;
  });
  for (const c of system) cols.push(quoteIdent(c));
  return `SELECT ${cols.join(', ')} FROM ${inh ? '' : 'ONLY '}${quoteIdent(rm.schema)}.${quoteIdent(rm.name)}`;
}

// ------------------------------------------------------------------ reference implementation

/**
 * The masked value in TypeScript, for a value already in its PostgreSQL text form (what the SQL
 * mask sees after `CAST(col AS text)`). Returns null for null; the `null` mask returns null.
 */
export function maskText(spec: MaskSpec, value: string | null, key: MaskKey | undefined): string | null {
  if (value === null) return null;
  const chars = [...value];
  switch (spec.mask) {
    case 'null':
      return null;
    case 'redact':
      return spec.value;
    case 'partial':
      if (chars.length <= spec.keep_first + spec.keep_last) return PARTIAL_FILL;
      return chars.slice(0, spec.keep_first).join('') + PARTIAL_FILL + (spec.keep_last > 0 ? chars.slice(-spec.keep_last).join('') : '');
    case 'email': {
      const at = value.lastIndexOf('@');
      return at === -1 ? '***' : `***@${value.slice(at + 1)}`;
    }
    case 'hash':
      if (key === undefined) throw new Error('hash mask without a key');
      return hmacHex(key, value, spec.length);
  }
}
