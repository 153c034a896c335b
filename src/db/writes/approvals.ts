/**
 * The durable approval queue: held writes wait here, in Postgres (`<schema>.approvals` of the
 * database they target), for an operator's decision — shared by every replica, surviving
 * restarts.
 *
 * Guarantees:
 * - Exactly-once approval across operators, processes and replicas: claiming is one
 *   `UPDATE … SET status = 'executing' WHERE status = 'pending' AND expires_at > now()`; only one
 *   caller can win it, and the executor turns `executing` into `executed` in the SAME
 *   transaction as the write (ExecuteWriteOptions.approvalId), so a write cannot run twice even
 *   if a status update after it is lost.
 * - Approval re-checks before it executes: the hooks re-validate the statement against the
 *   CURRENT policy (on a freshly loaded catalog), re-measure the blast radius and apply the
 *   thresholds in force; a grown radius (more rows than the figure held for approval), a radius
 *   the current thresholds block, or a failed re-validation refuses (status `refused`, nothing
 *   ran). The write then runs with allowedRows = the approved figure (the gateway lowers it to
 *   the block threshold in force).
 * - Expired approvals cannot be claimed (the claim checks expires_at in the database clock);
 *   sweep() marks them `expired`, and marks `executing` rows whose process died (older than
 *   staleExecutingMs) `failed` — their write never committed, because the commit would have
 *   marked them `executed`.
 * Does not: authenticate operators (the admin API and CLI do), or judge statements itself (the
 * hooks, wired by the gateway, do).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { GatewayError, isGatewayError } from '../../errors/gateway-error.js';
import { reason, type Reason } from '../../guard/reasons.js';
import { statementDigest } from './execute.js';
import type { WriteDatabase } from './session.js';
import type { Approval, ApprovalBlastRadius, ApprovalFilter, ApprovalHooks, ApprovalStatus, ApproveOutcome, NewApproval } from '../../shared/writes.js';

export {
  APPROVAL_STATUSES,
  type Approval,
  type ApprovalBlastRadius,
  type ApprovalFilter,
  type ApprovalHooks,
  type ApprovalStatus,
  type ApproveOutcome,
  type NewApproval,
} from '../../shared/writes.js';

interface ApprovalRow {
  approval_id: string;
  principal: string;
  database: string;
  sql: string;
  normalized_sql: string;
  digest: string;
  parameters: unknown[] | null;
  blast_radius: ApprovalBlastRadius;
  reasons: Reason[];
  status: ApprovalStatus;
  created_at: Date;
  expires_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  finished_at: Date | null;
  result: Record<string, unknown> | null;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

function fromRow(r: ApprovalRow): Approval {
  return {
    approvalId: r.approval_id,
    principal: r.principal,
    database: r.database,
    sql: r.sql,
    normalizedSql: r.normalized_sql,
    digest: r.digest,
    parameters: r.parameters,
    blastRadius: r.blast_radius,
    reasons: r.reasons,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    decidedBy: r.decided_by,
    decidedAt: iso(r.decided_at),
    note: r.decision_note,
    finishedAt: iso(r.finished_at),
    result: r.result,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

// ---------------------------------------------------------------------------------------------
// Per-database operations

export async function createApproval(db: WriteDatabase, input: NewApproval): Promise<Approval> {
  const ttl = Math.max(1, Math.floor(input.ttlMs));
  return await db.trusted(async (c) => {
    if (input.limits !== undefined) await assertPendingRoom(c, db, input, input.limits);
    const r = await c.query<ApprovalRow>(
      `INSERT INTO ${db.qualified('approvals')} (approval_id, principal, database, sql, normalized_sql, digest, parameters, blast_radius, reasons, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, clock_timestamp() + make_interval(secs => $10::float8 / 1000))
       RETURNING *`,
      [
        randomUUID(),
        input.principal,
        db.name,
        input.sql,
        input.normalizedSql,
        statementDigest(input.sql),
        input.parameters === undefined ? null : JSON.stringify(input.parameters),
        JSON.stringify(input.blastRadius),
        JSON.stringify(input.reasons),
        ttl,
      ],
    );
    return fromRow(r.rows[0] as ApprovalRow);
  });
}

/**
 * Refuse a new hold past the principal's pending limits (count and total statement bytes), in
 * this database. Holds of one principal serialize on a transaction-scoped advisory lock, so
 * concurrent holds cannot all pass the check; pending rows past their expiry do not count.
 */
