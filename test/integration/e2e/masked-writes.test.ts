/**
 * Writes under masks end to end (issue #9 items 1, 2, 7): a real MCP client → execute against a
 * real PostgreSQL (a scratch demo database plus test/corpus/masked-writes/extra-schema.sql), as
 * policy `writer` of that corpus (masks on app.customers and app.orders, customers writable).
 *
 * For every corpus case:
 * - block: refused with its codes before anything is measured (no blast radius in the answer) and
 *   the database is unchanged (0 executed);
 * - hold: held, database unchanged;
 * - allow: executed, then reverted by its undo id (database back to its digest);
 * - no answer carries a raw masked value (0 leaked), and no executed write stores one in a column
 *   the policy leaves readable.
 * Plus the red team's exact sequences: the stored whole row, the rowCount oracle on an SSN prefix
 * (true and false guesses give the same answer), and the foreign-key membership oracle.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWriteCorpus, loadWritePolicy, extraSchemaSql } from '../../corpus/writes/index.js';
import { callTool, codes, startE2eGateway, type E2eGateway, type ToolCallOutcome } from '../../support/gateway.js';
import { testDatabase } from '../../support/pg.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';
import pg from 'pg';

const DIR = fileURLToPath(new URL('../../corpus/masked-writes', import.meta.url));
const CASES = loadWriteCorpus(DIR);
const WRITER = 'pgw_masked_writer_e2e_0123456789abcdefghijkl';
const HASH_KEY = 'masked-writes-e2e-key-0123456789';

let w: WriteTestDb;
let gw: E2eGateway;
/** Raw masked values (≥ 6 characters) that no answer may carry. */
let raw: string[] = [];
let shared: Awaited<ReturnType<E2eGateway['connect']>> | undefined;

/** A digest of every row of every table in app (the gateway's journal lives in another schema). */
async function digest(): Promise<string> {
  const tables = await w.admin<{ t: string }>("SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'app' ORDER BY 1");
  const parts = tables.map((t) => `SELECT '${t.t}' || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS d FROM ${t.t} x`);
  const rows = await w.admin<{ d: string }>(parts.join(' UNION ALL '));
  return rows.map((r) => r.d).join(',');
}

/** Text of every column the policy leaves readable, across app (to find raw values stored there). */
async function readableText(): Promise<string> {
  const rows = await w.admin<{ v: string }>(
    `SELECT string_agg(v, '|') AS v FROM (
       SELECT concat_ws('|', id, country, city, profile::text) AS v FROM app.customers
       UNION ALL SELECT concat_ws('|', id, customer_id, status) FROM app.orders
       UNION ALL SELECT concat_ws('|', id, subject, body) FROM app.support_tickets
       UNION ALL SELECT concat_ws('|', id, email, topic) FROM app.newsletter
       UNION ALL SELECT concat_ws('|', id, club, nick) FROM app.members) s`,
  );
  return rows[0]?.v ?? '';
}

function leaked(out: ToolCallOutcome): string[] {
  const text = `${out.text}\n${JSON.stringify(out.structured)}`;
  return raw.filter((v) => text.includes(v));
}

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const t = testDatabase();
  await w.admin(extraSchemaSql(DIR));
  await w.admin(`GRANT SELECT, INSERT, UPDATE, DELETE ON app.newsletter, app.members TO ${pg.escapeIdentifier(t.gatewayRole)}`);
  const pii = await w.admin<{ v: string }>(
    `SELECT DISTINCT v FROM (SELECT unnest(ARRAY[email, phone, ssn, full_name]) AS v FROM app.customers
                             UNION ALL SELECT shipping_address FROM app.orders) s WHERE length(v) >= 6`,
  );
  raw = pii.map((r) => r.v);
  expect(raw.length).toBeGreaterThan(500);
  const wp = loadWritePolicy(DIR);
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      masking: { hash_key: HASH_KEY },
      databases: { shop: { url: w.scratch.gatewayUrl, search_path: wp.searchPath } },
      principals: { writer: { policy: 'writer', tokens: [{ token: WRITER }] } },
      policies: { writer: { databases: { shop: wp.policy } } },
    }),
  });
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

