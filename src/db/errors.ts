/**
 * Database errors → GatewayError, sanitized.
 *
 * Guarantees: the messages this module produces never contain the DSN, host, port, user name of
 * the gateway's login, password, or a value echoed from the data: quoted segments of database
 * messages are replaced by "…" unless the SQLSTATE is one whose quotes hold identifiers
 * (class 42 syntax/access rule and 3F invalid schema), messages from user code (RAISE, class P0)
 * and internal/system classes (XX, 58) are replaced entirely, and detail/where/internal query
 * are never copied. Connection-level failures get fixed messages.
 * Does not: redact identifiers (table, column, function names are schema, not data), or
 * sanitize the SQL text the agent sent (the caller owns that).
 */
import { GatewayError } from '../errors/gateway-error.js';
import { redactQuoted } from '../errors/redact.js';

export { redactQuoted };
import type { ReasonCode } from '../guard/reasons.js';

export interface SanitizedDbError {
  /** SQLSTATE, when the error came from the server. */
  sqlstate?: string;
  /** Safe message (see the module header). */
  message: string;
  /** 1-based character position in the statement, when reported. */
  position?: number;
  /** The server's hint, for class 42 errors only (it names identifiers, e.g. "Perhaps you meant…"). */
  hint?: string;
}

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  position?: unknown;
  hint?: unknown;
  severity?: unknown;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** SQLSTATEs (or classes) whose double-quoted segments are identifiers, not values. */
function quotesAreIdentifiers(sqlstate: string): boolean {
  const cls = sqlstate.slice(0, 2);
  return cls === '42' || cls === '3F';
}

/** Classes whose message text comes from user code or server internals: never shown. */
function genericMessageFor(sqlstate: string): string | undefined {
  const cls = sqlstate.slice(0, 2);
  if (cls === 'P0') return `A function raised an error (SQLSTATE ${sqlstate}).`;
  if (cls === 'XX') return `The database reported an internal error (SQLSTATE ${sqlstate}).`;
  if (cls === '58') return `The database reported a system error (SQLSTATE ${sqlstate}).`;
  if (cls === '38' || cls === '39') return `An external routine failed (SQLSTATE ${sqlstate}).`;
  return undefined;
}


/** Defense in depth for any text: DSNs, e-mail-like user@host, IPv4[:port]. */
function scrubEndpoints(message: string): string {
  return message
    .replace(/\b(?:postgres(?:ql)?|https?):\/\/\S+/gi, '<redacted-url>')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<address>')
    .replace(/\[[0-9a-f:]+\](?::\d+)?/gi, '<address>');
}

function positionOf(err: PgLikeError): number | undefined {
  const p = typeof err.position === 'string' ? Number.parseInt(err.position, 10) : typeof err.position === 'number' ? err.position : NaN;
  return Number.isInteger(p) && p > 0 ? p : undefined;
}

function sqlstateOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  // Server errors (pg's DatabaseError) always carry a severity; Node's own error codes
  // (e.g. EPIPE) can look like a SQLSTATE, so the severity is what tells them apart.
  const { code, severity } = err as PgLikeError;
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string' ? code : undefined;
}

/**
 * Keep the SQLSTATE, a safe message and the position. For server errors only; connection-level
 * errors are classified by toGatewayError.
 */
export function sanitizeDbError(err: unknown): SanitizedDbError {
  const sqlstate = sqlstateOf(err);
  const e = (typeof err === 'object' && err !== null ? err : {}) as PgLikeError;
  const raw = typeof e.message === 'string' ? e.message : 'database error';
  const out: SanitizedDbError = { message: 'The database reported an error.' };
  if (sqlstate === undefined) {
    out.message = scrubEndpoints(redactQuoted(raw));
    return out;
  }
  out.sqlstate = sqlstate;
  const generic = genericMessageFor(sqlstate);
  out.message = generic ?? scrubEndpoints(quotesAreIdentifiers(sqlstate) ? raw : redactQuoted(raw));
  const position = positionOf(e);
  if (position !== undefined) out.position = position;
  if (quotesAreIdentifiers(sqlstate) && typeof e.hint === 'string' && e.hint.length > 0) out.hint = scrubEndpoints(e.hint);
  return out;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOENT', // unix socket path missing
]);

