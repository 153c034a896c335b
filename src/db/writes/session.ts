/**
 * WriteDatabase: the gateway's write-capable connection to one configured database, and the
 * hardened read-write session the executor, revert and the approval queue run in.
 *
 * Guarantees:
 * - writeHardeningSql() is the read path's hardening (src/db/read.ts hardeningSql: statement,
 *   lock and idle timeouts, pinned search_path, optional SET LOCAL ROLE and principal setting),
 *   sent as ONE trusted simple-protocol string, but opening `BEGIN READ WRITE`.
 * - transaction() always ends the transaction it opened: COMMIT when the callback resolves,
 *   ROLLBACK when it throws; a connection whose state is unknown (failed ROLLBACK, lost
 *   connection) is destroyed, never returned to the pool. Errors come out as GatewayErrors
 *   with sanitized messages (src/db/errors.ts).
 * - Gateway-owned tables are always addressed schema-qualified (qualified()), and trusted SQL
 *   runs with `search_path = pg_catalog` (trustedSession()), so nothing an agent can create
 *   shadows the functions the gateway calls.
 * Does not: decide whether a statement may run (the guard does), or send agent text anywhere
 * but over the extended protocol (callers pass agent SQL only as a query text with a values
 * array, never inside these trusted strings).
 */
import '../pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import type { DatabaseConfig } from '../../config/schema.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { toGatewayError, unavailableReason } from '../errors.js';
import { connectionConfig } from '../pool.js';
import { hardeningSql } from '../read.js';
import type { WriteSessionOptions } from '../../shared/writes.js';

export type { WriteSessionOptions } from '../../shared/writes.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** `BEGIN READ WRITE; SET LOCAL …` as one string: the read path's hardening, not read-only. */
export function writeHardeningSql(options: WriteSessionOptions): string {
  const readOnly = hardeningSql(options);
  const prefix = 'BEGIN READ ONLY';
  if (!readOnly.startsWith(prefix)) throw new GatewayError('INTERNAL_ERROR', 'Unexpected session hardening text.');
  return `BEGIN READ WRITE${readOnly.slice(prefix.length)}`;
}

/** Trusted-session settings for gateway SQL inside a write transaction (after the agent's statement). */
export const TRUSTED_SESSION_SQL = 'SET LOCAL ROLE NONE; SET LOCAL search_path = pg_catalog';

export interface WriteDatabaseOptions {
  /** The configured database name (journal and approval rows record it). */
  name: string;
  /** Schema of pgwarden's tables (config journal.schema). Default `pgwarden`. */
  schema?: string;
}

export class WriteDatabase {
  readonly name: string;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private ended = false;

  /** Use an existing pool (it is not closed by end()). */
  constructor(pool: pg.Pool, options: WriteDatabaseOptions, ownsPool = false) {
    const schema = options.schema ?? 'pgwarden';
    if (!SCHEMA_NAME.test(schema)) throw new GatewayError('INTERNAL_ERROR', 'Invalid journal schema name.');
    this.name = options.name;
    this.schema = schema;
    this.pool = pool;
    this.ownsPool = ownsPool;
  }

  /**
   * A pool of its own for this database's writes, built from the database's configuration
   * (same DSN, TLS and application_name as the read pool), at most `max` connections.
   */
  static fromConfig(name: string, config: DatabaseConfig, options: { schema?: string; max?: number } = {}): WriteDatabase {
    const cfg = connectionConfig(config);
    const pool = new pg.Pool({ ...cfg, max: options.max ?? Math.max(2, Math.min(4, config.pool.max)) });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    return new WriteDatabase(pool, { name, ...(options.schema !== undefined ? { schema: options.schema } : {}) }, true);
  }

  /** `"schema"."table"` for one of pgwarden's tables. */
  qualified(table: 'journal' | 'approvals' | 'confirmations' | 'schema_version'): string {
    return `${pg.escapeIdentifier(this.schema)}.${pg.escapeIdentifier(table)}`;
  }

  async connect(): Promise<pg.PoolClient> {
    if (this.ended) throw new GatewayError('SHUTTING_DOWN', 'The gateway is shutting down.');
    try {
      return await this.pool.connect();
    } catch (err) {
      throw toGatewayError(err);
    }
  }

  /**
   * Run `fn` inside a transaction opened with `begin` (a trusted string: writeHardeningSql(),
   * or 'BEGIN' plus settings). COMMIT on success, ROLLBACK (or destroy) on failure.
   * `beforeCommit` runs last inside the transaction (test hooks).
   */
  async transaction<T>(begin: string, fn: (client: pg.PoolClient) => Promise<T>, options: { beforeCommit?: () => Promise<void> } = {}): Promise<T> {
    const client = await this.connect();
    let phase: 'begin' | 'body' | 'commit' = 'begin';
    try {
      await client.query(begin);
      phase = 'body';
      const result = await fn(client);
      if (options.beforeCommit !== undefined) await options.beforeCommit();
      phase = 'commit';
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      if (phase === 'commit' || unavailableReason(err) !== undefined) {
        client.release(err instanceof Error ? err : new Error('connection state unknown'));
        if (phase === 'commit' && !(err instanceof GatewayError)) {
          const mapped = toGatewayError(err);
          throw new GatewayError(mapped.code, `${mapped.message} The outcome of COMMIT is unknown; check the journal before retrying.`, {
            details: mapped.details,
            cause: err,
          });
        }
      } else {
        try {
          await client.query('ROLLBACK');
          client.release();
        } catch (rollbackErr) {
          client.release(rollbackErr instanceof Error ? rollbackErr : new Error('rollback failed'));
        }
      }
      throw toGatewayError(err);
    }
  }

  /** A short trusted transaction for gateway bookkeeping (approvals, journal reads). */
  trusted<T>(fn: (client: pg.PoolClient) => Promise<T>, options: { timeoutMs?: number; readOnly?: boolean } = {}): Promise<T> {
    const timeout = Math.max(1, Math.floor(options.timeoutMs ?? 10_000));
    return this.transaction(
      `BEGIN${options.readOnly === true ? ' READ ONLY' : ''}; SET LOCAL statement_timeout = ${timeout}; SET LOCAL lock_timeout = ${timeout}; SET LOCAL search_path = pg_catalog`,
      fn,
    );
  }

  /** Close the pool if this object created it (idempotent). */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.ownsPool) await this.pool.end();
  }
}

/**
 * A query config for agent-derived SQL: always the extended protocol (Parse/Bind/Execute: one
 * statement only), even without parameters — pg would otherwise use the simple protocol, where
 * a second statement in the text runs.
 */
export function extendedQuery(text: string, values: readonly unknown[] = []): pg.QueryConfig {
  // `queryMode` is honoured by pg (lib/query.js requiresPreparation) but missing from @types/pg.
  const config: pg.QueryConfig & { queryMode: 'extended' } = { text, values: [...values], queryMode: 'extended' };
  return config;
}
