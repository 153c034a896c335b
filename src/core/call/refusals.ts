/**
 * Turning thrown errors into refusals an agent may see, and their causes into operator log entries.
 *
 * Guarantees: a GatewayError leaves as its coded reasons (with SQLSTATE and position when set);
 * anything else leaves as INTERNAL_ERROR, never as its message. The operator-log cause chain has
 * quoted segments redacted (a driver message may quote a value).
 * Does not: log (the plumbing does, once per call).
 */
import { reason } from '../../guard/reasons.js';
import { redactQuoted } from '../../errors/redact.js';
import { isGatewayError } from '../errors.js';
import type { Refusal } from '../results.js';
import type { CallContext } from './context.js';

export function toRefusal(err: unknown): Refusal {
  if (isGatewayError(err)) {
    return {
      decision: err.decision,
      reasons: err.reasons,
      ...(err.details.sqlstate ? { sqlstate: err.details.sqlstate } : {}),
      ...(err.details.position ? { position: err.details.position } : {}),
    };
  }
  return { decision: 'error', reasons: [reason('INTERNAL_ERROR')] };
}

/**
 * The cause chain of an internal error for the operator log: type, code, message and stack of
 * each level, with quoted segments redacted (a driver message may quote a value).
 */
export function internalCause(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err, message: redactQuoted(String(err)).slice(0, 500) };
  const out: Record<string, unknown> = { type: err.name, message: redactQuoted(err.message).slice(0, 500) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err.stack !== undefined) out.stack = redactQuoted(err.stack).slice(0, 4000);
  if (err.cause !== undefined && depth < 3) out.cause = internalCause(err.cause, depth + 1);
  return out;
}

export function withRequestId(refusal: Refusal, ctx: CallContext): Refusal {
  return { ...refusal, requestId: ctx.requestId };
}

/** Names echoed back are clipped and stripped of control characters. */
export function safeName(name: string | undefined): string {
  return (name ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
