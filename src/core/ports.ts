/**
 * Ports: what the gateway core needs from the database layer, the guard and the audit sink.
 * The core depends on these interfaces only; src/app/runtime.ts binds the real implementations
 * (db never imports core: the request/result types both sides use live in src/shared/).
 */
import type { DatabaseConfig } from '../config/schema.js';
import type { CatalogSnapshot, Decision, GuardRequest } from '../guard/types.js';
import type { WritePlan } from '../guard/write-plan.js';
import type { MaskPlan, MaskRequest } from '../mask/index.js';
import type { ReadOptions as ReadRequest, ReadResult } from '../shared/reads.js';
import type {
  Approval,
  BlastRadius,
  Confirmation,
  ConfirmationRedeem,
  ExecuteWriteOptions,
  ExecuteWriteResult,
  MeasureOptions,
  NewApproval,
  NewConfirmation,
  RevertOptions,
  RevertResult,
} from '../shared/writes.js';

/** The hardened read path's request and result (src/shared/reads.ts; src/db/pool.ts implements the read). */
export type { ColumnInfo, ReadOptions as ReadRequest, ReadResult } from '../shared/reads.js';
/** The guarded-write types (src/shared/writes.ts; src/db/writes implements them). */
export {
  UndoConflictError,
  type Approval,
  type ApprovalBlastRadius,
  type ApprovalFilter,
  type ApprovalHooks,
  type ApprovalStatus,
  type ApproveOutcome,
  type BlastRadius,
  type Confirmation,
  type ConfirmationRedeem,
  type ExecuteWriteOptions,
  type ExecuteWriteResult,
  type MeasureOptions,
  type NewApproval,
  type NewConfirmation,
  type RevertOptions,
  type RevertResult,
  type RevertWrite,
  type WriteSessionOptions,
} from '../shared/writes.js';

export interface RelationSummary {
  schema: string;
  name: string;
  kind: string;
  estimatedRows: number;
  comment?: string | null;
}

export interface ColumnDetail {
  name: string;
  type: string;
  nullable: boolean;
  default?: string | null;
  comment?: string | null;
}

export interface RelationDetail {
  schema: string;
  name: string;
  kind: string;
  estimatedRows: number;
  comment?: string | null;
  columns: ColumnDetail[];
  primaryKey: string[];
  foreignKeys: { name: string; columns: string[]; references: { schema: string; table: string; columns: string[] } }[];
  indexes: { name: string; definition: string }[];
}

export interface DatabasePort {
  readonly name: string;
  readonly config: DatabaseConfig;
  runRead(req: ReadRequest): Promise<ReadResult>;
  ready(): Promise<boolean>;
  catalog(): Promise<CatalogSnapshot>;
  /**
   * Reload the catalog now (single-flight); used when the guard meets an unknown relation.
   * `force`: ignore the minimum refresh interval (approvals and reverts judge fresh definitions).
   */
  refreshCatalog(options?: { force?: boolean }): Promise<CatalogSnapshot>;
  listRelations(schemas: readonly string[]): Promise<RelationSummary[]>;
  describeRelation(schema: string, name: string): Promise<RelationDetail | undefined>;
  /** Cancel every in-flight statement (shutdown). */
  cancelAll(): Promise<void>;
  end(): Promise<void>;
}

/**
 * The write side of one writable database (src/db/writes/writer.ts implements it). Every write
 * the core runs goes through here, after the guard allowed it and src/core/writes.ts planned it.
 */
export interface DatabaseWriterPort {
  readonly name: string;
  /** The blast radius, measured without side effects (read-only count or execute-and-roll-back). */
  measure(plan: WritePlan, options: MeasureOptions): Promise<BlastRadius>;
  /** Execute with before-images and undo journal in one transaction; rolls back past allowedRows. */
  execute(plan: WritePlan, options: ExecuteWriteOptions): Promise<ExecuteWriteResult>;
  /** Undo a journaled write, conflict-checked (throws UndoConflictError with the changed keys). */
  revert(undoId: string, options: RevertOptions): Promise<RevertResult>;
  /** Issue a single-use in-client confirmation instead of an operator hold. */
  createConfirmation(input: NewConfirmation): Promise<Confirmation>;
  /** Consume a confirmation (at most once); false when it is unknown, expired, used or not this caller's. */
  consumeConfirmation(input: ConfirmationRedeem): Promise<boolean>;
}

