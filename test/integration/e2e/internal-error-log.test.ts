/**
 * Issue #10 item 5: every INTERNAL_ERROR an agent receives is logged once for the operator, with
 * its cause and stack, and without the statement's literals. The fault is injected into the real
 * gateway (a database port whose read throws a plain TypeError whose message quotes a value, as
 * a driver bug would); guard, MCP, HTTP, audit and logger are the real ones.
 * On 344cc74 nothing was logged for an INTERNAL_ERROR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabasePort } from '../../../src/core/ports.js';
import { callTool, codes, startE2eGateway, type E2eGateway } from '../../support/gateway.js';

let gw: E2eGateway;
beforeAll(async () => {
  gw = await startE2eGateway();
}, 60_000);
afterAll(async () => {
  await gw?.stop();
});

const LITERAL = 'secret-literal-7731';

describe('INTERNAL_ERROR is logged once with its cause and stack', () => {
  it('a read that throws an unexpected error: one log line, cause + stack, no SQL literal', async () => {
    // the gateway's call plumbing holds the database ports it was built with (src/core/call/plumbing.ts)
    const deps = (gw.runtime.gateway as unknown as { p: { deps: { databases: ReadonlyMap<string, DatabasePort> } } }).p.deps;
    const db = deps.databases.get('shop') as DatabasePort;
    const runRead = db.runRead.bind(db);
    db.runRead = () => Promise.reject(new TypeError(`cannot read property of row near '${LITERAL}'`));
    try {
      const client = await gw.connect('modern');
      const before = gw.logs().length;
      const out = await callTool(client, 'query', { sql: `SELECT id FROM app.orders WHERE status = '${LITERAL}'` });
      expect(codes(out)).toEqual(['INTERNAL_ERROR']);
      await new Promise((r) => setTimeout(r, 100)); // the logger writes asynchronously
      const lines = gw
        .logs()
        .slice(before)
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as { msg: string; level: number; cause?: { type?: string; message?: string; stack?: string }; requestId?: string; tool?: string });
      const internal = lines.filter((l) => l.msg.includes('INTERNAL_ERROR'));
      expect(internal).toHaveLength(1);
      const line = internal[0];
      expect(line?.level).toBe(50); // error
      expect(line?.tool).toBe('query');
      expect(line?.requestId).toMatch(/\S/);
      expect(line?.cause?.type).toBe('TypeError');
      expect(line?.cause?.message).toContain('cannot read property of row near');
      expect(line?.cause?.stack).toMatch(/\n\s+at /);
      // neither the statement's literal nor the one quoted in the error reaches the log
      expect(gw.logs().slice(before)).not.toContain(LITERAL);
    } finally {
      db.runRead = runRead;
    }
  });
});
