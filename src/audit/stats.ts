/**
 * `pgwarden audit stats`: what the gateway decided, summarized from audit files.
 *
 * Does not verify the chain (run `audit verify` for that); lines that are not records are
 * counted as `invalid` and skipped.
 */
import { readLines } from './read.js';

export interface HeldSummary {
  rows: number;
  seq: number | null;
  ts: string | null;
  principal: string | null;
  database: string | null;
  fingerprint: string | null;
  request_id: string | null;
}

export interface PrincipalSummary {
  total: number;
  decisions: Record<string, number>;
}

export interface AuditStatsResult {
  files: number;
  records: number;
  invalid: number;
  firstTs: string | null;
  lastTs: string | null;
  /** Records that carry a statement (a kind, fingerprint or SQL text). */
  statements: number;
  /** Count per decision (allowed, blocked, held, approved, rejected, executed, reverted, failed, auth_failed, audit_gap). */
  decisions: Record<string, number>;
  blockedByReason: Record<string, number>;
  failedByReason: Record<string, number>;
  /** Observe mode: decisions computed but not enforced. */
  observed: number;
  /** Records the sink reported as dropped (sum of audit_gap.dropped). */
  dropped: number;
  /** The hold with the largest blast radius (blast_radius_rows). */
  largestHeld: HeldSummary | null;
  principals: Record<string, PrincipalSummary>;
}

const inc = (map: Record<string, number>, key: string, by = 1): void => {
  map[key] = (map[key] ?? 0) + by;
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export async function auditStats(files: readonly string[]): Promise<AuditStatsResult> {
  const out: AuditStatsResult = {
    files: files.length,
    records: 0,
    invalid: 0,
    firstTs: null,
    lastTs: null,
    statements: 0,
    decisions: {},
    blockedByReason: {},
    failedByReason: {},
    observed: 0,
    dropped: 0,
    largestHeld: null,
    principals: {},
  };
  for (const file of files) {
    for await (const { text } of readLines(file)) {
      if (text.length === 0) continue;
      let rec: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a record');
        rec = parsed as Record<string, unknown>;
      } catch {
        out.invalid += 1;
        continue;
      }
      const decision = str(rec.decision);
      if (decision === null) {
        out.invalid += 1;
        continue;
      }
      addRecord(out, rec, decision);
    }
  }
  return out;
}

function addRecord(out: AuditStatsResult, rec: Record<string, unknown>, decision: string): void {
  out.records += 1;
  inc(out.decisions, decision);
  const ts = str(rec.ts);
  if (ts !== null) {
    if (out.firstTs === null || ts < out.firstTs) out.firstTs = ts;
    if (out.lastTs === null || ts > out.lastTs) out.lastTs = ts;
  }
  if (decision === 'audit_gap') {
    out.dropped += num(rec.dropped) ?? 0;
    return;
  }
  if (str(rec.kind) !== null || str(rec.fingerprint) !== null || str(rec.sql) !== null) out.statements += 1;
  if (rec.observed === true) out.observed += 1;
  const reasons = Array.isArray(rec.reasons) ? rec.reasons.filter((r): r is string => typeof r === 'string') : [];
  if (decision === 'blocked') for (const r of reasons) inc(out.blockedByReason, r);
  if (decision === 'failed') for (const r of reasons) inc(out.failedByReason, r);
  if (decision === 'held') {
    const rows = num(rec.blast_radius_rows);
    if (rows !== null && (out.largestHeld === null || rows > out.largestHeld.rows)) {
      out.largestHeld = {
        rows,
        seq: num(rec.seq),
        ts,
        principal: str(rec.principal),
        database: str(rec.database),
        fingerprint: str(rec.fingerprint),
        request_id: str(rec.request_id),
      };
    }
  }
  const principal = str(rec.principal) ?? '(unauthenticated)';
  const p = (out.principals[principal] ??= { total: 0, decisions: {} });
  p.total += 1;
  inc(p.decisions, decision);
}

const ORDER = ['allowed', 'blocked', 'held', 'approved', 'rejected', 'executed', 'reverted', 'failed', 'auth_failed'] as const;

/** Human-readable summary. */
export function formatAuditStats(s: AuditStatsResult): string {
  const lines: string[] = [];
  const d = (k: string): number => s.decisions[k] ?? 0;
  lines.push(`records            ${s.records}${s.invalid ? `  (${s.invalid} invalid lines skipped)` : ''}`);
  if (s.firstTs) lines.push(`period             ${s.firstTs} … ${s.lastTs}`);
  lines.push(`statements guarded ${s.statements}`);
  for (const k of ORDER) lines.push(`${k.padEnd(19)}${d(k)}`);
  if (s.observed) lines.push(`observed (not enforced) ${s.observed}`);
  if (d('audit_gap') || s.dropped) lines.push(`audit gaps         ${d('audit_gap')} (${s.dropped} records dropped by the sink)`);
  const byReason = (title: string, m: Record<string, number>): void => {
    const entries = Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (entries.length === 0) return;
    lines.push('', title);
    for (const [code, n] of entries) lines.push(`  ${code.padEnd(28)}${n}`);
  };
  byReason('blocked by reason', s.blockedByReason);
  byReason('failed by reason', s.failedByReason);
  if (s.largestHeld) {
    const h = s.largestHeld;
    lines.push(
      '',
      `largest blast radius held back: ${h.rows} rows (seq ${h.seq ?? '?'}, ${h.principal ?? '?'} on ${h.database ?? '?'}, ${h.ts ?? '?'}${h.fingerprint ? `, fingerprint ${h.fingerprint}` : ''})`,
    );
  }
  const principals = Object.entries(s.principals).sort((a, b) => b[1].total - a[1].total || a[0].localeCompare(b[0]));
  if (principals.length > 0) {
    lines.push('', 'per principal');
    for (const [name, p] of principals) {
      const parts = ORDER.filter((k) => (p.decisions[k] ?? 0) > 0).map((k) => `${k} ${p.decisions[k]}`);
      lines.push(`  ${name.padEnd(24)}${String(p.total).padStart(6)}  ${parts.join(', ')}`);
    }
  }
  return lines.join('\n');
}