async function assertPendingRoom(c: pg.PoolClient, db: WriteDatabase, input: NewApproval, limits: { maxPending: number; maxPendingBytes: number }): Promise<void> {
  await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('pgwarden.approvals:' || $1, 0))`, [input.principal]);
  const r = await c.query<{ n: string; bytes: string }>(
    `SELECT count(*)::text AS n, coalesce(sum(octet_length(sql)), 0)::text AS bytes FROM ${db.qualified('approvals')}
     WHERE principal = $1 AND status = 'pending' AND expires_at > clock_timestamp()`,
    [input.principal],
  );
  const n = Number(r.rows[0]?.n ?? 0);
  const bytes = Number(r.rows[0]?.bytes ?? 0);
  const size = Buffer.byteLength(input.sql, 'utf8');
  if (n >= limits.maxPending) {
    throw new GatewayError('PENDING_APPROVALS_LIMIT', `You already have ${n} held writes waiting for an operator in database ${db.name} (writes.max_pending_approvals: ${limits.maxPending}); nothing was held.`, { decision: 'block' });
  }
  if (bytes + size > limits.maxPendingBytes) {
    throw new GatewayError(
      'PENDING_APPROVALS_LIMIT',
      `Your held writes waiting for an operator in database ${db.name} would total ${bytes + size} bytes of statements (writes.max_pending_bytes: ${limits.maxPendingBytes}); nothing was held.`,
      { decision: 'block' },
    );
  }
}

export async function getApproval(db: WriteDatabase, approvalId: string): Promise<Approval | undefined> {
  if (!isUuid(approvalId)) return undefined;
  return await db.trusted(async (c) => {
    const r = await c.query<ApprovalRow>(`SELECT * FROM ${db.qualified('approvals')} WHERE approval_id = $1`, [approvalId]);
    return r.rows[0] === undefined ? undefined : fromRow(r.rows[0]);
  }, { readOnly: true });
}

export async function listApprovals(db: WriteDatabase, filter: ApprovalFilter = {}): Promise<Approval[]> {
  const limit = Math.min(1000, Math.max(1, Math.floor(filter.limit ?? 100)));
  return await db.trusted(async (c) => {
    const r = await c.query<ApprovalRow>(
      `SELECT * FROM ${db.qualified('approvals')}
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR principal = $2)
       ORDER BY created_at DESC LIMIT $3`,
      [filter.status ?? null, filter.principal ?? null, limit],
    );
    return r.rows.map(fromRow);
  }, { readOnly: true });
}

/** Why a claim or a rejection could not take the approval: the matching coded error. */
async function notClaimable(c: pg.PoolClient, db: WriteDatabase, approvalId: string): Promise<GatewayError> {
  const r = await c.query<{ status: ApprovalStatus; expired: boolean }>(
    `SELECT status, expires_at <= clock_timestamp() AS expired FROM ${db.qualified('approvals')} WHERE approval_id = $1`,
    [approvalId],
  );
  const row = r.rows[0];
  if (row === undefined) return new GatewayError('APPROVAL_NOT_FOUND', undefined, { decision: 'block' });
  if (row.status === 'expired' || (row.status === 'pending' && row.expired)) {
    return new GatewayError('APPROVAL_EXPIRED', `The held write ${approvalId} expired before it was approved; nothing ran.`, { decision: 'block' });
  }
  return new GatewayError('APPROVAL_NOT_PENDING', `The held write ${approvalId} is ${row.status}, not pending.`, { decision: 'block' });
}

/**
 * Take a pending, unexpired approval for execution (pending → executing), exactly once across
 * every caller. Throws APPROVAL_NOT_FOUND / APPROVAL_EXPIRED / APPROVAL_NOT_PENDING.
 */
export async function claimApproval(db: WriteDatabase, approvalId: string, operator: string): Promise<Approval> {
  if (!isUuid(approvalId)) throw new GatewayError('APPROVAL_NOT_FOUND', undefined, { decision: 'block' });
  return await db.trusted(async (c) => {
    const r = await c.query<ApprovalRow>(
      `UPDATE ${db.qualified('approvals')} SET status = 'executing', decided_by = $2, decided_at = clock_timestamp()
       WHERE approval_id = $1 AND status = 'pending' AND expires_at > clock_timestamp() RETURNING *`,
      [approvalId, operator],
    );
    if (r.rows[0] !== undefined) return fromRow(r.rows[0]);
    throw await notClaimable(c, db, approvalId);
  });
}

/** pending → rejected, with the operator's reason. */
export async function rejectApproval(db: WriteDatabase, approvalId: string, operator: string, note?: string): Promise<Approval> {
  if (!isUuid(approvalId)) throw new GatewayError('APPROVAL_NOT_FOUND', undefined, { decision: 'block' });
  return await db.trusted(async (c) => {
    const r = await c.query<ApprovalRow>(
      `UPDATE ${db.qualified('approvals')} SET status = 'rejected', decided_by = $2, decided_at = clock_timestamp(), finished_at = clock_timestamp(), decision_note = $3
       WHERE approval_id = $1 AND status = 'pending' AND expires_at > clock_timestamp() RETURNING *`,
      [approvalId, operator, note === undefined ? null : note.slice(0, 2000)],
    );
    if (r.rows[0] !== undefined) return fromRow(r.rows[0]);
    throw await notClaimable(c, db, approvalId);
  });
}

/** executing → executed / refused / failed; a no-op (returns the row as is) when it already left executing. */
export async function finishApproval(db: WriteDatabase, approvalId: string, status: 'executed' | 'refused' | 'failed', result: Record<string, unknown>): Promise<Approval | undefined> {
  return await db.trusted(async (c) => {
    const r = await c.query<ApprovalRow>(
      `UPDATE ${db.qualified('approvals')} SET status = $2, finished_at = clock_timestamp(), result = $3::jsonb
       WHERE approval_id = $1 AND status = 'executing' RETURNING *`,
      [approvalId, status, JSON.stringify(result)],
    );
    if (r.rows[0] !== undefined) return fromRow(r.rows[0]);
    const cur = await c.query<ApprovalRow>(`SELECT * FROM ${db.qualified('approvals')} WHERE approval_id = $1`, [approvalId]);
    return cur.rows[0] === undefined ? undefined : fromRow(cur.rows[0]);
  });
}

export interface SweepResult {
  expired: number;
  interrupted: number;
}

/** pending past expires_at → expired; executing for longer than staleExecutingMs → failed (INTERRUPTED). */
export async function sweepApprovals(db: WriteDatabase, staleExecutingMs: number): Promise<SweepResult> {
  return await db.trusted(async (c) => {
    const e = await c.query(`UPDATE ${db.qualified('approvals')} SET status = 'expired', finished_at = clock_timestamp() WHERE status = 'pending' AND expires_at <= clock_timestamp()`);
    const i = await c.query(
      `UPDATE ${db.qualified('approvals')} SET status = 'failed', finished_at = clock_timestamp(),
              result = jsonb_build_object('reasons', jsonb_build_array(jsonb_build_object('code', 'INTERNAL_ERROR', 'message', 'The approving process stopped before the write committed; nothing ran.', 'fix', 'Send the write again.')))
       WHERE status = 'executing' AND decided_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)`,
      [Math.max(1, staleExecutingMs)],
    );
    return { expired: e.rowCount ?? 0, interrupted: i.rowCount ?? 0 };
  });
}

// ---------------------------------------------------------------------------------------------
// The service the gateway, the admin API and the CLI share

export interface ApprovalServiceOptions {
  /** `executing` rows older than this are considered interrupted by sweep(). Default 15 minutes. */
  staleExecutingMs?: number;
}

function reasonsOf(err: unknown): Reason[] {
  return isGatewayError(err) ? err.reasons : [reason('INTERNAL_ERROR')];
}

export class ApprovalService {
  private readonly databases: ReadonlyMap<string, WriteDatabase>;
  private hooks: ApprovalHooks | undefined;
  private readonly staleExecutingMs: number;

  constructor(databases: ReadonlyMap<string, WriteDatabase> | readonly WriteDatabase[], hooks?: ApprovalHooks, options: ApprovalServiceOptions = {}) {
    this.databases = Array.isArray(databases) ? new Map((databases as readonly WriteDatabase[]).map((d) => [d.name, d])) : (databases as ReadonlyMap<string, WriteDatabase>);
    this.hooks = hooks;
    this.staleExecutingMs = options.staleExecutingMs ?? 15 * 60_000;
  }

  /** Plug in (or replace) the gateway's hooks; approve() refuses without them. */
  setHooks(hooks: ApprovalHooks): void {
    this.hooks = hooks;
  }

  get hasHooks(): boolean {
    return this.hooks !== undefined;
  }

  databaseNames(): string[] {
    return [...this.databases.keys()];
  }

  private database(name: string): WriteDatabase {
    const db = this.databases.get(name);
    if (db === undefined) throw new GatewayError('UNKNOWN_DATABASE', `No writable database named ${name} is configured.`, { decision: 'block' });
    return db;
  }

  /** Hold a write (status pending, expires after ttlMs). */
  create(database: string, input: NewApproval): Promise<Approval> {
    return createApproval(this.database(database), input);
  }

  /** The approval with this id, in whichever database holds it. */
  async get(approvalId: string): Promise<Approval | undefined> {
    for (const db of this.databases.values()) {
      const a = await getApproval(db, approvalId);
      if (a !== undefined) return a;
    }
    return undefined;
  }

  private async locate(approvalId: string): Promise<WriteDatabase> {
    const a = await this.get(approvalId);
    if (a === undefined) throw new GatewayError('APPROVAL_NOT_FOUND', undefined, { decision: 'block' });
    return this.database(a.database);
  }

  /** Newest first, across databases (expired ones are swept first). */
  async list(filter: ApprovalFilter = {}): Promise<Approval[]> {
    const dbs = filter.database !== undefined ? [this.database(filter.database)] : [...this.databases.values()];
    const out: Approval[] = [];
    for (const db of dbs) {
      await sweepApprovals(db, this.staleExecutingMs);
      out.push(...(await listApprovals(db, filter)));
    }
    out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return out.slice(0, Math.min(1000, Math.max(1, Math.floor(filter.limit ?? 100))));
  }

  /** The principal's pending approvals (for the status tool). */
  pendingFor(principal: string, database?: string): Promise<Approval[]> {
    return this.list({ principal, status: 'pending', ...(database !== undefined ? { database } : {}) });
  }

  /** Reject a pending approval. */
  async reject(approvalId: string, operator: string, note?: string): Promise<Approval> {
    return rejectApproval(await this.locate(approvalId), approvalId, operator, note);
  }

  /**
   * Approve: claim exactly once, re-validate, re-measure, execute with undo. Claim failures
   * throw (APPROVAL_NOT_FOUND / APPROVAL_EXPIRED / APPROVAL_NOT_PENDING); everything after the
   * claim is reported in the outcome (and recorded on the approval).
   */
  async approve(approvalId: string, operator: string): Promise<ApproveOutcome> {
    const hooks = this.hooks;
    if (hooks === undefined) throw new GatewayError('INTERNAL_ERROR', 'Approving needs the gateway runtime (approval hooks are not wired).');
    const db = await this.locate(approvalId);
    const approval = await claimApproval(db, approvalId, operator);
    const stop = async (status: 'refused' | 'failed', reasons: Reason[]): Promise<ApproveOutcome> => {
      const updated = await finishApproval(db, approvalId, status, { reasons });
      if (updated?.status === 'executed') {
        // The write committed although the caller saw an error (e.g. the connection dropped after COMMIT).
        const r = updated.result ?? {};
        return { status: 'executed', approval: updated, rowCount: Number(r.rowCount ?? 0), undoId: typeof r.undoId === 'string' ? r.undoId : null };
      }
      return { status, approval: updated ?? approval, reasons };
    };

    let verdict: Awaited<ReturnType<ApprovalHooks['revalidate']>>;
    try {
      verdict = await hooks.revalidate(approval);
    } catch (err) {
      return stop('failed', reasonsOf(err));
    }
    if (!verdict.ok) {
      return stop('refused', [reason('APPROVAL_RECHECK_FAILED', 'The held write no longer passes the current policy; nothing ran.'), ...verdict.reasons]);
    }

    const approvedRows = approval.blastRadius.rows;
    let rows: number | null;
    try {
      const measured = await hooks.measure(approval);
      rows = measured.rows;
      if (measured.reasons !== undefined && measured.reasons.length > 0) {
        return stop('refused', [reason('APPROVAL_RECHECK_FAILED', 'The held write exceeds the thresholds in force now; nothing ran.'), ...measured.reasons]);
      }
    } catch (err) {
      return stop('failed', reasonsOf(err));
    }
    if (approvedRows !== null && (rows === null || rows > approvedRows)) {
      return stop('refused', [
        reason(
          'APPROVAL_RECHECK_FAILED',
          rows === null
            ? `The blast radius can no longer be counted (it was ${approvedRows} rows when held); nothing ran.`
            : `The blast radius grew from ${approvedRows} to ${rows} rows since the write was held; nothing ran.`,
        ),
      ]);
    }

    let executed: { rowCount: number; undoId: string | null };
    try {
      executed = await hooks.execute(approval, { approvalId, ...(approvedRows !== null ? { allowedRows: approvedRows } : {}) });
    } catch (err) {
      return stop('failed', reasonsOf(err));
    }
    const result = { undoId: executed.undoId, rowCount: executed.rowCount };
    const updated = await finishApproval(db, approvalId, 'executed', result);
    return { status: 'executed', approval: updated ?? approval, ...result };
  }

  /** Expire overdue pending approvals and fail interrupted ones, in every database. */
  async sweep(): Promise<SweepResult> {
    const total: SweepResult = { expired: 0, interrupted: 0 };
    for (const db of this.databases.values()) {
      const r = await sweepApprovals(db, this.staleExecutingMs);
      total.expired += r.expired;
      total.interrupted += r.interrupted;
    }
    return total;
  }
}
