/**
 * Contracts between the pure guard and the rest of the gateway.
 *
 * The guard never does I/O. What it needs to know about a database (which relations exist,
 * which are views and what they read, which functions exist and who defined them) arrives as a
 * CatalogSnapshot that the db layer loads (src/db/catalog.ts) and caches.
 */
import type { DatabasePolicy } from '../config/schema.js';
import type { Node } from 'libpg-query';
import type { Reason } from './reasons.js';

export type ToolName = 'query' | 'explain' | 'describe' | 'check' | 'status' | 'execute' | 'revert';

/** Top-level classification of one statement (after looking inside EXPLAIN, CTEs, subqueries). */
export type StatementKind =
  | 'read' // SELECT / TABLE / VALUES / WITH … of reads only
  | 'explain' // EXPLAIN of an inner statement (see ExplainInfo)
  | 'write' // INSERT / UPDATE / DELETE / MERGE, data-modifying CTE, SELECT INTO, CREATE TABLE AS
  | 'ddl'
  | 'dcl'
  | 'transaction'
  | 'session'
  | 'utility'
  | 'unknown';

export type WriteKind = 'insert' | 'update' | 'delete' | 'merge' | 'select_into' | 'create_table_as';

export interface ExplainInfo {
  analyze: boolean;
  /** Kind of the explained statement. */
  inner: StatementKind;
}

/** A relation name resolved exactly as Postgres would resolve it under the pinned search_path. */
export interface QualifiedName {
  schema: string;
  name: string;
}

/** One column of a relation (CatalogRelation.columns). */
export interface CatalogColumn {
  name: string;
  type: string;
  /** pg_type OID of the column's type (absent in fixtures that do not need types). */
  typeOid?: number;
}

export type RelationKind = 'table' | 'partitioned_table' | 'view' | 'materialized_view' | 'foreign_table' | 'sequence' | 'other';

export interface CatalogRelation {
  schema: string;
  name: string;
  kind: RelationKind;
  /**
   * Tables, views, materialized views and foreign tables outside the system schemas: the columns
   * in attnum order (dropped columns excluded), the type as format_type prints it under
   * search_path = pg_catalog (every non-built-in type schema-qualified). Used by masking.
   */
  columns?: CatalogColumn[];
  /** Inheritance parents (partitioned tables included), transitively, as schema.name: masks of a parent apply to its children. */
  ancestors?: string[];
  /** For views and materialized views: every base relation they read, transitively (schema.name). */
  dependsOn?: string[];
  /**
   * For views and materialized views: every function their definitions call, transitively
   * through nested views (schema.name). A view calling a SECURITY DEFINER function is a side door.
   */
  dependsOnFunctions?: string[];
  /** Estimated rows (pg_class.reltuples), for describe; -1 when unknown. */
  estimatedRows?: number;
  /** Write facts (issue #5), loaded for tables; absent in fixtures that do not need them. */
  write?: CatalogWriteInfo;
}

/** What the write rules and the planner need to know about a table (src/guard/write). */
export interface CatalogWriteInfo {
  /** Primary key columns in key order; empty: no primary key (writes are not reversible). */
  primaryKey: string[];
  /** Columns declared NOT NULL (for `col IS NOT NULL` tautologies). */
  notNull: string[];
  /** Generated columns (stored or virtual): cannot be written back by an undo. */
  generated: string[];
  /** Identity columns GENERATED ALWAYS: an undo re-insert needs OVERRIDING SYSTEM VALUE. */
  identityAlways: string[];
  /** Names of user (non-internal) triggers on the table, any event. */
  userTriggers: string[];
  /** Names of rewrite rules on the table (CREATE RULE; not a view's _RETURN). */
  rules: string[];
  /** Foreign keys in other tables (or this one) that reference this table and act on it. */
  referencedBy: CatalogReferencingKey[];
  /** The table has inheritance children (relhassubclass): writes without ONLY reach them too. */
  hasChildren: boolean;
  /**
   * Unique, exclusion, check and foreign-key constraints of THIS table (unique indexes without a
   * constraint included), with every column of this table each one reads. Optional: absent in
   * fixtures that do not need them; the masker treats a masked table without them as unknown.
   */
  constraints?: CatalogConstraint[];
  /** Columns with a default, identity or generation expression (an INSERT fills them without naming them). */
  defaulted?: string[];
  /** User triggers with what fires them (absent in fixtures that predate them: treated as unknown). */
  triggers?: CatalogTriggerFact[];
  /** Rewrite rules with their event. */
  ruleFacts?: CatalogRuleFact[];
  /** Views: MD5 of pg_get_viewdef (a changed definition changes the write's dependencies). */
  definition?: string;
}

