/**
 * Ports: what the gateway core needs from the database layer, the guard and the audit sink.
 * The core depends on these interfaces only; src/core/wiring.ts binds the real implementations.
 */
import type { DatabaseConfig, ResolvedLimits } from '../config/schema.js';
import type { CatalogSnapshot, Decision, GuardRequest } from '../guard/types.js';
import type { ColumnInfo } from './results.js';

export interface ReadRequest {
  sql: string;
  limits: ResolvedLimits;
  searchPath: readonly string[];
  role?: string;
  principal?: { setting: string; value: string };
  signal?: AbortSignal;
  explain?: { analyze: boolean };
}

export interface ReadResult {
  columns: ColumnInfo[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
  truncatedBy?: 'rows' | 'bytes';
  elapsedMs: number;
  /** EXPLAIN only: the JSON plan. */
  plan?: unknown;
}

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
  /** Reload the catalog now (single-flight); used when the guard meets an unknown relation. */
  refreshCatalog(): Promise<CatalogSnapshot>;
  listRelations(schemas: readonly string[]): Promise<RelationSummary[]>;
  describeRelation(schema: string, name: string): Promise<RelationDetail | undefined>;
  /** Cancel every in-flight statement (shutdown). */
  cancelAll(): Promise<void>;
  end(): Promise<void>;
}

export interface GuardPort {
  decide(req: GuardRequest): Decision;
}

export type AuditDecision =
  | 'allowed'
  | 'blocked'
  | 'held'
  | 'approved'
  | 'rejected'
  | 'executed'
  | 'reverted'
  | 'failed'
  | 'auth_failed';

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
  rows?: number;
  duration_ms?: number;
  observed?: boolean;
  sqlstate?: string;
  truncated?: boolean;
  undo_id?: string;
  approval_id?: string;
  blast_radius_rows?: number;
}

export interface AuditPort {
  record(event: AuditEventInput): void;
  /** False when the sink is failing and the policy is fail-closed: the gateway refuses calls. */
  accepting(): boolean;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

/** An audit port that records nothing (tests, or audit disabled). */
export const NO_AUDIT: AuditPort = {
  record: () => undefined,
  accepting: () => true,
  stats: () => ({ sink: 'none' }),
  close: async () => undefined,
};
