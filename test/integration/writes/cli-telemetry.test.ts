/**
 * Short-lived commands start no telemetry listener (issue #10 item 13): with Prometheus on in the
 * shared configuration and its port held by the running gateway, `pgwarden approvals approve`
 * still runs the real gateway pipeline (runtime hooks) and records its decision in the same audit
 * file. On 344cc74 the command started the whole telemetry stack and failed with EADDRINUSE.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalsCommand } from '../../../src/cli/approvals.js';
import { auditVerify } from '../../../src/audit/verify.js';
import { parseConfig } from '../../../src/config/index.js';
import type { Config } from '../../../src/config/schema.js';
import { measureBlastRadius, WriteState } from '../../../src/db/writes/index.js';
import { reason } from '../../../src/guard/reasons.js';
import { deleteTickets, session, setupWriteDb, type WriteTestDb } from './helpers.js';

let w: WriteTestDb;
let config: Config;
let state: WriteState;
let held: Server;
let auditPath: string;

beforeAll(async () => {
  w = await setupWriteDb();
  held = createServer();
  await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
  const port = (held.address() as { port: number }).port;
  auditPath = path.join(mkdtempSync(path.join(tmpdir(), 'pgwarden-cli-tel-')), 'audit.ndjson');
  config = parseConfig(
    {
      audit: { path: auditPath, fsync: 'never' },
      telemetry: { prometheus: { enabled: true, host: '127.0.0.1', port } },
      databases: { demo: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      principals: { alice: { policy: 'writer' } },
      policies: { writer: { databases: { demo: { mode: 'read-write', schemas: ['app'] } } } },
    },
    { allowNoTokens: true },
  );
  state = WriteState.fromConfig(config);
}, 120_000);

afterAll(async () => {
  held?.close();
  await state?.end();
  await w?.end();
});

describe('short-lived commands and telemetry', () => {
  it('approvals approve runs through the gateway runtime while another process holds the Prometheus port', async () => {
    const a = await state.approvals.create('demo', {
      principal: 'alice',
      sql: 'DELETE FROM app.support_tickets WHERE id = 33',
      normalizedSql: 'DELETE FROM app.support_tickets WHERE id = $1',
      blastRadius: await measureBlastRadius(w.db, deleteTickets('t.id = 33'), { session }),
      reasons: [reason('HELD_FOR_APPROVAL')],
      ttlMs: 60_000,
    });
    let text = '';
    const code = await approvalsCommand(['approve', a.approvalId, '--operator', 'dana'], { config, out: (t) => (text += t) });
    expect(text).not.toContain('EADDRINUSE');
    expect(code).toBe(0);
    expect(text).toContain(`executed ${a.approvalId}`);
    const v = await auditVerify([auditPath]);
    expect(v).toMatchObject({ ok: true });
    expect(v.records).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
