/**
 * `pgwarden approvals list|show|approve|reject`: the operator's side of the approval queue, run
 * on a trusted host with the gateway's configuration (it connects to the databases directly).
 *
 *   pgwarden approvals list    [--config F] [--status S] [--database DB] [--principal P] [--limit N] [--json]
 *   pgwarden approvals show    ID [--config F] [--json]
 *   pgwarden approvals approve ID [--config F] [--operator NAME] [--json]
 *   pgwarden approvals reject  ID [--config F] [--operator NAME] [--reason TEXT] [--json]
 *
 * Guarantees: approve runs the same path as the admin API and every replica (ApprovalService:
 * exactly-once claim, re-validation with the CURRENT configuration, re-measurement, execution
 * with undo) — the hooks come from the gateway runtime, never a shortcut. Decisions are recorded
 * as `operator:<name>` (default: the OS user, `<user>@cli`); a rejection is written to the audit log
 * like the admin API's (src/core/operator-actions.ts).
 * Exit codes: 0 done, 2 refused (not found, not pending, expired, re-check failed), 1 error.
 * Does not: print tokens or DSNs; the exact statement is printed by `show` only.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/index.js';
import { isGatewayError } from '../errors/gateway-error.js';
import { APPROVAL_STATUSES, WriteState, type Approval, type ApprovalHooks, type ApprovalStatus } from '../db/writes/index.js';
import { auditedReject } from '../core/operator-actions.js';
import type { AuditPort } from '../core/ports.js';

export interface ApprovalHooksProvider {
  (config: Config, writes: WriteState): Promise<{ hooks: ApprovalHooks; close(): Promise<void> }>;
}

export interface ApprovalsCliDeps {
  /** Where the approve hooks come from. Default: runtimeHooks (the gateway runtime). */
  hooks?: ApprovalHooksProvider;
  /** Output (default process.stdout). */
  out?: (text: string) => void;
  /** Use this configuration instead of loading --config (tests). */
  config?: Config;
  /** Where reject and revert are audited. Default: the configuration's audit log (openAudit). */
  audit?: AuditPort;
}

/** The audit log operator commands record into: the given one (tests) or the configured one. */
export async function operatorAudit(config: Config, deps: Pick<ApprovalsCliDeps, 'audit'>): Promise<AuditPort> {
  if (deps.audit !== undefined) return { ...deps.audit, close: async () => undefined };
  const { openAudit } = await import('../app/runtime.js');
  const { createLogger } = await import('../log/logger.js');
  return openAudit(config, createLogger('silent'));
}

/**
 * Default hook provider: build the gateway runtime (src/app/runtime.ts createRuntime) and use
 * what it exposes for approvals — `runtime.approvalHooks` (ApprovalHooks), or
 * `runtime.writes.approvals` hooks through a WriteState the runtime owns.
 */
export const runtimeHooks: ApprovalHooksProvider = async (config) => {
  const { createRuntime } = await import('../app/runtime.js');
  const { createLogger } = await import('../log/logger.js');
  // a short-lived command: no telemetry listener (the running gateway may hold the Prometheus port)
  const runtime = await createRuntime(config, createLogger('silent'), { verifyTools: false, telemetry: false });
  const exposed = runtime as unknown as { approvalHooks?: ApprovalHooks };
  if (exposed.approvalHooks === undefined) {
    await runtime.gateway.shutdown(0);
    throw new Error('this build of pgwarden cannot approve from the CLI: the gateway runtime exposes no approval hooks (use the admin API)');
  }
  return { hooks: exposed.approvalHooks, close: () => runtime.gateway.shutdown(0) };
};

export function defaultOperator(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `${user}@cli`;
}

const short = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function line(a: Approval): string {
  const rows = a.blastRadius.rows === null ? '?' : String(a.blastRadius.rows);
  return [a.approvalId, a.status.padEnd(9), a.database, a.principal, `rows=${rows}`, `created=${a.createdAt}`, `expires=${a.expiresAt}`, short(a.normalizedSql.replace(/\s+/g, ' '), 80)].join('  ');
}

function details(a: Approval): string {
  const out = [
    `approval  ${a.approvalId}`,
    `status    ${a.status}`,
    `database  ${a.database}`,
    `principal ${a.principal}`,
    `rows      ${a.blastRadius.rows ?? 'uncountable'}${a.blastRadius.tableEstimate != null ? ` of ~${a.blastRadius.tableEstimate}` : ''}${a.blastRadius.share != null ? ` (${(Number(a.blastRadius.share) * 100).toFixed(2)} %)` : ''}`,
    `created   ${a.createdAt}`,
    `expires   ${a.expiresAt}`,
    `digest    ${a.digest}`,
    `reasons   ${a.reasons.map((r) => r.code).join(', ') || '-'}`,
    `statement ${a.sql}`,
  ];
  if (a.parameters !== null) out.push(`params    ${JSON.stringify(a.parameters)}`);
  if (a.decidedBy !== null) out.push(`decided   ${a.decidedBy} at ${a.decidedAt ?? '?'}${a.note !== null ? ` — ${a.note}` : ''}`);
  if (a.result !== null) out.push(`result    ${JSON.stringify(a.result)}`);
  return out.join('\n');
}

