/**
 * Audit log: a tamper-evident NDJSON hash chain of every gateway decision, optionally keyed
 * (HMAC-SHA-256 under audit.hmac_key; docs/audit.md).
 */
export { createAuditSink, auditSinkProblem, auditFilePath, auditStartProblem, NullAuditSink } from './setup.js';
export { describeError, type AuditSink, type AuditSinkOptions } from './sink.js';
export { auditVerify, type VerifyResult, type VerifyBreak, type VerifyOptions, type VerifyFileSummary, type VerifyMode } from './verify.js';
export { AuditKey, AUDIT_HMAC_ALG, MIN_AUDIT_KEY_LENGTH } from './keyed.js';
export { auditStats, formatAuditStats, type AuditStatsResult } from './stats.js';
export { canonicalJson, recordHash, sha256Hex } from './canonical.js';
export { scrubSqlLiterals, scrubSecrets } from './scrub.js';
export {
  AUDIT_DECISIONS,
  GENESIS_PREV,
  type AuditDecision,
  type AuditEvent,
  type AuditRecord,
  type AuditLogger,
  type AuditSinkKind,
  type AuditSinkStats,
} from './types.js';
