/**
 * Ports: what the gateway core needs from the database layer, the guard and the audit sink.
 * The core depends on these interfaces only; src/app/runtime.ts binds the real implementations.
 */
import type { DatabaseConfig } from '../config/schema.js';
import type { CatalogSnapshot, Decision, GuardRequest } from '../guard/types.js';
import type { MaskPlan, MaskRequest } from '../mask/index.js';

/** The hardened read path's request and result (src/db/pool.ts owns them). */
export type { ReadOptions as ReadRequest, ReadResult } from '../db/pool.js';
import type { ReadOptions as ReadRequest, ReadResult } from '../db/pool.js';

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