const REFUSALS = new Set(['APPROVAL_NOT_FOUND', 'APPROVAL_NOT_PENDING', 'APPROVAL_EXPIRED', 'APPROVAL_RECHECK_FAILED', 'UNKNOWN_DATABASE', 'UNDO_NOT_FOUND', 'UNDO_CONFLICT', 'UNDO_ALREADY_REVERTED']);

/** Print a GatewayError as `CODE: message` (+ fix); returns the exit code. */
export function reportError(err: unknown, out: (text: string) => void, json: boolean): number {
  if (!isGatewayError(err)) throw err;
  const r = err.reasons[0];
  const conflicts = (err as { conflicts?: unknown }).conflicts;
  if (json) out(`${JSON.stringify({ error: { code: err.code, message: r?.message, fix: r?.fix, ...(Array.isArray(conflicts) ? { conflicts } : {}) } }, null, 2)}\n`);
  else out(`${err.code}: ${r?.message ?? ''}\n  fix: ${r?.fix ?? ''}\n`);
  return REFUSALS.has(err.code) ? 2 : 1;
}

export async function approvalsCommand(argv: string[], deps: ApprovalsCliDeps = {}): Promise<number> {
  const [sub, ...rest] = argv;
  const out = deps.out ?? ((t: string) => void process.stdout.write(t));
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      status: { type: 'string' },
      database: { type: 'string', short: 'd' },
      principal: { type: 'string', short: 'p' },
      limit: { type: 'string' },
      operator: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (sub === undefined || !['list', 'show', 'approve', 'reject'].includes(sub)) {
    throw new Error('usage: pgwarden approvals list|show|approve|reject [ID] [--config FILE] (see pgwarden --help)');
  }
  const json = values.json === true;
  const config = deps.config ?? (await loadConfig({ path: values.config ?? process.env.PGWARDEN_CONFIG, env: process.env, allowNoTokens: true }));
  const writes = WriteState.fromConfig(config);
  if (writes.databases.size === 0) {
    await writes.end();
    throw new Error('no database is writable under this configuration (no policy with mode: read-write)');
  }
  const operator = `operator:${values.operator ?? defaultOperator()}`;
  let close: (() => Promise<void>) | undefined;
  try {
    if (sub === 'list') {
      const status = values.status as ApprovalStatus | undefined;
      if (status !== undefined && !APPROVAL_STATUSES.includes(status)) throw new Error(`--status must be one of ${APPROVAL_STATUSES.join(', ')}`);
      const limit = values.limit === undefined ? undefined : Number.parseInt(values.limit, 10);
      const list = await writes.approvals.list({
        ...(status !== undefined ? { status } : {}),
        ...(values.database !== undefined ? { database: values.database } : {}),
        ...(values.principal !== undefined ? { principal: values.principal } : {}),
        ...(limit !== undefined && Number.isFinite(limit) ? { limit } : {}),
      });
      if (json) out(`${JSON.stringify(list.map(({ sql: _sql, ...rest }) => rest), null, 2)}\n`);
      else out(list.length === 0 ? 'no approvals\n' : `${list.map(line).join('\n')}\n`);
      return 0;
    }
    const id = positionals[0];
    if (id === undefined) throw new Error(`usage: pgwarden approvals ${sub} ID`);
    if (sub === 'show') {
      const a = await writes.approvals.get(id);
      if (a === undefined) {
        out(json ? `${JSON.stringify({ error: { code: 'APPROVAL_NOT_FOUND' } })}\n` : `APPROVAL_NOT_FOUND: no held write has the id ${id}\n`);
        return 2;
      }
      out(json ? `${JSON.stringify(a, null, 2)}\n` : `${details(a)}\n`);
      return 0;
    }
    if (sub === 'reject') {
      const audit = await operatorAudit(config, deps);
      close = () => audit.close();
      const a = await auditedReject(audit, writes, id, operator, values.reason);
      out(json ? `${JSON.stringify(a, null, 2)}\n` : `rejected ${a.approvalId} as ${operator}\n`);
      return 0;
    }
    const provider = deps.hooks ?? runtimeHooks;
    const provided = await provider(config, writes);
    close = provided.close;
    writes.approvals.setHooks(provided.hooks);
    const outcome = await writes.approvals.approve(id, operator);
    if (json) out(`${JSON.stringify(outcome, null, 2)}\n`);
    else if (outcome.status === 'executed') out(`executed ${id}: ${outcome.rowCount} rows, undo id ${outcome.undoId ?? '(none: irreversible)'}\n`);
    else out(`${outcome.status} ${id}:\n${outcome.reasons.map((r) => `  ${r.code}: ${r.message}`).join('\n')}\n`);
    return outcome.status === 'executed' ? 0 : outcome.status === 'refused' ? 2 : 1;
  } catch (err) {
    return reportError(err, out, json);
  } finally {
    await close?.();
    await writes.end();
  }
}
