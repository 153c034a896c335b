/**
 * The types every tool call shares: what an adapter hands over (CallContext), what the gateway is
 * built from (GatewayDeps), and what the call plumbing resolves before a tool body runs.
 * Pure types: nothing here runs.
 */
import type { Config, DatabasePolicy } from '../../config/schema.js';
import type { CatalogSnapshot, Decision } from '../../guard/types.js';
import type { Masker } from '../../mask/index.js';
import type { BudgetScope } from '../../shared/budget.js';
import type { CancelSource } from '../../shared/reads.js';
import type { CancelLatch } from '../signals.js';
import type { Telemetry } from '../../telemetry/index.js';
import type { PrincipalView } from '../principals.js';
import type { AuditPort, DatabasePort, GuardPort, JudgingPort, WritesPort } from '../ports.js';

export interface CallContext {
  principal: string;
  requestId: string;
  clientAddress?: string;
  /** Cancels the call (client gone, request timeout, shutdown). */
  signal?: AbortSignal;
  /** Further signals that cancel the call as well (e.g. MCP-level cancellation), without combining them first. */
  alsoCancelledBy?: readonly AbortSignal[];
  /** A cancellation raised without an AbortSignal (the stdio fast path): it aborts the call as a signal would. */
  cancelLatch?: CancelLatch;
  /**
   * Set by the call plumbing on the context a tool body runs with: the call's cancellation, which
   * `signal` follows (the read path listens here: no AbortSignal needed per call).
   */
  cancel?: CancelSource;
  /** The JSON-RPC id of the MCP request (spans: jsonrpc.request.id). */
  jsonrpcId?: string | number;
  /** The MCP protocol revision the client speaks (spans: mcp.protocol.version). */
  protocolVersion?: string;
  /** HTTP: the response that carries the call's rows; its reads' budget leases are released with it. */
  budgetScope?: BudgetScope;
}

export interface GatewayDeps {
  config: Config;
  configVersion: number;
  databases: ReadonlyMap<string, DatabasePort>;
  guard: GuardPort;
  audit: AuditPort;
  /** How many sample rows describe shows for one table. */
  describeSampleRows?: number;
  /** OpenTelemetry (no-op unless configured). */
  telemetry?: Telemetry;
  /** Column masking at the source (src/mask); without it, policies with masks are refused. */
  masker?: Masker;
  /** Guarded writes (the WritesPort; src/db/writes implements it): present when some policy is read-write. */
  writes?: WritesPort;
  /** Resolves once the gateway's journal/approval schema exists (idempotent, retried on failure). */
  writesReady?: () => Promise<void>;
  /** Judges long statements on worker threads (src/judge); without it, every statement inline. */
  judging?: JudgingPort;
  /** Operator log: every INTERNAL_ERROR is logged here once, with its cause and stack. */
  logger?: { error(obj: object, msg?: string): void };
}

/** Principal, database and policy of one call, resolved by the plumbing's precheck. */
export interface Resolved {
  view: PrincipalView;
  database: string;
  db: DatabasePort;
  policy: DatabasePolicy;
}

/** The guard's decision and the catalog it was judged against. */
export type Judged = { decision: Decision; catalog: CatalogSnapshot };
