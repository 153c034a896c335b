/**
 * The contract between the pure write planner (src/guard/write/, no I/O) and the write executor
 * (src/db/writes/, I/O): everything the executor needs to measure, run, journal and undo one
 * write, as SQL texts derived from the parse tree (deparsed, never string-spliced).
 *
 * Guarantees (of a plan the planner returns): every SQL text is a single statement derived from
 * the agent's statement by AST transformation; `countSql` and `captureSql` have no side effects
 * other than the row locks FOR UPDATE takes; `executeSql` is the agent's statement with a
 * RETURNING clause that yields the after-images (the deleted rows for DELETE).
 */
import type { WriteKind } from './types.js';

export interface WriteTarget {
  schema: string;
  name: string;
  /** Alias used in the statement (for FOR UPDATE OF / RETURNING qualification), if any. */
  alias?: string;
  /** Primary key columns (catalog order). Empty: not reversible. */
  primaryKey: string[];
  /** Generated columns: an undo must not write them back. */
  generatedColumns?: string[];
  /** Identity columns GENERATED ALWAYS: an undo re-insert needs OVERRIDING SYSTEM VALUE. */
  identityAlwaysColumns?: string[];
}

export interface WritePlan {
  kind: Exclude<WriteKind, 'select_into' | 'create_table_as'>;
  target: WriteTarget;
  /**
   * Blast radius: `SELECT count(*) …` over the same FROM/USING/WHERE (UPDATE/DELETE), or over
   * the SELECT of an INSERT … SELECT. Run in a read-only transaction with a time box.
   * Undefined when the rows are known from the tree (`rowsFromAst`) or cannot be counted safely.
   */
  countSql?: string;
  /** INSERT … VALUES: the number of rows, counted from the tree. */
  rowsFromAst?: number;
  /** Why the radius cannot be counted safely (then the policy's `uncountable` applies). */
  uncountableReason?: string;
  /** The count is an upper bound (INSERT … ON CONFLICT DO NOTHING may insert fewer rows). */
  countIsUpperBound?: boolean;
  /** The target table's estimated size (pg_class.reltuples), for the share the write changes. */
  tableEstimatedRows?: number;
  /**
   * UPDATE/DELETE: `SELECT t.* FROM … WHERE … FOR UPDATE OF t` — the before-images, locked in
   * the write's transaction so nothing changes between capture and write.
   */
  captureSql?: string;
  /** The statement to run, with `RETURNING t.*` (after-images; the removed rows for DELETE). */
  executeSql: string;
  /** Whether the effects can be recorded for undo; when false, `irreversibleReasons` says why. */
  reversible: boolean;
  irreversibleReasons: string[];
  /**
   * The definitions the write was judged on (src/guard/write/reach.ts): the relations (target,
   * tables behind a view, cascade targets) and their write facts as one canonical string. The
   * executor locks the target, re-reads them inside the write's transaction and refuses
   * (CATALOG_CHANGED) when they differ.
   */
  definitions?: { relations: string[]; digest: string };
}
