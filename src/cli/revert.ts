/**
 * `pgwarden revert UNDO_ID [--config F] [--operator NAME] [--json]`: undo a recorded write as an
 * operator, on a trusted host (direct database connection with the gateway's configuration).
 *
 * Guarantees: the same revert as the tool and the admin API (src/db/writes/revert.ts): one
 * transaction, conflict-checked against the after-images, at most once, journaled as
 * `operator:<name>`, and audited like the admin API's revert (src/core/operator-actions.ts: an
 * `allowed` record written durably before it runs, then its outcome). Exit codes: 0 reverted, 2 refused (UNDO_NOT_FOUND, UNDO_CONFLICT with the
 * changed keys, UNDO_ALREADY_REVERTED), 1 error.
 * Does not: print row values (only primary keys of conflicting rows).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { WriteState } from '../db/writes/index.js';
import { auditedRevert } from '../core/operator-actions.js';
import type { AuditPort } from '../core/ports.js';
import { defaultOperator, operatorAudit, reportError, type ApprovalsCliDeps } from './approvals.js';

export async function revertCommand(argv: string[], deps: Pick<ApprovalsCliDeps, 'out' | 'config' | 'audit'> = {}): Promise<number> {
  const out = deps.out ?? ((t: string) => void process.stdout.write(t));
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, operator: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const undoId = positionals[0];
  if (undoId === undefined || positionals.length > 1) throw new Error('usage: pgwarden revert UNDO_ID [--config FILE] [--operator NAME]');
  const json = values.json === true;
  const config = deps.config ?? (await loadConfig({ path: values.config ?? process.env.PGWARDEN_CONFIG, env: process.env, allowNoTokens: true }));
  const writes = WriteState.fromConfig(config);
  let audit: AuditPort | undefined;
  try {
    const by = `operator:${values.operator ?? defaultOperator()}`;
    audit = await operatorAudit(config, deps);
    const r = await auditedRevert(audit, writes, undoId, by);
    out(json ? `${JSON.stringify(r, null, 2)}\n` : `reverted ${r.undoId} on ${r.database}: ${r.rowCount} rows of ${r.table} restored (revert recorded as ${r.revertUndoId})\n`);
    return 0;
  } catch (err) {
    return reportError(err, out, json);
  } finally {
    await audit?.close();
    await writes.end();
  }
}