export interface CatalogTriggerFact {
  name: string;
  events: ('insert' | 'update' | 'delete' | 'truncate')[];
  /** false only for DISABLE TRIGGER (tgenabled 'D'). */
  enabled: boolean;
  /** INSTEAD OF (on views). */
  instead: boolean;
  /** The trigger function, schema.name. */
  function: string;
}

export interface CatalogRuleFact {
  name: string;
  event: 'select' | 'insert' | 'update' | 'delete';
  enabled: boolean;
}

export interface CatalogConstraint {
  name: string;
  kind: 'unique' | 'exclusion' | 'check' | 'foreign_key';
  /** Columns of this table it reads (key columns, and columns of index expressions and predicates). */
  columns: string[];
  /** unique: NULLS NOT DISTINCT (a NULL conflicts with a NULL). */
  nullsNotDistinct?: boolean;
  /** check and foreign_key: false for NOT VALID (existing rows were never checked). */
  validated?: boolean;
  /** foreign_key: the referenced table (schema.name) and its columns. */
  references?: { table: string; columns: string[] };
}

export type ForeignKeyAction = 'no action' | 'restrict' | 'cascade' | 'set null' | 'set default';

export interface CatalogReferencingKey {
  /** The referencing table, schema.name. */
  table: string;
  constraint: string;
  /** Columns of THIS table the key references. */
  columns: string[];
  /** The referencing table's key columns (optional: fixtures may omit them; then they count as unknown). */
  referencingColumns?: string[];
  onDelete: ForeignKeyAction;
  onUpdate: ForeignKeyAction;
}

export interface CatalogFunction {
  schema: string;
  name: string;
  securityDefiner: boolean;
  volatility: 'immutable' | 'stable' | 'volatile';
  /** 'internal' | 'c' | 'sql' | 'plpgsql' | … */
  language: string;
  /** Declared argument type OIDs (proargtypes), for type-based candidate resolution (resolve.ts). */
  args?: readonly number[];
  /** Result type OID (prorettype). */
  ret?: number;
  /** VARIADIC: the last argument takes any number of values. */
  variadic?: boolean;
  /** Number of trailing arguments with defaults. */
  defaults?: number;
}

/** One operator (pg_operator), for type-based candidate resolution (resolve.ts). */
export interface CatalogOperator {
  schema: string;
  name: string;
  /** Left operand type OID; 0 for a prefix operator. */
  left: number;
  right: number;
  result: number;
}

/** One type (pg_type), for type-based candidate resolution (resolve.ts). */
export interface CatalogType {
  oid: number;
  schema: string;
  name: string;
  /** typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange. */
  kind: string;
  /** typcategory (A array, S string, U user …) and typispreferred. */
  category: string;
  preferred: boolean;
  /** Domain: the base type; array: the element type; range: the subtype; multirange: the range (0: none). */
  base: number;
  /** The array type of this type (0: none). */
  array: number;
  /** Composite: the attribute types. */
  fields?: readonly number[];
}

/** Types, casts and operators of a database: what resolve.ts needs to pick candidates like PostgreSQL. */
export interface CatalogTypeInfo {
  types: ReadonlyMap<number, CatalogType>;
  /** type name → the types of that name in every schema */
  typesByName: ReadonlyMap<string, readonly CatalogType[]>;
  /** source type → target types of implicit casts (pg_cast castcontext 'i') */
  implicitCasts: ReadonlyMap<number, readonly number[]>;
  /** operator name → the operators of that name in every schema (pg_catalog included) */
  operators: ReadonlyMap<string, readonly CatalogOperator[]>;
}

/**
 * What the guard knows about one database. Keys are `schema.name` with names as stored in the
 * catalog (case exact). The snapshot always includes pg_catalog and information_schema.
 */
export interface CatalogSnapshot {
  /** schema.name → relation */
  relations: ReadonlyMap<string, CatalogRelation>;
  /** function name (unqualified, as stored) → overloads in every schema */
  functions: ReadonlyMap<string, readonly CatalogFunction[]>;
  /** Schemas that exist. */
  schemas: ReadonlySet<string>;
  /** Operator names defined outside pg_catalog (extensions, user code): not trusted by default. */
  userOperators: ReadonlySet<string>;
  /**
   * Types, implicit casts and operators (src/db/catalog.ts loads them). With them, a candidate
   * outside pg_catalog counts only where PostgreSQL could pick it for the argument types
   * (resolve.ts); without them (test fixtures), every candidate on the path counts.
   */
  typeInfo?: CatalogTypeInfo;
  /** Monotonic version; part of the decision cache key. */
  version: number;
}

