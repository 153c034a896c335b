import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditSchema, type AuditConfig } from '../../../src/config/schema.js';
import type { AuditDecision, AuditEvent, AuditLogger } from '../../../src/audit/types.js';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pgwarden-audit-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function auditConfig(overrides: Partial<AuditConfig> = {}): AuditConfig {
  return auditSchema.parse({ fsync: 'never', ...overrides });
}

export interface CapturedLog {
  level: 'warn' | 'error' | 'info';
  obj: object;
  msg: string | undefined;
}

export function captureLogger(): AuditLogger & { entries: CapturedLog[] } {
  const entries: CapturedLog[] = [];
  return {
    entries,
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
    info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
  };
}

export async function waitFor(pred: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function readRecords(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function sampleEvent(decision: AuditDecision, i: number): AuditEvent {
  return {
    decision,
    request_id: `req-${decision}-${i}`,
    principal: i % 2 === 0 ? 'alice' : 'bob',
    client: '127.0.0.1',
    tool: decision === 'held' || decision === 'executed' ? 'execute' : 'query',
    database: 'demo',
    reasons: decision === 'blocked' ? ['DENIED_TABLE'] : decision === 'failed' ? ['STATEMENT_TIMEOUT'] : [],
    kind: decision === 'auth_failed' ? null : 'read',
    relations: ['app.customers'],
    fingerprint: 'a1b2c3d4e5f60718',
    normalized_sql: 'SELECT id FROM app.customers WHERE id = $1',
    rows: i,
    duration_ms: 1.5 + i,
    observed: false,
    ...(decision === 'held' ? { blast_radius_rows: 100 + i, approval_id: `appr-${i}` } : {}),
    ...(decision === 'executed' ? { undo_id: `undo-${i}` } : {}),
  };
}

/** audit.hmac_key values for tests (at least 32 characters). */
export const KEY = 'k3y-for-tests-0123456789abcdefghijklmnop';
export const OTHER_KEY = 'another-key-0123456789abcdefghijklmnopqr';
