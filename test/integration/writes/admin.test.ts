/**
 * The admin HTTP API against a real approval queue and journal: operator tokens only (agent
 * tokens are 401), coded JSON errors, Host checks and rate limits like /mcp, and the approve /
 * reject / revert round trips.
 */
import { McpServer } from '@modelcontextprotocol/server';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertOperatorTokensDistinct, operatorTokenStore } from '../../../src/auth/operators.js';
import { TokenStore } from '../../../src/auth/tokens.js';
import { serverSchema, type Config } from '../../../src/config/schema.js';
import type { ApprovalService} from '../../../src/db/writes/index.js';
import { executeWrite, measureBlastRadius, WriteState } from '../../../src/db/writes/index.js';
import { reason } from '../../../src/guard/reasons.js';
import type { WritePlan } from '../../../src/guard/write-plan.js';
import { buildHttpApp } from '../../../src/http/app.js';
import { caps, deleteTickets, session, setupWriteDb, snapshot, type WriteTestDb } from './helpers.js';

const AGENT = 'pgw_agent_0123456789abcdefghijklmnopqrstuvwxyz';
const OPERATOR = 'pgw_operator_0123456789abcdefghijklmnopqrstuvw';

const config = {
  principals: { alice: { policy: 'writer', tokens: [{ token: AGENT }] } },
  operators: { ops: { tokens: [{ id: 'ops-1', token: OPERATOR }] } },
} as unknown as Config;

let w: WriteTestDb;
let app: FastifyInstance;
let service: ApprovalService;
let state: WriteState;

function planFor(sql: string): WritePlan {
  const m = /WHERE id = (\d+)$/.exec(sql);
  return deleteTickets(`t.id = ${m?.[1] ?? '-1'}`);
}

