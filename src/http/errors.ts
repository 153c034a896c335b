/**
 * HTTP-level errors: one catalogue of stable codes and one JSON-RPC-shaped body for every
 * refusal the HTTP layer produces itself (before the MCP SDK sees the request).
 *
 * Guarantees: every error body is `{ jsonrpc: "2.0", id: null, error: { code, message,
 * data: { code, fix, requestId } } }` with a stable UPPER_SNAKE `data.code`; an unexpected
 * error is answered as INTERNAL_ERROR without its message or stack (those go to the log only).
 * The codes, messages, fixes, statuses and JSON-RPC codes live in the one catalogue
 * (src/guard/reasons.ts, category `http` plus the gateway codes that carry an `http` answer);
 * framework errors are mapped by their fastify code or type, never by their message text.
 * Does not: describe errors inside MCP exchanges (the SDK answers those, and tool refusals are
 * tool results, see src/guard/reasons.ts).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { JSONRPC, REASONS, type HttpAnswer, type ReasonCode, type ReasonDefinition } from '../guard/reasons.js';

export { JSONRPC };

interface HttpErrorDefinition {
  status: number;
  rpc: number;
  message: string;
  fix: string;
}

/** The codes of the one catalogue (src/guard/reasons.ts) that carry an HTTP answer. */
export type HttpErrorCode = { [K in ReasonCode]: (typeof REASONS)[K] extends { http: HttpAnswer } ? K : never }[ReasonCode];

/** The HTTP view of the catalogue: status, JSON-RPC code, body message and fix of every HttpErrorCode. */
export const HTTP_ERRORS: Readonly<Record<HttpErrorCode, HttpErrorDefinition>> = Object.fromEntries(
  Object.entries(REASONS as Record<string, ReasonDefinition>).flatMap(([code, def]) =>
    def.http === undefined ? [] : [[code, { status: def.http.status, rpc: def.http.rpc, message: def.http.message ?? def.summary, fix: def.fix }]],
  ),
) as Record<HttpErrorCode, HttpErrorDefinition>;

/** Thrown from hooks to refuse a request; rendered by the app's error handler. */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly statusCode: number;
  /** Extra headers for the response (WWW-Authenticate, Retry-After…). */
  readonly headers: Record<string, string>;
  /** Extra, safe fields for `error.data`. */
  readonly data: Record<string, unknown>;

  constructor(code: HttpErrorCode, options: { message?: string; headers?: Record<string, string>; data?: Record<string, unknown> } = {}) {
    super(options.message ?? HTTP_ERRORS[code].message);
    this.name = 'HttpError';
    this.code = code;
    this.statusCode = HTTP_ERRORS[code].status;
    this.headers = options.headers ?? {};
    this.data = options.data ?? {};
  }
}

export interface JsonRpcErrorBody {
  jsonrpc: '2.0';
  id: null;
  error: { code: number; message: string; data: { code: HttpErrorCode; fix: string; requestId: string } & Record<string, unknown> };
}

export function errorBody(
  code: HttpErrorCode,
  requestId: string,
  message?: string,
  data: Record<string, unknown> = {},
): JsonRpcErrorBody {
  const def = HTTP_ERRORS[code];
  return {
    jsonrpc: '2.0',
    id: null,
    error: { code: def.rpc, message: message ?? def.message, data: { ...data, code, fix: def.fix, requestId } },
  };
}

/** The catalogue code a request was refused with (read by the request metrics in app.ts). */
const refusals = new WeakMap<FastifyRequest, string>();
export function refusalOf(request: FastifyRequest): string | undefined {
  return refusals.get(request);
}
/** Remember the code a request is refused with (sendError does it; other senders of refusals call it). */
export function markRefusal(request: FastifyRequest, code: string): void {
  refusals.set(request, code);
}

/** Send an HTTP error through fastify (headers set by earlier hooks are kept). */
export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
  refusals.set(reply.request, err.code);
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  return reply.code(err.statusCode).type('application/json; charset=utf-8').send(errorBody(err.code, String(reply.request.id), err.message, err.data));
}

/** Map framework errors to our catalogue; anything unknown becomes INTERNAL_ERROR. */
export function classifyError(err: FastifyError | Error): HttpError {
  if (err instanceof HttpError) return err;
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError('INVALID_JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError('INVALID_REQUEST', { message: 'Invalid request: the body is empty.' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError('INVALID_REQUEST', { message: 'Invalid request: the body does not match Content-Length.' });
    default:
      break;
  }
  const status = (err as FastifyError).statusCode;
  // fastify's JSON parser reports every parse failure, prototype and constructor poisoning
  // included, as FST_ERR_CTP_INVALID_JSON_BODY (above); a SyntaxError is a JSON.parse elsewhere.
  if (err instanceof SyntaxError) return new HttpError('INVALID_JSON');
  if (status === 413) return new HttpError('PAYLOAD_TOO_LARGE');
  if (status === 415) return new HttpError('UNSUPPORTED_MEDIA_TYPE');
  if (status === 404) return new HttpError('NOT_FOUND');
  if (status === 405) return new HttpError('METHOD_NOT_ALLOWED');
  if (status !== undefined && status >= 400 && status < 500) return new HttpError('INVALID_REQUEST');
  return new HttpError('INTERNAL_ERROR');
}

/** The app's error handler: log server faults, answer with the catalogue body. */
export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = classifyError(err);
  if (mapped.code === 'INTERNAL_ERROR') {
    request.log.error({ err }, 'unhandled error');
  } else if (!(err instanceof HttpError)) {
    request.log.info({ code: mapped.code, fastifyCode: err.code }, 'request refused');
  }
  return sendError(reply, mapped);
}
