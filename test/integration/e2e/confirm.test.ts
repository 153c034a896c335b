/**
 * In-client confirmation of small writes (writes.confirm_in_client) end to end, over real MCP
 * clients against a real PostgreSQL: a 2026-07-28 client that declares elicitation is asked and
 * its answer decides (accept → runs once with an undo id; decline → nothing runs); replayed or
 * forged request state is refused; clients without the capability get the operator hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { callTool, codes, elicitingClient, startE2eGateway, toolOutcome, type E2eGateway, type ToolCallOutcome } from '../../support/gateway.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const WRITER = 'pgw_writer_confirm_0123456789abcdefghijklmnop';

let w: WriteTestDb;
let gw: E2eGateway;

const priorities = async (ids: number[]): Promise<string[]> =>
  (await w.admin<{ priority: string }>('SELECT priority FROM app.support_tickets WHERE id = ANY($1::int[]) ORDER BY id', [ids])).map((r) => r.priority);

type Answer = 'accept' | 'decline' | 'accept-unchecked';

/** A client that declares form elicitation and answers every prompt with `answer`. */
function confirmingClient(answer: Answer, prompts: string[], autoFulfill = true, era: 'modern' | 'legacy' = 'modern'): Promise<Client> {
  return elicitingClient(gw.mcpUrl, WRITER, {
    autoFulfill,
    era,
    answer: (message) => {
      prompts.push(message);
      if (answer === 'decline') return { action: 'decline' };
      return { action: 'accept', content: { confirm: answer === 'accept' } };
    },
  });
}

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const policyDb = {
    mode: 'read-write',
    schemas: ['app'],
    tables: { deny: ['internal.*'] },
    writes: { confirm_above_rows: 1, block_above_rows: 100, confirm_in_client: { enabled: true, max_rows: 3, ttl_ms: 60_000 } },
  };
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      principals: { writer: { policy: 'writer', tokens: [{ token: WRITER }] } },
      policies: { writer: { databases: { shop: policyDb } } },
    }),
  });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

