/**
 * In-client confirmation across replicas (server.state_key): the request state minted by one
 * gateway is verified by another that shares the key, so a confirmed retry may reach any replica;
 * a replica with a different (or random, per-process) key refuses it and nothing runs. Real MCP
 * clients, three real gateways, one real PostgreSQL (the durable confirmation store is shared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { codes, elicitingClient, startE2eGateway, toolOutcome, type E2eGateway, type ToolCallOutcome } from '../../support/gateway.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const WRITER = 'pgw_writer_replicas_0123456789abcdefghijklm';
const SHARED_KEY = 'replica-state-key-0123456789abcdefghijklmnopqrstuv';
const OTHER_KEY = 'another-state-key-0123456789abcdefghijklmnopqrstuv';

let w: WriteTestDb;
const gws: Record<'a' | 'b' | 'other' | 'random', E2eGateway | undefined> = { a: undefined, b: undefined, other: undefined, random: undefined };

const priorities = async (ids: number[]): Promise<string[]> =>
  (await w.admin<{ priority: string }>('SELECT priority FROM app.support_tickets WHERE id = ANY($1::int[]) ORDER BY id', [ids])).map((r) => r.priority);

/** A 2026-07-28 client that can confirm; the test answers (and retries) itself. */
const client = (gw: E2eGateway): Promise<Client> =>
  elicitingClient(gw.mcpUrl, WRITER, { autoFulfill: false, answer: () => ({ action: 'accept', content: { confirm: true } }) });

/** Ask on `first`: the signed request state of the input-required result. */
async function ask(first: E2eGateway, sql: string): Promise<string> {
  const res = (await (await client(first)).callTool({ name: 'execute', arguments: { sql } }, { allowInputRequired: true })) as unknown as {
    resultType?: string;
    requestState?: string;
  };
  expect(res.resultType).toBe('input_required');
  expect(typeof res.requestState).toBe('string');
  return res.requestState as string;
}

/** Answer "accept" on `second`, carrying the state minted by another gateway. */
async function answer(second: E2eGateway, sql: string, requestState: string): Promise<ToolCallOutcome> {
  const accept = { confirm_write: { action: 'accept', content: { confirm: true } } };
  return toolOutcome(
    await (await client(second)).callTool({ name: 'execute', arguments: { sql }, inputResponses: accept, requestState } as never, { allowInputRequired: true }),
  );
}

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const policyDb = {
    mode: 'read-write',
    schemas: ['app'],
    tables: { deny: ['internal.*'] },
    writes: { confirm_above_rows: 1, block_above_rows: 100, confirm_in_client: { enabled: true, max_rows: 3, ttl_ms: 60_000 } },
  };
  const start = (stateKey: string | undefined): Promise<E2eGateway> =>
    startE2eGateway({
      configInput: (auditPath) => ({
        server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 }, ...(stateKey ? { state_key: stateKey } : {}) },
        log: { level: 'warn' },
        audit: { sink: 'file', path: auditPath, fsync: 'never' },
        databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
        principals: { writer: { policy: 'writer', tokens: [{ token: WRITER }] } },
        policies: { writer: { databases: { shop: policyDb } } },
      }),
    });
  gws.a = await start(SHARED_KEY);
  gws.b = await start(SHARED_KEY);
  gws.other = await start(OTHER_KEY);
  gws.random = await start(undefined);
}, 120_000);

afterAll(async () => {
  for (const g of Object.values(gws)) await g?.stop();
  await w?.end();
});

describe('in-client confirmation across replicas (server.state_key)', () => {
  it('a replica sharing the key redeems the confirmation another replica asked for: runs once', async () => {
    const { a, b } = gws as Record<string, E2eGateway>;
    await w.admin("UPDATE app.support_tickets SET priority = 'low' WHERE id IN (21, 22)");
    const sql = "UPDATE app.support_tickets SET priority = 'urgent' WHERE id IN (21, 22)";
    const state = await ask(a!, sql);
    const out = await answer(b!, sql, state);
    expect(out.isError).toBe(false);
    expect(out.structured).toMatchObject({ decision: 'executed', rowCount: 2 });
    expect(await priorities([21, 22])).toEqual(['urgent', 'urgent']);
    expect(b!.auditRecords().some((r) => r.tool === 'execute' && r.decision === 'executed' && r.rows === 2)).toBe(true);
    // single use across replicas too: replaying it on the replica that asked is refused
    await w.admin("UPDATE app.support_tickets SET priority = 'low' WHERE id IN (21, 22)");
    expect(codes(await answer(a!, sql, state))).toEqual(['CONFIRMATION_INVALID']);
    expect(await priorities([21, 22])).toEqual(['low', 'low']);
  });

  it('a replica with another key, or with the per-process random key, refuses it: nothing runs', async () => {
    const { a, other, random } = gws as Record<string, E2eGateway>;
    await w.admin("UPDATE app.support_tickets SET priority = 'low' WHERE id IN (23, 24)");
    const sql = "UPDATE app.support_tickets SET priority = 'high' WHERE id IN (23, 24)";
    for (const second of [other!, random!]) {
      const state = await ask(a!, sql);
      const out = await answer(second, sql, state);
      expect(out.isError).toBe(true);
      expect(codes(out)).toEqual(['CONFIRMATION_INVALID']);
      expect(await priorities([23, 24])).toEqual(['low', 'low']);
    }
    // and the random-key replica's own state is not accepted by the shared-key replicas
    const state = await ask(random!, sql);
    expect(codes(await answer(a!, sql, state))).toEqual(['CONFIRMATION_INVALID']);
    expect(await priorities([23, 24])).toEqual(['low', 'low']);
  });
});
