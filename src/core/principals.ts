/**
 * Principal → policy → per-database view, resolved once per configuration load.
 *
 * Guarantees: a principal reaches exactly the databases its policy lists and that exist in the
 * configuration; tools are enabled per database by the policy's switches and mode. Nothing
 * here grants access by default: an unknown principal resolves to nothing.
 */
import type { Config, DatabasePolicy, ResolvedLimits } from '../config/schema.js';
import { DEFAULT_LIMITS } from '../config/schema.js';
import type { ToolName } from '../guard/types.js';

export interface PrincipalView {
  name: string;
  policyName: string;
  observe: boolean;
  /** Databases this principal may reach, in configuration order (the first is the default). */
  databases: string[];
}

export function resolvePrincipal(config: Config, principal: string): PrincipalView | undefined {
  const p = config.principals[principal];
  if (!p) return undefined;
  const policy = config.policies[p.policy];
  if (!policy) return undefined;
  const databases = Object.keys(config.databases).filter((db) => policy.databases[db] !== undefined);
  return { name: principal, policyName: p.policy, observe: policy.observe, databases };
}

export function databasePolicy(config: Config, principal: string, database: string): DatabasePolicy | undefined {
  const p = config.principals[principal];
  if (!p) return undefined;
  return config.policies[p.policy]?.databases[database];
}

/** Effective limits: policy over database over defaults. */
export function effectiveLimits(config: Config, database: string, policy: DatabasePolicy | undefined): ResolvedLimits {
  const db = config.databases[database]?.limits ?? {};
  const pol = policy?.limits ?? {};
  return {
    max_rows: pol.max_rows ?? db.max_rows ?? DEFAULT_LIMITS.max_rows,
    max_bytes: pol.max_bytes ?? db.max_bytes ?? DEFAULT_LIMITS.max_bytes,
    statement_timeout_ms: pol.statement_timeout_ms ?? db.statement_timeout_ms ?? DEFAULT_LIMITS.statement_timeout_ms,
    lock_timeout_ms: pol.lock_timeout_ms ?? db.lock_timeout_ms ?? DEFAULT_LIMITS.lock_timeout_ms,
    idle_in_transaction_timeout_ms:
      pol.idle_in_transaction_timeout_ms ?? db.idle_in_transaction_timeout_ms ?? DEFAULT_LIMITS.idle_in_transaction_timeout_ms,
  };
}

/** Whether a tool is enabled for the principal on a database (policy switch and mode). */
export function toolEnabled(policy: DatabasePolicy | undefined, tool: ToolName): boolean {
  if (!policy) return false;
  if (tool === 'status') return true;
  if ((tool === 'execute' || tool === 'revert') && policy.mode !== 'read-write') return false;
  return policy.tools[tool];
}

/** Tools the principal can use on at least one database. */
export function toolsForPrincipal(config: Config, principal: string): Set<ToolName> {
  const view = resolvePrincipal(config, principal);
  const out = new Set<ToolName>(['status']);
  if (!view) return out;
  const all: ToolName[] = ['query', 'explain', 'describe', 'check', 'execute', 'revert'];
  for (const db of view.databases) {
    const pol = databasePolicy(config, principal, db);
    for (const t of all) if (toolEnabled(pol, t)) out.add(t);
  }
  return out;
}
