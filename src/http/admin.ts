/**
 * The admin API: operators approve or reject held writes and revert undo entries, on the same
 * fastify app as /mcp.
 *
 *   GET  /admin/approvals?status=pending&database=&principal=&limit=
 *   GET  /admin/approvals/:id
 *   POST /admin/approvals/:id/approve
 *   POST /admin/approvals/:id/reject        {"reason": "…"}
 *   POST /admin/undo/:undoId/revert
 *
 * Guarantees:
 * - Only OPERATOR tokens (config.operators, a separate Authenticator) are accepted: an agent's
 *   token is answered 401 like any unknown token. The request pipeline is /mcp's: Host/Origin
 *   allow-lists (403), shutdown gate (503), per-IP limit before auth, per-operator limit after
 *   it (429).
 * - Every answer is JSON; errors are `{ error: { code, message, fix, requestId, … } }` with the
 *   stable codes of src/guard/reasons.ts (GatewayError) or src/http/errors.ts (HttpError).
 * - Decisions are recorded under the operator's name (`operator:<name>`).
 * - The exact held statement (with literals) is returned to operators only, by these routes;
 *   request logs carry method, path and codes, never statements or tokens.
 * Does not: decide anything itself (ApprovalService and the revert function do), or serve
 * anything when no `admin` option is given to buildHttpApp (no /admin route exists then).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import type { ApprovalFilter, ApproveOutcome, ApprovalStatus } from '../core/ports.js';
import { REASONS } from '../guard/reasons.js';
import { authorizationHeader, wwwAuthenticate } from './auth.js';
import { requestState } from './context.js';
import { classifyError, HTTP_ERRORS, HttpError, markRefusal } from './errors.js';
import type { Lifecycle } from './lifecycle.js';
import type { AdminOptions, Authenticator } from './types.js';

export type { AdminApprovals, AdminOptions } from './types.js';

export interface AdminRouteOptions extends AdminOptions {
  lifecycle: Lifecycle;
  /** Per-IP limit (before auth). */
  perIp: onRequestHookHandler;
  /** Per-principal limit (after auth; keyed by `operator:<name>`). */
  perPrincipal: onRequestHookHandler;
}

const STATUSES: readonly ApprovalStatus[] = ['pending', 'executing', 'executed', 'rejected', 'expired', 'failed', 'refused'];
const operatorOf = new WeakMap<FastifyRequest, string>();

function statusFor(err: GatewayError): number {
  switch (err.code) {
    case 'APPROVAL_NOT_FOUND':
    case 'UNDO_NOT_FOUND':
    case 'UNKNOWN_DATABASE':
      return 404;
    case 'APPROVAL_EXPIRED':
      return 410;
    case 'APPROVAL_NOT_PENDING':
    case 'UNDO_ALREADY_REVERTED':
    case 'UNDO_CONFLICT':
    case 'APPROVAL_RECHECK_FAILED':
      return 409;
    case 'DATABASE_UNAVAILABLE':
    case 'POOL_EXHAUSTED':
    case 'SHUTTING_DOWN':
      return 503;
    case 'INTERNAL_ERROR':
      return 500;
    default:
      return err.decision === 'block' ? 409 : 500;
  }
}

function sendCoded(reply: FastifyReply, status: number, code: string, message: string, fix: string, data: Record<string, unknown> = {}): FastifyReply {
  markRefusal(reply.request, code);
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ error: { ...data, code, message, fix, requestId: String(reply.request.id) } });
}

/** An HttpError in the admin API's shape (also for router errors on /admin paths, see app.ts). */
export function sendAdminHttpError(reply: FastifyReply, err: HttpError): FastifyReply {
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  return sendCoded(reply, err.statusCode, err.code, err.message, HTTP_ERRORS[err.code].fix, err.data);
}

function adminErrorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isGatewayError(err)) {
    const status = statusFor(err);
    if (status >= 500) request.log.error({ code: err.code }, 'admin request failed');
    const r = err.reasons[0];
    const extra: Record<string, unknown> = {};
    const conflicts = (err as GatewayError & { conflicts?: unknown }).conflicts;
    if (Array.isArray(conflicts)) extra.conflicts = conflicts;
    if (err.details.sqlstate !== undefined) extra.sqlstate = err.details.sqlstate;
    return sendCoded(reply, status, err.code, r?.message ?? err.code, r?.fix ?? REASONS[err.code].fix, extra);
  }
  const mapped = classifyError(err);
  if (mapped.code === 'INTERNAL_ERROR') request.log.error({ err }, 'admin request failed');
  for (const [name, value] of Object.entries(mapped.headers)) reply.header(name, value);
  return sendCoded(reply, mapped.statusCode, mapped.code, mapped.message, HTTP_ERRORS[mapped.code].fix, mapped.data);
}

