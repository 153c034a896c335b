/**
 * The hardened read path's request and result: the contract between the gateway core's
 * DatabasePort (src/core/ports.ts) and the database layer that implements it (src/db/pool.ts).
 * Pure types, in the shared layer so that neither side imports the other.
 */
import type { ResolvedLimits } from '../config/schema.js';
import type { BudgetScope } from './budget.js';

export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * A cancellation without an AbortSignal (the call plumbing's CallCancel, src/core/signals.ts):
 * `on` calls the listener once when cancelled (at once if it already is), `off` removes it.
 */
export interface CancelSource {
  readonly aborted: boolean;
  on(listener: () => void): void;
  off(listener: () => void): void;
}

export interface ReadOptions {
  /** One statement, already judged by the guard. Sent over the extended protocol only. */
  sql: string;
  /** Bind values for $n (predefined tools only). */
  params?: readonly unknown[];
  limits: ResolvedLimits;
  searchPath: readonly string[];
  /** SET LOCAL ROLE for this statement. */
  role?: string;
  /** SELECT set_config(setting, value, true), e.g. pgwarden.principal = alice. */
  principal?: { setting: string; value: string };
  /** Abort: cancel the backend query and destroy the connection; rejects with QUERY_CANCELED. */
  signal?: AbortSignal;
  /** The same as `signal`, for a caller that has no AbortSignal (both may be given: either cancels). */
  cancel?: CancelSource;
  /** Run EXPLAIN (FORMAT JSON[, ANALYZE true]) of `sql` instead; the plan is in `plan`. */
  explain?: { analyze: boolean };
  /** The HTTP response that carries the rows: the read's budget lease is released with it (budget.ts). */
  budgetScope?: BudgetScope;
}

export interface ReadResult {
  columns: ColumnInfo[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
  truncatedBy?: 'rows' | 'bytes';
  elapsedMs: number;
  /** EXPLAIN only: the JSON plan (the array PostgreSQL returns). */
  plan?: unknown;
}