/** A short, fixed description of why the database is unreachable, or undefined if it is not that. */
export function unavailableReason(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as PgLikeError & { code?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (sqlstateOf(err) !== undefined) {
    // A server error: only these SQLSTATEs mean the database is unreachable.
    const cls = code.slice(0, 2);
    if (code === '57P01' || code === '57P02') return 'the server is shutting down or restarting';
    if (code === '57P03') return 'the server is starting up or not accepting connections';
    if (code === '57P05') return 'connection lost';
    if (cls === '08') return 'connection failure';
    if (code === '53300') return 'too many connections';
    if (code === '28P01') return 'the gateway\'s database login was refused (wrong password)';
    if (cls === '28') return 'the gateway could not authenticate to the database (role missing or not allowed to log in)';
    if (code === '3D000') return 'the configured database does not exist';
    return undefined;
  }
  if (code === 'ECONNREFUSED') return 'connection refused';
  // pg's own error when tls.mode asks for TLS and the server answers "no SSL": not a handshake failure
  if (/server does not support SSL/i.test(message)) return 'the server does not accept TLS connections, but tls.mode requires TLS';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not resolved';
  if (code === 'ETIMEDOUT') return 'connection timed out';
  if (NETWORK_CODES.has(code)) return 'network error';
  if (code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_SSL/.test(code) || /\bSSL\b|certificate|\bTLS\b/i.test(message)) {
    return 'TLS handshake failed';
  }
  if (/timeout exceeded when trying to connect/i.test(message)) return 'no connection available in time';
  if (/Connection terminated|connection error|Connection ended|not queryable|Connection lost/i.test(message)) return 'connection lost';
  return undefined;
}

/** Retrying does not help: the gateway's login, role or database name is wrong (an operator must fix the configuration). */
const PERMANENT_FIX = 'Retrying will not help: the gateway\'s database login, role or database name is misconfigured. Tell the operator (the gateway log names the cause).';

/** A connection fault that does not pass by waiting: wrong password, missing role or database, TLS refused by the server. */
export function permanentFault(err: unknown): boolean {
  const sqlstate = sqlstateOf(err);
  if (sqlstate !== undefined) return sqlstate.startsWith('28') || sqlstate === '3D000';
  const message = typeof (err as PgLikeError | null)?.message === 'string' ? ((err as PgLikeError).message as string) : '';
  return /server does not support SSL/i.test(message);
}

export interface ErrorContext {
  /** The caller's signal aborted (client went away, shutdown). */
  aborted?: boolean;
  /** Subtract from the reported position (e.g. an EXPLAIN prefix). */
  positionOffset?: number;
}

/** Classify any error from the db layer into a GatewayError with a safe message. */
export function toGatewayError(err: unknown, context: ErrorContext = {}): GatewayError {
  if (err instanceof GatewayError) return err;
  if (context.aborted === true) {
    return new GatewayError('QUERY_CANCELED', 'The statement was cancelled because the request was aborted.', { cause: err });
  }
  const sqlstate = sqlstateOf(err);
  const unavailable = unavailableReason(err);
  if (unavailable !== undefined) {
    return new GatewayError('DATABASE_UNAVAILABLE', `The database is unavailable: ${unavailable}.`, {
      ...(sqlstate !== undefined ? { details: { sqlstate } } : {}),
      ...(permanentFault(err) ? { fix: PERMANENT_FIX } : {}),
      cause: err,
    });
  }
  if (sqlstate === undefined) {
    return new GatewayError('INTERNAL_ERROR', undefined, { cause: err });
  }
  const safe = sanitizeDbError(err);
  const details: { sqlstate: string; position?: number } = { sqlstate };
  if (safe.position !== undefined) {
    const p = safe.position - (context.positionOffset ?? 0);
    if (p > 0) details.position = p;
  }
  const make = (code: ReasonCode, message: string, fix?: string): GatewayError =>
    new GatewayError(code, message, { details, cause: err, ...(fix !== undefined ? { fix } : {}) });

  const rawMessage = typeof (err as PgLikeError).message === 'string' ? ((err as PgLikeError).message as string) : '';
  switch (sqlstate) {
    case '57014':
      return /statement timeout/i.test(rawMessage)
        ? make('STATEMENT_TIMEOUT', 'The statement ran longer than the statement timeout and was cancelled.')
        : make('QUERY_CANCELED', 'The statement was cancelled.');
    case '55P03':
      return make('LOCK_TIMEOUT', 'The statement waited too long for a lock.');
    case '42501':
      return make('PERMISSION_DENIED', `The database refused the statement: ${safe.message}`);
    case '25006':
      return make('READ_ONLY_VIOLATION', `The database refused a write inside the read-only transaction: ${safe.message}`);
    default:
      return make('DATABASE_ERROR', safe.message, safe.hint);
  }
}
