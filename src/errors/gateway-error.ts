/**
 * GatewayError: the one error type that crosses layers (db → core → mcp/http). It lives in
 * src/errors/, the leaf every layer may import: it imports only the reason catalogue
 * (src/guard/reasons.ts, which imports nothing); test/unit/architecture.test.ts keeps it so.
 *
 * Guarantees: `message` is safe to show an agent (no DSN, host, password, token or SQL
 * literal); `reasons` carry stable codes from src/guard/reasons.ts. Anything that is not a
 * GatewayError is reported to agents as INTERNAL_ERROR without its message.
 */
import { reason, type Reason, type ReasonCode } from '../guard/reasons.js';

export interface GatewayErrorDetails {
  /** SQLSTATE from the database, when the error came from it. */
  sqlstate?: string;
  /** 1-based character position in the statement, when the database or parser reported one. */
  position?: number;
}

export class GatewayError extends Error {
  readonly reasons: Reason[];
  readonly details: GatewayErrorDetails;
  /** 'block': the guard refused; 'error': something failed while running. */
  readonly decision: 'block' | 'error';

  constructor(code: ReasonCode, message?: string, options: { fix?: string; details?: GatewayErrorDetails; decision?: 'block' | 'error'; cause?: unknown } = {}) {
    super(message ?? code, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.reasons = [reason(code, message, options.fix)];
    this.details = options.details ?? {};
    this.decision = options.decision ?? 'error';
  }

  get code(): ReasonCode {
    // A GatewayError always has at least one reason.
    return (this.reasons[0] as Reason).code;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