/**
 * Guarded writes (src/db/writes WriteState implements it): present when some policy is
 * read-write. State lives in PostgreSQL (journal, approvals, confirmations), so replicas agree.
 */
export interface WritesPort {
  /** The write side of `database`; undefined when no policy may write to it. */
  writer(database: string): DatabaseWriterPort | undefined;
  /** The durable approval queue, as far as the core uses it (operators approve through ApprovalHooks). */
  readonly approvals: {
    /** Hold a write for an operator (refused past the principal's pending limits). */
    create(database: string, approval: NewApproval): Promise<Approval>;
    /** The principal's pending holds (status). */
    pendingFor(principal: string): Promise<Approval[]>;
  };
  /** Stop maintenance and close the write pools (shutdown). */
  end(): Promise<void>;
}

export interface GuardPort {
  decide(req: GuardRequest): Decision;
  /** The cached decision, if any (src/guard Guard; lets a judging pool keep the warm path inline). */
  lookup?(req: GuardRequest): Decision | undefined;
  /** Cache a decision made elsewhere (a judging worker) under `req`. */
  remember?(req: GuardRequest, decision: Decision): Decision | undefined;
}

/**
 * Judges statements off the event loop (src/judge/pool.ts): answers from `guard`'s cache or
 * inline for short text, on a worker thread otherwise. Never rejects.
 */
export interface JudgingPort {
  decide(req: GuardRequest, guard: GuardPort, masker?: { remember(req: MaskRequest, plan: MaskPlan): void }): Promise<Decision>;
  close(): Promise<void>;
}

/** Audit decisions (src/audit/types.ts owns the list). */
export type { AuditDecision } from '../audit/types.js';
import type { AuditDecision } from '../audit/types.js';

export interface AuditEventInput {
  request_id?: string;
  principal?: string;
  client?: string;
  tool?: string;
  database?: string;
  decision: AuditDecision;
  reasons?: string[];
  kind?: string;
  relations?: string[];
  fingerprint?: string;
  normalized_sql?: string;
  /** Read by the audit writer when fingerprint/normalized_sql are absent (the guard decision's lazy identity). */
  statement?: { readonly fingerprint: string; readonly normalized: string };
  rows?: number;
  duration_ms?: number;
  observed?: boolean;
  sqlstate?: string;
  truncated?: boolean;
  undo_id?: string;
  approval_id?: string;
  blast_radius_rows?: number;
  /** Predefined tools: the names of the bound parameters. */
  parameters?: string[];
  /** Predefined tools: the bound values (the sink writes them only under include_raw_sql). */
  parameter_values?: unknown[];
  /** The statement as sent (the gateway passes it only under include_raw_sql; the sink scrubs it). */
  sql_raw?: string;
}

export interface AuditPort {
  record(event: AuditEventInput): void;
  /**
   * Record and resolve only once the record is written (it survives a kill -9 of the gateway).
   * Rejects with AUDIT_UNAVAILABLE when it cannot be: the caller must not go on (a write must not
   * reach the database without its decision in the log).
   */
  durable(event: AuditEventInput): Promise<void>;
  /** False when the sink is failing and the policy is fail-closed: the gateway refuses calls. */
  accepting(): boolean;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

/** An audit port that records nothing (tests, or audit disabled). */
export const NO_AUDIT: AuditPort = {
  record: () => undefined,
  durable: async () => undefined,
  accepting: () => true,
  stats: () => ({ sink: 'none' }),
  close: async () => undefined,
};