describe('masked-writes corpus through the MCP client (0 executed, 0 leaked)', () => {
  for (const c of CASES) {
    it(`${c.expect} ${c.id}: ${c.why}`, async () => {
      shared ??= await gw.connect('modern', WRITER);
      const client = shared;
      const before = await digest();
      const readableBefore = await readableText();
      const out = await callTool(client, 'execute', { sql: c.sql });
      expect(leaked(out)).toEqual([]);
      if (c.expect === 'block') {
        expect(out.isError, out.text.slice(0, 300)).toBe(true);
        expect(out.structured.decision).toBe('block');
        for (const code of c.codes) expect(codes(out)).toContain(code);
        expect(out.structured.blastRadius, 'refused before anything was measured').toBeUndefined();
        expect(await digest()).toBe(before);
        return;
      }
      if (c.expect === 'hold') {
        expect(out.structured.decision, out.text.slice(0, 300)).toBe('hold');
        expect(await digest()).toBe(before);
        return;
      }
      expect(out.isError, out.text.slice(0, 400)).toBe(false);
      expect(out.structured.decision).toBe('executed');
      const stored = await readableText();
      const newly = raw.filter((v) => stored.includes(v) && !readableBefore.includes(v));
      expect(newly, 'raw masked values stored where the agent can read them').toEqual([]);
      const undo = await callTool(client, 'revert', { undoId: out.structured.undoId as string });
      expect(undo.isError, undo.text.slice(0, 300)).toBe(false);
      expect(await digest()).toBe(before);
    });
  }
});

describe('the red team sequences (issue #9 item 1, 2)', () => {
  const ssn = async (id: number): Promise<string> => (await w.admin<{ s: string }>('SELECT ssn AS s FROM app.customers WHERE id = $1', [id]))[0]?.s ?? '';
  const answer = (out: ToolCallOutcome): string => JSON.stringify({ ...out.structured, requestId: undefined });

  it('UPDATE … SET full_name = (c.*)::text is refused and the masked read stays masked', async () => {
    const client = await gw.connect('legacy', WRITER);
    const out = await callTool(client, 'execute', { sql: 'UPDATE ONLY app.customers c SET full_name = (c.*)::text WHERE c.id = 5' });
    expect(codes(out)).toContain('MASKED_COLUMN_WRITE');
    const read = await callTool(client, 'query', { sql: 'SELECT full_name, city FROM app.customers WHERE id = 5' });
    expect(read.isError).toBe(false);
    expect(leaked(read)).toEqual([]);
  });

  it('the SSN-prefix rowCount oracle gives the same answer for a right and a wrong guess', async () => {
    const client = await gw.connect('modern', WRITER);
    const s = await ssn(2);
    expect(s.length).toBeGreaterThan(4);
    const probe = (prefix: string): string => `UPDATE app.customers c SET city = city WHERE c.id = 2 AND (c.*)::text LIKE '%,${prefix}%'`;
    const right = await callTool(client, 'execute', { sql: probe(s.slice(0, 4)) });
    const wrong = await callTool(client, 'execute', { sql: probe('zzzz') });
    expect(right.isError).toBe(true);
    expect(answer(right).replace(/zzzz|[0-9-]{4}/g, '')).toBe(answer(wrong).replace(/zzzz|[0-9-]{4}/g, ''));
  });

  it('a foreign key into a masked e-mail is no membership oracle: a subscribed and an unknown address get the same refusal', async () => {
    const client = await gw.connect('modern', WRITER);
    const email = (await w.admin<{ e: string }>('SELECT email AS e FROM app.customers WHERE id = 10'))[0]?.e ?? '';
    const known = await callTool(client, 'execute', { sql: `INSERT INTO app.newsletter (id, email) VALUES (950, '${email}')` });
    const unknown = await callTool(client, 'execute', { sql: "INSERT INTO app.newsletter (id, email) VALUES (950, 'nobody@nowhere.test')" });
    expect(codes(known)).toEqual(['MASKED_CONSTRAINT']);
    expect(answer(known)).toBe(answer(unknown));
  });
});