describe('in-client confirmation (2026-07-28, input_required + elicitation)', () => {
  it('accept: asks the human once, runs the write once with an undo id, audited executed', async () => {
    const prompts: string[] = [];
    const client = await confirmingClient('accept', prompts);
    const out = toolOutcome(await client.callTool({ name: 'execute', arguments: { sql: "UPDATE app.support_tickets SET priority = 'urgent' WHERE id IN (7, 8)" } }));
    expect(out.isError).toBe(false);
    expect(out.structured).toMatchObject({ decision: 'executed', rowCount: 2 });
    const undoId = out.structured.undoId as string;
    expect(undoId).toMatch(/^[0-9a-f-]{36}$/);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain('Run this write?');
    expect(prompts[0]).toContain('2 rows in app.support_tickets');
    expect(prompts[0]).not.toContain("'urgent'"); // normalized: no literals
    expect(await priorities([7, 8])).toEqual(['urgent', 'urgent']);
    const audit = gw.auditRecords().filter((r) => r.tool === 'execute');
    expect(audit.some((r) => r.decision === 'executed' && r.undo_id === undoId && r.rows === 2)).toBe(true);
    // The revert changes 2 rows, above confirm_above_rows (1): the agent cannot run it alone
    // (issue #14 item 2: a revert passes the thresholds in force); an operator can.
    const reverted = await callTool(client, 'revert', { undoId });
    expect(codes(reverted)).toEqual(['REVERT_NEEDS_OPERATOR']);
    expect(await priorities([7, 8])).toEqual(['urgent', 'urgent']);
    expect((await gw.runtime.writes?.revert(undoId, { by: 'operator:test' }))?.rowCount).toBe(2);
  });

  it('decline (and an accept without the box checked): nothing runs, CONFIRMATION_INVALID, audited rejected', async () => {
    const before = await priorities([9, 10]);
    for (const answer of ['decline', 'accept-unchecked'] as const) {
      const prompts: string[] = [];
      const client = await confirmingClient(answer, prompts);
      const out = toolOutcome(await client.callTool({ name: 'execute', arguments: { sql: "UPDATE app.support_tickets SET priority = 'low' WHERE id IN (9, 10)" } }));
      expect(prompts).toHaveLength(1);
      expect(out.isError).toBe(true);
      expect(codes(out)).toEqual(['CONFIRMATION_INVALID']);
      expect(await priorities([9, 10])).toEqual(before);
    }
    expect(gw.auditRecords().filter((r) => r.tool === 'execute' && r.decision === 'rejected').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses replayed, forged and re-targeted request state; runs at most once', async () => {
    const client = await confirmingClient('accept', [], false);
    await w.admin("UPDATE app.support_tickets SET priority = 'low' WHERE id IN (11, 12, 13)");
    const sql = "UPDATE app.support_tickets SET priority = 'high' WHERE id IN (11, 12)";
    const first = (await client.callTool({ name: 'execute', arguments: { sql } }, { allowInputRequired: true })) as unknown as {
      resultType?: string;
      inputRequests?: Record<string, unknown>;
      requestState?: string;
    };
    expect(first.resultType).toBe('input_required');
    expect(Object.keys(first.inputRequests ?? {})).toEqual(['confirm_write']);
    const state = first.requestState as string;
    expect(typeof state).toBe('string');
    const accept = { confirm_write: { action: 'accept', content: { confirm: true } } };
    const retry = async (args: Record<string, unknown>, requestState: string): Promise<ToolCallOutcome> =>
      toolOutcome(await client.callTool({ name: 'execute', arguments: args, inputResponses: accept, requestState } as never, { allowInputRequired: true }));

    // Forged: a tampered signature, and a state signed for another statement.
    const forged = `${state.slice(0, -4)}AAAA`;
    const f = await retry({ sql }, forged);
    expect(codes(f)).toEqual(['CONFIRMATION_INVALID']);
    const other = await retry({ sql: "UPDATE app.support_tickets SET priority = 'high' WHERE id IN (11, 13)" }, state);
    expect(codes(other)).toEqual(['CONFIRMATION_INVALID']);
    expect(await priorities([11, 12])).not.toContain('high');

    // The genuine retry runs once; replaying the same state is refused.
    const ok = await retry({ sql }, state);
    expect(ok.isError).toBe(false);
    expect(ok.structured).toMatchObject({ decision: 'executed', rowCount: 2 });
    await w.admin("UPDATE app.support_tickets SET priority = 'low' WHERE id IN (11, 12)");
    const replay = await retry({ sql }, state);
    expect(codes(replay)).toEqual(['CONFIRMATION_INVALID']);
    expect(await priorities([11, 12])).toEqual(['low', 'low']);
  });

  it('refuses when the write grew past the confirmed count between the question and the answer', async () => {
    const client = await confirmingClient('accept', [], false);
    await w.admin("UPDATE app.support_tickets SET subject = 'grow-a', priority = 'low' WHERE id IN (14, 15, 16)");
    await w.admin("UPDATE app.support_tickets SET subject = 'other' WHERE id = 16");
    const sql = "UPDATE app.support_tickets SET priority = 'urgent' WHERE subject = 'grow-a'";
    const first = (await client.callTool({ name: 'execute', arguments: { sql } }, { allowInputRequired: true })) as unknown as { requestState?: string };
    await w.admin("UPDATE app.support_tickets SET subject = 'grow-a' WHERE id = 16");
    const res = toolOutcome(
      await client.callTool(
        { name: 'execute', arguments: { sql }, inputResponses: { confirm_write: { action: 'accept', content: { confirm: true } } }, requestState: first.requestState } as never,
        { allowInputRequired: true },
      ),
    );
    expect(codes(res)).toEqual(['CONFIRMATION_INVALID']);
    expect(await priorities([14, 15, 16])).toEqual(['low', 'low', 'low']);
  });

  it('a 2025-era client, even one declaring elicitation, gets the hold (stateless HTTP: no elicitation channel)', async () => {
    const prompts: string[] = [];
    const client = await confirmingClient('accept', prompts, true, 'legacy');
    const out = toolOutcome(await client.callTool({ name: 'execute', arguments: { sql: "UPDATE app.support_tickets SET priority = 'urgent' WHERE id IN (19, 20)" } }));
    expect(out.structured.decision).toBe('hold');
    expect(out.structured.approvalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(prompts).toEqual([]);
  });

  it('clients without the capability get the operator hold', async () => {
    for (const era of ['modern', 'legacy'] as const) {
      const client = await gw.connect(era, WRITER);
      const out = await callTool(client, 'execute', { sql: "UPDATE app.support_tickets SET priority = 'urgent' WHERE id IN (17, 18)" });
      expect(out.isError).toBe(true);
      expect(out.structured.decision).toBe('hold');
      expect(out.structured.approvalId).toMatch(/^[0-9a-f-]{36}$/);
      expect(out.structured.confirmation).toBeUndefined();
    }
  });
});