/** Everything the guard needs to judge one statement. */
export interface GuardRequest {
  sql: string;
  tool: ToolName;
  principal: string;
  database: string;
  /** The principal's policy for this database (undefined: the policy does not reach it). */
  policy: DatabasePolicy | undefined;
  /** Whether the policy is in observe mode (decisions audited, not enforced). */
  observe: boolean;
  /** Name of the principal's policy, for messages ("denied by policy 'analyst'"). */
  policyName: string;
  /** The database's pinned search_path. */
  searchPath: readonly string[];
  catalog: CatalogSnapshot;
  /** Part of the cache key: changes whenever the configuration is reloaded. */
  policyVersion: number;
  /**
   * Whether `$n` parameters are bound by the caller (predefined tools). Default false: a `$n` in
   * agent SQL is UNSUPPORTED_PARAMETERS.
   */
  parameters?: boolean;
  /** explain tool only: whether the gateway will run EXPLAIN ANALYZE (executes the statement). */
  analyze?: boolean;
  /**
   * Gateway-owned schemas (config journal.schema): denied to every agent whatever the policy
   * says (DENIED_SCHEMA), views reading them included. Default ['pgwarden'].
   */
  reservedSchemas?: readonly string[];
}

/** The result of parsing one text (Guard.parse). */
export interface ParsedStatement {
  /** True when the text parsed to at least one statement and passed the input checks. */
  ok: boolean;
  /** The parsed statements (RawStmt.stmt nodes), empty when not ok. Do not mutate. */
  stmts: Node[];
  /** Input reasons (PARSE_ERROR, EMPTY_STATEMENT, STATEMENT_TOO_LARGE…) when not ok. */
  reasons: Reason[];
  /** 1-based character position of a parse error, when known. */
  position?: number;
  fingerprint: string;
  normalized: string;
}

/** A statement's audit identity; the guard computes it lazily (see LazyStatementIdentity). */
export interface StatementIdentity {
  /** libpg-query fingerprint, or `unparsed:<digest>` for text that did not parse. */
  readonly fingerprint: string;
  /** Normalized text (constants as $n), or a digest placeholder; never carries a literal. */
  readonly normalized: string;
}

export interface Decision {
  decision: 'allow' | 'block' | 'hold';
  kind: StatementKind;
  writeKind?: WriteKind;
  explain?: ExplainInfo;
  /** Every relation read or written, resolved, as schema.name (sorted, unique). */
  relations: string[];
  /** Every function called, as schema.name where resolvable, else the name as written (sorted, unique). */
  functions: string[];
  /** All reasons (empty when allowed). */
  reasons: Reason[];
  /** True when the policy is in observe mode and the decision was not enforced. */
  observed: boolean;
  /**
   * libpg-query fingerprint (groups statements that differ only in constants). On the guard's
   * decisions a getter: computed on first read (≈ 15 µs short, ≈ 150 µs for a 40-line query)
   * and memoized in `identity`; spreading or serializing the decision reads it.
   */
  readonly fingerprint: string;
  /** The statement with literals replaced by $n placeholders (safe to log). Lazy like `fingerprint`. */
  readonly normalized: string;
  /**
   * The guard's decisions: the (non-enumerable) object behind `fingerprint` and `normalized`.
   * Hand it to a consumer that reads them later (the audit writer), so that they are computed
   * there, once, and not on the response path. Absent on decisions built elsewhere (and on spread
   * copies): read `fingerprint`/`normalized` then.
   */
  readonly identity?: StatementIdentity;
  /** How long the decision took (µs) the first time it was computed. */
  elapsedUs: number;
  /** Whether this decision came from the cache. */
  cached: boolean;
  /** Number of statements in the text (1 for anything that can be allowed). */
  statementCount: number;
  /**
   * The parsed statement (the RawStmt.stmt node of the first statement), for later stages
   * (masking rewrite, blast radius) so they need not re-parse. Shared with the cache: never mutate.
   */
  stmt?: Node;
  /** 1-based character position of a parse error, when known. */
  position?: number;
  /**
   * True when a relation or function was not found in the catalog snapshot: the caller should
   * refresh the snapshot (its version changes) and decide again before answering.
   */
  needsCatalogRefresh: boolean;
  /** check tool: the tool whose verdict the decision reports ('query' for reads, 'execute' for writes). */
  judgedAs?: ToolName;
  /**
   * An INTERNAL_ERROR decision's cause (an Error), for the operator log: non-enumerable, never
   * cached, never sent to an agent. The gateway logs it once with the request id.
   */
  readonly cause?: unknown;
}
