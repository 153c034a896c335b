/**
 * Writes judge what PostgreSQL will actually run (issue #14 items 4-6), end to end over a real
 * PostgreSQL: triggers, auto-updatable views, rewrite rules and cascading foreign keys under
 * allow_irreversible may not write where the policy forbids (refused unless an operator trusts
 * the trigger or rule by name), and a trigger added after the catalog was loaded — between a hold
 * and its approval, or between two writes within the catalog TTL — is judged, not missed.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, codes, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { testDatabase } from '../../support/pg.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const LOOSE = 'pgw_effects_loose_0123456789abcdefghijklmno';
const TRUSTING = 'pgw_effects_trusting_0123456789abcdefghijkl';
const STRICT = 'pgw_effects_strict_0123456789abcdefghijklmn';

let w: WriteTestDb;
let gw: E2eGateway;

const secretLog = async (): Promise<string[]> => (await w.admin<{ v: string }>('SELECT v FROM internal.secret_log ORDER BY id')).map((r) => r.v);
const deniedRow = async (id: number): Promise<string | undefined> => (await w.admin<{ v: string }>('SELECT v FROM app.denied_w WHERE id = $1', [id]))[0]?.v;

const EXFIL_FN = `CREATE OR REPLACE FUNCTION app.exfil_fn() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
  BEGIN INSERT INTO internal.secret_log (v) VALUES (NEW.v); RETURN NEW; END $$;`;

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const g = pg.escapeIdentifier(testDatabase().gatewayRole);
  await w.admin(`
    CREATE TABLE internal.secret_log (id serial PRIMARY KEY, v text);
    ${EXFIL_FN}
    CREATE TABLE app.trig_tbl (id int PRIMARY KEY, v text);
    INSERT INTO app.trig_tbl VALUES (1, 'a'), (2, 'b');
    CREATE TRIGGER exfil AFTER UPDATE ON app.trig_tbl FOR EACH ROW EXECUTE FUNCTION app.exfil_fn();
    CREATE TABLE app.denied_w (id int PRIMARY KEY, v text);
    INSERT INTO app.denied_w VALUES (1, 'orig'), (2, 'orig');
    CREATE VIEW app.denied_view AS SELECT id, v FROM app.denied_w;
    CREATE TABLE app.rule_src (id int PRIMARY KEY, v text);
    INSERT INTO app.rule_src VALUES (1, 'r');
    CREATE RULE redirect AS ON UPDATE TO app.rule_src DO INSTEAD UPDATE app.denied_w SET v = NEW.v WHERE id = OLD.id;
    CREATE TABLE app.parent_c (id int PRIMARY KEY);
    CREATE TABLE app.child_c (id int PRIMARY KEY, parent_id int REFERENCES app.parent_c (id) ON DELETE CASCADE);
    INSERT INTO app.parent_c VALUES (1), (2);
    INSERT INTO app.child_c VALUES (1, 1), (2, 2);
    CREATE TABLE app.late_tbl (id int PRIMARY KEY, v text);
    INSERT INTO app.late_tbl SELECT g, 'v' FROM generate_series(1, 40) g;
    CREATE TABLE app.late2_tbl (id int PRIMARY KEY, v text);
    INSERT INTO app.late2_tbl SELECT g, 'v' FROM generate_series(1, 40) g;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO ${g};
  `);
  const base = { mode: 'read-write', schemas: ['app'], tables: { deny: ['internal.*'] } };
  const loose = { allow_irreversible: true, confirm_above_rows: 5, block_above_rows: 100, tables: { deny: ['app.denied_w', 'app.child_c'] } };
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      guard: { catalog_ttl_ms: 600_000 },
      databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      principals: {
        loose: { policy: 'loose', tokens: [{ token: LOOSE }] },
        trusting: { policy: 'trusting', tokens: [{ token: TRUSTING }] },
        strict: { policy: 'strict', tokens: [{ token: STRICT }] },
      },
      policies: {
        loose: { databases: { shop: { ...base, writes: loose } } },
        trusting: { databases: { shop: { ...base, writes: { ...loose, trusted_triggers: ['app.trig_tbl.exfil'], trusted_rules: ['app.rule_src.redirect'], tables: {} } } } },
        strict: { databases: { shop: { ...base, writes: { confirm_above_rows: 5, block_above_rows: 100 } } } },
      },
    }),
  });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

describe('triggers under allow_irreversible (item 5)', () => {
  it('a trigger that writes into a hidden table refuses the write; nothing reaches the hidden table', async () => {
    const c = await gw.connect('legacy', LOOSE);
    const out = await callTool(c, 'execute', { sql: "UPDATE app.trig_tbl SET v = 'exfil-v1' WHERE id = 1" });
    expect(out.isError).toBe(true);
    expect(codes(out)).toContain('WRITE_TRIGGER_UNTRUSTED');
    expect(JSON.stringify(out.structured.reasons)).toContain('app.trig_tbl.exfil');
    expect(await secretLog()).toEqual([]);
    expect((await w.admin<{ v: string }>('SELECT v FROM app.trig_tbl WHERE id = 1'))[0]?.v).toBe('a');
    // check shows the same verdict without running anything
    expect(codes(await callTool(c, 'check', { sql: "UPDATE app.trig_tbl SET v = 'exfil-v1' WHERE id = 1" }))).toContain('WRITE_TRIGGER_UNTRUSTED');
  });

  it('an operator can trust that trigger by name (writes.trusted_triggers); then it runs, irreversibly', async () => {
    const c = await gw.connect('legacy', TRUSTING);
    const out = await callTool(c, 'execute', { sql: "UPDATE app.trig_tbl SET v = 'trusted' WHERE id = 2" });
    expect(out.structured).toMatchObject({ decision: 'executed', rowCount: 1, undoId: null });
    expect(await secretLog()).toEqual(['trusted']);
  });
});

describe('views, rules and cascades under allow_irreversible (item 6)', () => {
  it('an auto-updatable view over a write-denied table is refused at the table actually written', async () => {
    const c = await gw.connect('legacy', LOOSE);
    const out = await callTool(c, 'execute', { sql: "UPDATE app.denied_view SET v = 'via view' WHERE id = 1" });
    expect(codes(out)).toContain('WRITE_TABLE_NOT_ALLOWED');
    expect(JSON.stringify(out.structured.reasons)).toContain('app.denied_w through the view');
    expect(await deniedRow(1)).toBe('orig');
  });

  it('a rule that redirects the write is refused unless trusted', async () => {
    const c = await gw.connect('legacy', LOOSE);
    const sql = "UPDATE app.rule_src SET v = 'via rule' WHERE id = 1";
    const out = await callTool(c, 'execute', { sql });
    expect(codes(out)).toContain('WRITE_RULE_UNTRUSTED');
    expect(JSON.stringify(out.structured.reasons)).toContain('app.rule_src.redirect');
    expect(await deniedRow(1)).toBe('orig');
    // trusted by name, the guard no longer objects to the rule (PostgreSQL itself refuses a DO
    // INSTEAD rule inside the executor's WITH … RETURNING, so the write still cannot land)
    const trusting = await gw.connect('legacy', TRUSTING);
    expect(codes(await callTool(trusting, 'check', { sql }))).not.toContain('WRITE_RULE_UNTRUSTED');
    await callTool(trusting, 'execute', { sql });
    expect(await deniedRow(1)).toBe('orig');
  });

  it('a cascading foreign key into a write-denied table is refused', async () => {
    const c = await gw.connect('legacy', LOOSE);
    const out = await callTool(c, 'execute', { sql: 'DELETE FROM app.parent_c WHERE id = 1' });
    expect(codes(out)).toContain('WRITE_TABLE_NOT_ALLOWED');
    expect(JSON.stringify(out.structured.reasons)).toContain('app.child_c through a cascading foreign key');
    expect(await w.admin('SELECT id FROM app.child_c ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('approval and every write judge the definitions in force (item 4)', () => {
  it('a trigger added between hold and approval refuses the approval; nothing fires', async () => {
    const c = await gw.connect('legacy', LOOSE);
    const held = await callTool(c, 'execute', { sql: "UPDATE app.late_tbl SET v = 'late' WHERE id BETWEEN 1 AND 15" });
    expect(held.structured).toMatchObject({ decision: 'hold', blastRadius: { rows: 15 } });
    await w.admin('CREATE TRIGGER late_exfil AFTER UPDATE ON app.late_tbl FOR EACH ROW EXECUTE FUNCTION app.exfil_fn()');
    const before = await secretLog();
    const outcome = await gw.runtime.writes?.approvals.approve(held.structured.approvalId as string, 'operator:test');
    expect(outcome?.status).toBe('refused');
    expect(JSON.stringify(outcome)).toContain('WRITE_TRIGGER_UNTRUSTED');
    expect(await secretLog()).toEqual(before);
    expect(await w.admin("SELECT count(*)::int AS n FROM app.late_tbl WHERE v = 'late'")).toEqual([{ n: 0 }]);
    await w.admin('DROP TRIGGER late_exfil ON app.late_tbl');
  });

  it('a trigger added within the catalog TTL is not missed: CATALOG_CHANGED, nothing ran, the retry is judged anew', async () => {
    const c = await gw.connect('legacy', STRICT);
    const first = await callTool(c, 'execute', { sql: "UPDATE app.late2_tbl SET v = 'one' WHERE id = 30" });
    expect(first.structured.decision).toBe('executed');
    await w.admin('CREATE TRIGGER late_exfil2 AFTER UPDATE ON app.late2_tbl FOR EACH ROW EXECUTE FUNCTION app.exfil_fn()');
    const before = await secretLog();
    const second = await callTool(c, 'execute', { sql: "UPDATE app.late2_tbl SET v = 'two' WHERE id = 31" });
    expect(second.isError).toBe(true);
    expect(codes(second)).toEqual(['CATALOG_CHANGED']);
    expect(await secretLog()).toEqual(before);
    expect(await w.admin('SELECT v FROM app.late2_tbl WHERE id = 31')).toEqual([{ v: 'v' }]);
    // judged anew: the trigger makes it irreversible under this policy
    expect(codes(await callTool(c, 'execute', { sql: "UPDATE app.late2_tbl SET v = 'two' WHERE id = 31" }))).toContain('NOT_REVERSIBLE');
    await w.admin('DROP TRIGGER late_exfil2 ON app.late2_tbl');
  });
});