function operatorAuth(authenticator: Authenticator): onRequestHookHandler {
  return async function authenticateOperator(request) {
    const header = authorizationHeader(request);
    const result: ReturnType<Authenticator['authenticate']> =
      typeof header === 'object' ? { ok: false, reason: 'malformed' } : authenticator.authenticate(header);
    if (result.ok) {
      operatorOf.set(request, result.principal);
      requestState(request).principal = `operator:${result.principal}`;
      requestState(request).tokenId = result.tokenId;
      request.log = request.log.child({ operator: result.principal, tokenId: result.tokenId });
      return;
    }
    request.log.warn({ reason: result.reason }, 'admin authentication failed');
    throw new HttpError(result.reason === 'missing' ? 'UNAUTHENTICATED' : 'INVALID_TOKEN', {
      message: result.reason === 'missing' ? 'An operator token is required.' : 'The bearer token is not a valid operator token.',
      headers: { 'www-authenticate': wwwAuthenticate(result.reason) },
      data: { reason: result.reason },
    });
  };
}

function operator(request: FastifyRequest): string {
  const name = operatorOf.get(request);
  if (name === undefined) throw new HttpError('INTERNAL_ERROR'); // the auth hook did not run
  return `operator:${name}`;
}

function param(request: FastifyRequest, name: string): string {
  const v = (request.params as Record<string, unknown>)[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > 100) throw new HttpError('INVALID_REQUEST', { message: `Invalid ${name}.` });
  return v;
}

const FILTER_KEYS: ReadonlySet<string> = new Set(['status', 'database', 'principal', 'limit']);

/**
 * The listing filter. Ambiguous filters are refused, never dropped: a key given twice
 * (`principal=a&principal=b`) or an unknown key (a typo such as `princpal=`) would otherwise
 * widen the answer to the full list.
 */
function filterFrom(query: unknown): ApprovalFilter {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(q)) {
    if (!FILTER_KEYS.has(key)) {
      throw new HttpError('INVALID_REQUEST', { message: `Unknown filter "${key.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}"; filters are status, database, principal and limit.` });
    }
    if (typeof value !== 'string') throw new HttpError('INVALID_REQUEST', { message: `${key} may be given once.` });
  }
  const filter: ApprovalFilter = {};
  if (q.status !== undefined) {
    if (typeof q.status !== 'string' || !STATUSES.includes(q.status as ApprovalStatus)) {
      throw new HttpError('INVALID_REQUEST', { message: `status must be one of ${STATUSES.join(', ')}.` });
    }
    filter.status = q.status as ApprovalStatus;
  }
  if (typeof q.database === 'string' && q.database !== '') filter.database = q.database.slice(0, 100);
  if (typeof q.principal === 'string' && q.principal !== '') filter.principal = q.principal.slice(0, 100);
  if (q.limit !== undefined) {
    const n = Number(q.limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new HttpError('INVALID_REQUEST', { message: 'limit must be an integer from 1 to 1000.' });
    filter.limit = n;
  }
  return filter;
}

function outcomeStatus(outcome: ApproveOutcome): number {
  return outcome.status === 'executed' ? 200 : outcome.status === 'refused' ? 409 : 500;
}

/** Register /admin/* (call from buildHttpApp when the `admin` option is set). */
export async function registerAdminRoutes(app: FastifyInstance, opts: AdminRouteOptions): Promise<void> {
  const shutdownGate: onRequestHookHandler = async () => {
    if (opts.lifecycle.shuttingDown) throw new HttpError('SHUTTING_DOWN', { headers: { connection: 'close' } });
  };
  const onRequest = [shutdownGate, opts.perIp, operatorAuth(opts.operators), opts.perPrincipal];

  await app.register(
    async (admin) => {
      admin.setErrorHandler(adminErrorHandler);
      admin.setNotFoundHandler({ preHandler: [shutdownGate, opts.perIp] }, (request, reply) =>
        sendCoded(reply, 404, 'NOT_FOUND', 'Not found.', 'Admin routes: GET /admin/approvals, GET /admin/approvals/:id, POST /admin/approvals/:id/approve, POST /admin/approvals/:id/reject, POST /admin/undo/:undoId/revert.'),
      );

      admin.get('/approvals', { onRequest }, async (request) => {
        const approvals = await opts.approvals.list(filterFrom(request.query));
        return { approvals };
      });

      admin.get('/approvals/:id', { onRequest }, async (request) => {
        const approval = await opts.approvals.get(param(request, 'id'));
        if (approval === undefined) throw new GatewayError('APPROVAL_NOT_FOUND', undefined, { decision: 'block' });
        return { approval };
      });

      admin.post('/approvals/:id/approve', { onRequest }, async (request, reply) => {
        const outcome = await opts.approvals.approve(param(request, 'id'), operator(request));
        request.log.info({ approvalStatus: outcome.status }, 'approval decided');
        return reply.code(outcomeStatus(outcome)).send(outcome);
      });

      admin.post('/approvals/:id/reject', { onRequest }, async (request) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError('INVALID_REQUEST', { message: 'The body must be a JSON object.' });
        const note = body.reason;
        if (note !== undefined && (typeof note !== 'string' || note.length > 2000)) {
          throw new HttpError('INVALID_REQUEST', { message: 'reason must be a string of at most 2000 characters.' });
        }
        const approval = await opts.approvals.reject(param(request, 'id'), operator(request), note);
        request.log.info('approval rejected');
        return { approval };
      });

      admin.post('/undo/:undoId/revert', { onRequest }, async (request) => {
        const result = await opts.revert(param(request, 'undoId'), operator(request));
        request.log.info('undo entry reverted');
        return { result };
      });
    },
    { prefix: '/admin' },
  );
}