beforeAll(async () => {
  w = await setupWriteDb();
  state = new WriteState([w.db]);
  service = state.approvals;
  service.setHooks({
    revalidate: async () => ({ ok: true }),
    measure: async (a) => ({ rows: (await measureBlastRadius(w.db, planFor(a.sql), { session })).rows }),
    execute: (a, o) =>
      executeWrite(w.db, planFor(a.sql), { session, principal: a.principal, sql: a.sql, normalizedSql: a.normalizedSql, ...caps, approvalId: o.approvalId, ...(o.allowedRows !== undefined ? { allowedRows: o.allowedRows } : {}) }),
  });
  app = await buildHttpApp({
    server: serverSchema.parse({ rate_limit: { per_ip: 1000, per_principal: 40, window_ms: 60_000 } }),
    authenticator: new TokenStore(config),
    mcpFactory: () => new McpServer({ name: 't', version: '0' }),
    readiness: async () => true,
    logger: pino({ level: 'silent' }),
    admin: { operators: operatorTokenStore(config), approvals: service, revert: (id, op) => state.revert(id, { by: op }) },
  });
});
afterAll(async () => {
  await app?.close();
  await w?.end();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const hold = async (id: number) =>
  service.create('demo', {
    principal: 'alice',
    sql: `DELETE FROM app.support_tickets WHERE id = ${id}`,
    normalizedSql: 'DELETE FROM app.support_tickets WHERE id = $1',
    blastRadius: await measureBlastRadius(w.db, planFor(`WHERE id = ${id}`), { session }),
    reasons: [reason('HELD_FOR_APPROVAL')],
    ttlMs: 60_000,
  });

describe('admin API authentication', () => {
  it('no token → 401 UNAUTHENTICATED; an agent token → 401 INVALID_TOKEN; on every route', async () => {
    const a = await hold(1);
    const routes: [string, string][] = [
      ['GET', '/admin/approvals'],
      ['GET', `/admin/approvals/${a.approvalId}`],
      ['POST', `/admin/approvals/${a.approvalId}/approve`],
      ['POST', `/admin/approvals/${a.approvalId}/reject`],
      ['POST', '/admin/undo/00000000-0000-0000-0000-000000000000/revert'],
    ];
    for (const [method, url] of routes) {
      const none = await app.inject({ method: method as 'GET', url });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe('UNAUTHENTICATED');
      expect(none.headers['www-authenticate']).toContain('Bearer');
      const agent = await app.inject({ method: method as 'GET', url, headers: auth(AGENT) });
      expect(agent.statusCode).toBe(401);
      expect(agent.json().error).toMatchObject({ code: 'INVALID_TOKEN' });
      expect(agent.body).not.toContain(AGENT);
    }
    expect((await service.get(a.approvalId))?.status).toBe('pending');
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 1')).toHaveLength(1);
  });

  it('an operator token does not reach /mcp', async () => {
    const r = await app.inject({ method: 'POST', url: '/mcp', headers: { ...auth(OPERATOR), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, payload: '{}' });
    expect(r.statusCode).toBe(401);
  });

  it('a foreign Host header is refused (403) before authentication', async () => {
    const r = await app.inject({ method: 'GET', url: '/admin/approvals', headers: { ...auth(OPERATOR), host: 'evil.example' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('FORBIDDEN_HOST');
  });

  it('the same token for an operator and an agent is a configuration error', () => {
    expect(() => assertOperatorTokensDistinct({ ...config, operators: { ops: { tokens: [{ token: AGENT }] } } } as unknown as Config)).toThrow(/distinct/);
    expect(() => assertOperatorTokensDistinct(config)).not.toThrow();
  });
});

describe('admin API operations', () => {
  it('lists, shows, approves (executes once) and reports conflicts as coded errors', async () => {
    const a = await hold(2);
    const list = await app.inject({ method: 'GET', url: '/admin/approvals?status=pending', headers: auth(OPERATOR) });
    expect(list.statusCode).toBe(200);
    expect(list.json().approvals.map((x: { approvalId: string }) => x.approvalId)).toContain(a.approvalId);
    const one = await app.inject({ method: 'GET', url: `/admin/approvals/${a.approvalId}`, headers: auth(OPERATOR) });
    expect(one.json().approval).toMatchObject({ approvalId: a.approvalId, sql: 'DELETE FROM app.support_tickets WHERE id = 2', blastRadius: { rows: 1 } });

    const ok = await app.inject({ method: 'POST', url: `/admin/approvals/${a.approvalId}/approve`, headers: auth(OPERATOR) });
    expect(ok.statusCode).toBe(200);
    const outcome = ok.json();
    expect(outcome).toMatchObject({ status: 'executed', rowCount: 1, approval: { status: 'executed', decidedBy: 'operator:ops' } });
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 2')).toHaveLength(0);

    const again = await app.inject({ method: 'POST', url: `/admin/approvals/${a.approvalId}/approve`, headers: auth(OPERATOR) });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'APPROVAL_NOT_PENDING' });
    expect(typeof again.json().error.fix).toBe('string');

    const before = await snapshot(w, 'app.support_tickets');
    const rev = await app.inject({ method: 'POST', url: `/admin/undo/${outcome.undoId}/revert`, headers: auth(OPERATOR) });
    expect(rev.statusCode).toBe(200);
    expect(rev.json().result).toMatchObject({ undoId: outcome.undoId, rowCount: 1, database: 'demo' });
    expect(await snapshot(w, 'app.support_tickets')).toHaveLength(before.length + 1);
    const twice = await app.inject({ method: 'POST', url: `/admin/undo/${outcome.undoId}/revert`, headers: auth(OPERATOR) });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('UNDO_ALREADY_REVERTED');
  });

  it('UNDO_CONFLICT carries the changed keys', async () => {
    const r = await executeWrite(w.db, deleteTickets('t.id = 3'), { session, principal: 'alice', sql: 'DELETE …', normalizedSql: 'DELETE …', ...caps });
    await w.admin("INSERT INTO app.support_tickets VALUES (3, 1, now(), NULL, 'low', 's', 'b')");
    const c = await app.inject({ method: 'POST', url: `/admin/undo/${r.undoId}/revert`, headers: auth(OPERATOR) });
    expect(c.statusCode).toBe(409);
    expect(c.json().error).toMatchObject({ code: 'UNDO_CONFLICT', conflicts: [{ id: '3' }] });
  });

  it('rejects with a reason; unknown ids are 404; bad filters are 400', async () => {
    const a = await hold(4);
    const r = await app.inject({ method: 'POST', url: `/admin/approvals/${a.approvalId}/reject`, headers: auth(OPERATOR), payload: { reason: 'too broad' } });
    expect(r.statusCode).toBe(200);
    expect(r.json().approval).toMatchObject({ status: 'rejected', note: 'too broad', decidedBy: 'operator:ops' });
    expect((await app.inject({ method: 'GET', url: '/admin/approvals/11111111-1111-1111-1111-111111111111', headers: auth(OPERATOR) })).json().error.code).toBe('APPROVAL_NOT_FOUND');
    expect((await app.inject({ method: 'POST', url: '/admin/undo/nope/revert', headers: auth(OPERATOR) })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'GET', url: '/admin/approvals?status=bogus', headers: auth(OPERATOR) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_REQUEST');
    expect((await app.inject({ method: 'GET', url: '/admin/nothing', headers: auth(OPERATOR) })).statusCode).toBe(404);
  });

  it('is rate-limited per operator (429 with Retry-After)', async () => {
    let limited: { statusCode: number; headers: Record<string, unknown>; json: () => { error: { code: string } } } | undefined;
    for (let i = 0; i < 60 && limited === undefined; i++) {
      const r = await app.inject({ method: 'GET', url: '/admin/approvals?limit=1', headers: auth(OPERATOR) });
      if (r.statusCode === 429) limited = r;
    }
    expect(limited?.statusCode).toBe(429);
    expect(limited?.headers['retry-after']).toBeDefined();
    expect(limited?.json().error.code).toBe('RATE_LIMITED');
  });
});
