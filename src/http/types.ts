/**
 * Contracts of the HTTP layer: what buildHttpApp needs from the rest of pgwarden.
 *
 * The Authenticator is declared here structurally so this layer does not depend on the
 * TokenStore implementation (src/auth/tokens.ts satisfies it).
 */
import type { McpServerFactory } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/schema.js';
import type { Approval, ApprovalFilter, ApproveOutcome } from '../core/ports.js';
import type { Lifecycle } from './lifecycle.js';
import type { Telemetry } from '../telemetry/types.js';
import type { BudgetScope } from '../shared/budget.js';
import type { CancelLatch } from '../core/signals.js';

export type AuthFailureReason = 'missing' | 'malformed' | 'invalid' | 'expired';

export type AuthResult =
  | { ok: true; principal: string; tokenId: string }
  | { ok: false; reason: AuthFailureReason };

/** Maps an Authorization header value to a principal (TokenStore implements it). */
export interface Authenticator {
  authenticate(authorizationHeader: string | undefined, now?: Date): AuthResult;
}

/** What the audit hook learns about a refused request. Never carries the credential. */
export interface AuthFailureInfo {
  reason: AuthFailureReason;
  requestId: string;
  clientAddress: string;
  method: string;
  /** Path only, without the query string. */
  path: string;
  userAgent?: string;
}

/** What the admin API needs from the approval queue (ApprovalService satisfies it). */
export interface AdminApprovals {
  list(filter: ApprovalFilter): Promise<Approval[]>;
  get(approvalId: string): Promise<Approval | undefined>;
  approve(approvalId: string, operator: string): Promise<ApproveOutcome>;
  reject(approvalId: string, operator: string, note?: string): Promise<Approval>;
}

/** The operators' admin API (src/http/admin.ts); declared here so types.ts imports no route module. */
export interface AdminOptions {
  /** Authenticates operator tokens only (src/auth/operators.ts operatorTokenStore). */
  operators: Authenticator;
  approvals: AdminApprovals;
  /** Revert an undo entry as this operator (WriteState.revert with by = `operator:<name>`). */
  revert: (undoId: string, operator: string) => Promise<unknown>;
}

/** A single 2025-era tools/call as the fast path read it (fast-call.ts). */
export interface FastToolCallRequest {
  id: string | number;
  name: string;
  arguments: Record<string, unknown> | undefined;
  /** The MCP-Protocol-Version header, if sent (one of the SDK's supported versions). */
  protocolVersionHeader: string | undefined;
}

/**
 * Serves a tools/call without the SDK (src/mcp/tool-call.ts directToolCaller): the tool result as
 * its JSON text in parts (concatenated, exactly `JSON.stringify(result)`), or undefined when the
 * principal has no such tool (the SDK then answers, as before).
 */
export type FastToolCall = (
  caller: { principal: string; requestId: string; clientAddress: string; cancelLatch: CancelLatch; budgetScope?: BudgetScope },
  call: FastToolCallRequest,
) => Promise<readonly string[]> | undefined;

export interface BuildHttpAppOptions {
  server: ServerConfig;
  authenticator: Authenticator;
  /** Called once per MCP request (per HTTP POST) by the SDK's createMcpHandler. */
  mcpFactory: McpServerFactory;
  /**
   * The tools/call fast path (mcp-route.ts): a single 2025-era tools/call is served by this
   * function instead of a per-request McpServer. Absent: every request goes to the SDK.
   */
  toolCall?: FastToolCall;
  /** Whether the gateway can serve (databases reachable…). Must not throw; a throw counts as not ready. */
  readiness: () => Promise<boolean>;
  logger: Logger;
  /** Shared shutdown state; one is created when omitted (see startHttpServer().stop()). */
  lifecycle?: Lifecycle;
  /** Tracing of /mcp requests and request metrics on every route (no-op unless telemetry is configured). */
  telemetry?: Pick<Telemetry, 'httpRequest' | 'enabled' | 'metrics'>;
  /** Audit hook for refused authentication. Exceptions it throws are logged and swallowed. */
  onAuthFailure?: (info: AuthFailureInfo) => void;
  /** The operators' admin API under /admin (src/http/admin.ts); absent: no /admin routes. */
  admin?: AdminOptions;
}
