/**
 * What one principal may do on one database, resolved from the config: the policy entry,
 * limits (policy over database over DEFAULT_LIMITS), visible schemas, pinned search_path.
 *
 * Guarantees: a principal whose policy does not list a database gets `policy: undefined`
 * (the guard refuses); limits are always complete numbers.
 * Does not: judge statements (src/guard does).
 */
import {
  DEFAULT_LIMITS,
  type Config,
  type DatabaseConfig,
  type DatabasePolicy,
  type Limits,
  type ResolvedLimits,
} from './schema.js';

/** Policy limits override database limits, which override DEFAULT_LIMITS, key by key. */
export function resolveLimits(database: Pick<DatabaseConfig, 'limits'> | undefined, policy?: Pick<DatabasePolicy, 'limits'>): ResolvedLimits {
  const pick = (k: keyof Limits): number => policy?.limits[k] ?? database?.limits[k] ?? DEFAULT_LIMITS[k];
  return {
    max_rows: pick('max_rows'),
    max_bytes: pick('max_bytes'),
    statement_timeout_ms: pick('statement_timeout_ms'),
    lock_timeout_ms: pick('lock_timeout_ms'),
    idle_in_transaction_timeout_ms: pick('idle_in_transaction_timeout_ms'),
  };
}

export interface EffectivePolicy {
  principal: string;
  policyName: string;
  databaseName: string;
  database: DatabaseConfig;
  /** The policy's entry for this database; undefined when the policy does not reach it. */
  policy: DatabasePolicy | undefined;
  observe: boolean;
  searchPath: readonly string[];
  /** Schemas the principal may see: the policy's `schemas`, or the database's search_path when empty. */
  schemas: readonly string[];
  limits: ResolvedLimits;
}

/** The principal's effective policy on a database; undefined when the principal or database is unknown. */
export function effectivePolicy(config: Config, principalName: string, databaseName: string): EffectivePolicy | undefined {
  const principal = Object.hasOwn(config.principals, principalName) ? config.principals[principalName] : undefined;
  const database = Object.hasOwn(config.databases, databaseName) ? config.databases[databaseName] : undefined;
  if (!principal || !database) return undefined;
  const policyDef = Object.hasOwn(config.policies, principal.policy) ? config.policies[principal.policy] : undefined;
  const policy = policyDef && Object.hasOwn(policyDef.databases, databaseName) ? policyDef.databases[databaseName] : undefined;
  return {
    principal: principalName,
    policyName: principal.policy,
    databaseName,
    database,
    policy,
    observe: policyDef?.observe ?? false,
    searchPath: database.search_path,
    schemas: policy && policy.schemas.length > 0 ? policy.schemas : database.search_path,
    limits: resolveLimits(database, policy),
  };
}

/** Databases the principal's policy reaches (that also exist), in config order. */
export function reachableDatabases(config: Config, principalName: string): string[] {
  const principal = Object.hasOwn(config.principals, principalName) ? config.principals[principalName] : undefined;
  if (!principal) return [];
  const policyDef = Object.hasOwn(config.policies, principal.policy) ? config.policies[principal.policy] : undefined;
  if (!policyDef) return [];
  return Object.keys(config.databases).filter((db) => Object.hasOwn(policyDef.databases, db));
}
