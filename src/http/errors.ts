/**
 * HTTP-level errors: one catalogue of stable codes and one JSON-RPC-shaped body for every
 * refusal the HTTP layer produces itself (before the MCP SDK sees the request).
 *
 * Guarantees: every error body is `{ jsonrpc: "2.0", id: null, error: { code, message,
 * data: { code, fix, requestId } } }` with a stable UPPER_SNAKE `data.code`; an unexpected
 * error is answered as INTERNAL_ERROR without its message or stack (those go to the log only).
 * Does not: describe errors inside MCP exchanges (the SDK answers those, and tool refusals are
 * tool results, see src/guard/reasons.ts).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** JSON-RPC 2.0 error codes we use; -32000…-32099 is the implementation-defined server range. */
export const JSONRPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  SERVER_ERROR: -32000,
  UNAUTHORIZED: -32001,
  INTERNAL_ERROR: -32603,
} as const;

interface HttpErrorDefinition {
  status: number;
  rpc: number;
  message: string;
  fix: string;
}

export const HTTP_ERRORS = {
  UNAUTHENTICATED: {
    status: 401,
    rpc: JSONRPC.UNAUTHORIZED,
    message: 'Authentication required.',
    fix: 'Send "Authorization: Bearer <token>" with a token configured for your principal.',
  },
  INVALID_TOKEN: {
    status: 401,
    rpc: JSONRPC.UNAUTHORIZED,
    message: 'The bearer token is not valid.',
    fix: 'Check the token (or ask the operator for a new one) and send it as "Authorization: Bearer <token>".',
  },
  FORBIDDEN_HOST: {
    status: 403,
    rpc: JSONRPC.SERVER_ERROR,
    message: 'The Host header is not allowed.',
    fix: 'Connect using a host name listed in server.allowed_hosts.',
  },
  FORBIDDEN_ORIGIN: {
    status: 403,
    rpc: JSONRPC.SERVER_ERROR,
    message: 'The Origin header is not allowed.',
    fix: 'Browser clients must run on an origin listed in server.allowed_origins.',
  },
  NOT_FOUND: {
    status: 404,
    rpc: JSONRPC.INVALID_REQUEST,
    message: 'Not found.',
    fix: 'MCP is served with POST /mcp; probes are GET /health, /livez, /ready and /readyz.',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    rpc: JSONRPC.SERVER_ERROR,
    message: 'Method not allowed.',
    fix: 'This server is stateless: send every MCP message with POST /mcp.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    rpc: JSONRPC.INVALID_REQUEST,
    message: 'The request body is larger than the server accepts.',
    fix: 'Send a smaller request (see server.body_limit_bytes).',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    rpc: JSONRPC.INVALID_REQUEST,
    message: 'The request body must be application/json.',
    fix: 'Send the JSON-RPC message with "Content-Type: application/json".',
  },
  INVALID_JSON: {
    status: 400,
    rpc: JSONRPC.PARSE_ERROR,
    message: 'Parse error: the body is not valid JSON.',
    fix: 'Send one JSON-RPC 2.0 message (or batch) as valid JSON.',
  },
  INVALID_REQUEST: {
    status: 400,
    rpc: JSONRPC.INVALID_REQUEST,
    message: 'Invalid request.',
    fix: 'Send one JSON-RPC 2.0 message as the POST body.',
  },
  RATE_LIMITED: {
    status: 429,
    rpc: JSONRPC.SERVER_ERROR,
    message: 'Too many requests.',
    fix: 'Wait for the number of seconds in Retry-After, then retry.',
  },
  SHUTTING_DOWN: {
    status: 503,
    rpc: JSONRPC.SERVER_ERROR,
    message: 'The gateway is shutting down and takes no new calls.',
    fix: 'Retry; another replica (or the restarted gateway) will answer.',
  },
  INTERNAL_ERROR: {
    status: 500,
    rpc: JSONRPC.INTERNAL_ERROR,
    message: 'Internal error.',
    fix: 'Retry; if it persists, report the request id to the operator.',
  },
} as const satisfies Record<string, HttpErrorDefinition>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

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
  // Prototype-poisoning refusals and other client-side JSON problems from fastify's parser.
  if (err instanceof SyntaxError || (status === 400 && /JSON|__proto__|constructor/i.test(err.message))) {
    return new HttpError('INVALID_JSON');
  }
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
