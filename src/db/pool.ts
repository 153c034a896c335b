/**
 * DatabasePool: one configured database — a pg.Pool plus the hardened read path.
 *
 * Guarantees:
 * - Every agent statement runs on one pooled connection inside `BEGIN READ ONLY` with
 *   statement/lock/idle timeouts, a pinned search_path and optionally a local role and a
 *   principal setting (applied by one prepared set_config statement, read.ts; BEGIN READ ONLY and
 *   ROLLBACK are prepared too, so a warm connection parses only the agent's statement; all
 *   unnamed and parsed every call once the server lost a prepared one, e.g. behind a
 *   transaction-pooling proxy: a read that found BEGIN or the settings missing never ran its
 *   statement and is retried once; one that found ROLLBACK missing fails, its connection dropped). Hardening, the
 *   agent's statement and ROLLBACK travel as ONE extended-protocol pipeline before one Sync
 *   (CappedQuery), written in one socket write: one round trip. Each statement is
 *   its own Parse, so a second statement in the agent's text cannot run; after any error the
 *   server discards the rest of the pipeline, so a failed hardening step means the agent's
 *   statement never runs.
 * - Rows are capped at the protocol level (max_rows + 1 through the portal) and by bytes as they
 *   arrive (max_bytes of DataRow messages, capped-query.ts; a row past it is never read, the
 *   statement is cancelled and the connection dropped), then by their JSON size; every row is
 *   charged to the gateway-wide byte budget first (budget.ts): RESULT_BUDGET_EXHAUSTED when it
 *   stays full for server.result_budget_wait_ms.
 * - The transaction always ends with ROLLBACK; a connection whose state is unknown (failed
 *   ROLLBACK, lost connection, cancel sent) is destroyed, never returned to the pool.
 * - Aborting `signal` (or `cancel`) sends a CancelRequest for the backend and destroys the connection.
 * - Errors are GatewayErrors with sanitized messages (src/db/errors.ts); pool and client
 *   'error' events are handled, so a dead idle connection cannot crash the process.
 * Does not: decide whether a statement may run (the guard does), mask values, or retry a
 * statement once it was sent (only a failed session set-up on a stale connection is retried).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'node:tls';
import './pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import type { DatabaseConfig } from '../config/schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import { cancelTargetOf, sendCancelRequest } from './cancel.js';
import { toGatewayError, unavailableReason } from './errors.js';
import { capRows, readClosingSteps, readHardeningSteps } from './read.js';
import type { ColumnInfo, ReadOptions, ReadResult } from '../shared/reads.js';
import { resultBudget, type ResultBudget } from '../shared/budget.js';
import { CappedQuery, MAX_OTHER_MESSAGE_BYTES } from './capped-query.js';
import { STATEMENT_CACHE_MAX, statementCacheOf, type StatementCache, type StatementUse } from './statement-cache.js';
import { BUILTIN_TYPE_NAMES, resultTypes } from './values.js';

export type { ReadOptions, ReadResult } from '../shared/reads.js';

export interface DatabasePoolOptions {
  /** The configured database name (for diagnostics). */
  name?: string;
  /** Called with a GatewayError when an idle connection fails (logged by the caller). */
  onError?: (err: GatewayError) => void;
  /** How long a ready() answer is reused. Default 1500 ms. */
  readyCacheMs?: number;
  /** Upper bound for one ready() check. Default 2000 ms. */
  readyTimeoutMs?: number;
  /**
   * Called when the database becomes unreachable (with the sanitized cause) or reachable again —
   * once per change, so the operator log gets one line per outage, not one per call or probe.
   */
  onReachability?: (reachable: boolean, cause?: GatewayError) => void;
  /** Statements the read path keeps prepared per connection (statement-cache.ts); 0 turns the cache off. Default STATEMENT_CACHE_MAX. */
  statementCache?: number;
  /** The byte budget shared by every read (default: the process-wide one, budget.ts). */
  budget?: ResultBudget;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  activeReads: number;
}

/** Grace period after a CancelRequest before the connection is torn down regardless. */
const CANCEL_GRACE_MS = 2_000;

type TlsMode = DatabaseConfig['tls']['mode'];

function pemOrFile(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

/**
 * Session settings sent in every connection's startup packet, so they take precedence over
 * ALTER ROLE/DATABASE defaults and postgresql.conf: the server lexes string literals the way the
 * guard's parser does (with standard_conforming_strings off, a backslash before a quote would end
 * a literal somewhere else than the guard saw; the guard also refuses such literals outright,
 * AMBIGUOUS_STRING_LITERAL). Agents cannot change session settings (the guard refuses SET).
 */
export const STARTUP_OPTIONS = '-c standard_conforming_strings=on';

/**
 * Connection settings for pg. The tls block decides; ssl* parameters in the URL are removed
 * (pg would let them override our settings) and only used when tls.mode is 'disable':
 * sslmode=require → require, verify-ca/verify-full → verify-full; prefer/allow/disable → disable.
 */
export function connectionConfig(config: DatabaseConfig): pg.PoolConfig {
  let connectionString = config.url;
  let urlMode: TlsMode = 'disable';
  try {
    const url = new URL(config.url);
    const sslmode = url.searchParams.get('sslmode');
    if (sslmode === 'require') urlMode = 'require';
    else if (sslmode === 'verify-ca' || sslmode === 'verify-full') urlMode = 'verify-full';
    for (const key of ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey', 'sslnegotiation', 'uselibpqcompat']) url.searchParams.delete(key);
    // The URL's own startup options (pg lets them replace ours) keep theirs, ours come last and win.
    const own = url.searchParams.get('options');
    url.searchParams.set('options', own ? `${own} ${STARTUP_OPTIONS}` : STARTUP_OPTIONS);
    connectionString = url.toString();
  } catch {
    // Not a URL (pg also accepts other forms); leave it to pg.
  }
  const mode: TlsMode = config.tls.mode !== 'disable' ? config.tls.mode : urlMode;
  let ssl: pg.PoolConfig['ssl'] = false;
  if (mode !== 'disable') {
    const tls: ConnectionOptions = { rejectUnauthorized: mode === 'verify-full' };
    const ca = pemOrFile(config.tls.ca);
    const cert = pemOrFile(config.tls.cert);
    const key = pemOrFile(config.tls.key);
    if (ca !== undefined) tls.ca = ca;
    if (cert !== undefined) tls.cert = cert;
    if (key !== undefined) tls.key = key;
    ssl = tls;
  }
  return {
    connectionString,
    ssl,
    max: config.pool.max,
    idleTimeoutMillis: config.pool.idle_timeout_ms,
    connectionTimeoutMillis: config.pool.connection_timeout_ms,
    application_name: config.application_name,
    // for connection strings that are not URLs (pg applies the string's own options over this)
    options: STARTUP_OPTIONS,
    keepAlive: true,
  };
}

/**
 * Cancellation of one read: fired by the caller's signal or by shutdown(). A plain listener list
 * rather than an AbortController (an EventTarget with its own maps), allocated on every read.
 */
class ReadCancel {
  aborted = false;
  private listeners: (() => void)[] = [];

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  /** Call `listener` once on abort (now, if already aborted). */
  on(listener: () => void): void {
    if (this.aborted) listener();
    else this.listeners.push(listener);
  }

  off(listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }
}

interface ActiveRead {
  cancel: ReadCancel;
  done: Promise<unknown>;
}

function abortError(): GatewayError {
  return new GatewayError('QUERY_CANCELED', 'The statement was cancelled because the request was aborted.');
}

export class DatabasePool {
  readonly name: string;
  readonly config: DatabaseConfig;
  private readonly pool: pg.Pool;
  private readonly options: DatabasePoolOptions;
  private readonly budget: ResultBudget;
  private readonly active = new Set<ActiveRead>();
  private readonly typeNames = new Map<number, string>(BUILTIN_TYPE_NAMES);
  private closing = false;
  private ended = false;
  /** The pipeline's trusted statements as named prepared ones; false after the server lost one (see readOnce). */
  private preparedHardening = true;
  private readyCache: { at: number; value: boolean } | undefined;
  private readyInFlight: Promise<boolean> | undefined;
  /** Last known reachability (undefined: not known yet), for onReachability. */
  private reachable: boolean | undefined;

  constructor(config: DatabaseConfig, options: DatabasePoolOptions = {}) {
    this.config = config;
    this.options = options;
    this.budget = options.budget ?? resultBudget;
    this.name = options.name ?? 'default';
    this.pool = new pg.Pool(connectionConfig(config));
    // An idle client that dies (server restart, network) emits on the pool: handle it.
    this.pool.on('error', (err) => this.options.onError?.(toGatewayError(err)));
    // A checked-out client has no pool listener: give every client its own, once.
    this.pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
  }

  get searchPath(): readonly string[] {
    return this.config.search_path;
  }

  stats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount, activeReads: this.active.size };
  }

  /**
   * Whether a connection can be checked out and answers SELECT 1 — cached for a short time and
   * bounded by its own timeout, so probes cannot pile up on a dead database.
   */
  async ready(): Promise<boolean> {
    if (this.closing) return false;
    const cacheMs = this.options.readyCacheMs ?? 1_500;
    if (this.readyCache !== undefined && performance.now() - this.readyCache.at < cacheMs) return this.readyCache.value;
    if (this.readyInFlight !== undefined) return await this.readyInFlight;
    this.readyInFlight = this.checkReady().then((value) => {
      this.readyCache = { at: performance.now(), value };
      this.readyInFlight = undefined;
      return value;
    });
    return await this.readyInFlight;
  }

  /** Record reachability; report changes once (see onReachability). */
  private noteReachable(reachable: boolean, cause?: GatewayError): void {
    const before = this.reachable;
    if (before === reachable) return;
    this.reachable = reachable;
    if (reachable && before === undefined) return; // first contact: nothing to report
    this.options.onReachability?.(reachable, cause);
  }

  /** Every connection the pool may open is checked out: a checkout now waits for one to return. */
  private saturated(): boolean {
    return this.pool.totalCount >= this.config.pool.max && this.pool.idleCount === 0;
  }

  /**
   * Readiness means "the database can be reached". A full pool is busy, not down: then probe with a
   * connection of its own (outside the pool), so a burst of long queries does not take a healthy
   * replica out of the load balancer.
   */
  private async checkReady(): Promise<boolean> {
    if (this.saturated()) return this.checkReadyOutsidePool();
    return this.checkReadyInPool();
  }

  private async checkReadyOutsidePool(): Promise<boolean> {
    const timeoutMs = this.options.readyTimeoutMs ?? 2_000;
    const { max: _max, idleTimeoutMillis: _idle, ...clientConfig } = connectionConfig(this.config);
    const client = new pg.Client({ ...clientConfig, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      this.noteReachable(true);
      return true;
    } catch (err) {
      this.noteReachable(false, toGatewayError(err));
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async checkReadyInPool(): Promise<boolean> {
    const timeoutMs = this.options.readyTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const attempt = (async (): Promise<boolean> => {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        this.noteReachable(false, toGatewayError(err));
        return false;
      }
      if (timedOut) {
        client.release();
        return false;
      }
      try {
        await client.query('SELECT 1');
        if (timedOut) client.release(new Error('ready check timed out'));
        else client.release();
        this.noteReachable(true);
        return true;
      } catch (err) {
        this.noteReachable(false, toGatewayError(err));
        client.release(err instanceof Error ? err : new Error('ready check failed'));
        return false;
      }
    })();
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve(false);
      }, timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Run one read statement through the hardened path (see the module header). */
  async runRead(options: ReadOptions): Promise<ReadResult> {
    if (this.closing) throw new GatewayError('SHUTTING_DOWN', 'The gateway is shutting down.');
    if (options.signal?.aborted === true || options.cancel?.aborted === true) throw abortError();
    const cancel = new ReadCancel();
    const forward = (): void => cancel.abort();
    options.signal?.addEventListener('abort', forward, { once: true });
    options.cancel?.on(forward);
    const done = this.readWithRetry(options, cancel);
    const entry: ActiveRead = { cancel, done };
    this.active.add(entry);
    try {
      const result = await done;
      this.noteReachable(true);
      return result;
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'DATABASE_UNAVAILABLE') this.noteReachable(false, err);
      throw err;
    } finally {
      this.active.delete(entry);
      options.signal?.removeEventListener('abort', forward);
      options.cancel?.off(forward);
    }
  }

  private async readWithRetry(options: ReadOptions, signal: ReadCancel): Promise<ReadResult> {
    try {
      return await this.readOnce(options, signal);
    } catch (err) {
      // A stale pooled connection (server restarted) fails during set-up, before the agent's
      // statement was sent: one retry on a fresh connection is safe.
      if (err instanceof RetryableSetupError && !signal.aborted) {
        try {
          return await this.readOnce(options, signal, err.cached);
        } catch (again) {
          // the retry fails the same way during a restart: its error is a GatewayError too
          throw again instanceof RetryableSetupError ? again.gatewayError : again;
        }
      }
      throw err instanceof RetryableSetupError ? err.gatewayError : err;
    }
  }

  private checkout(signal: ReadCancel): Promise<pg.PoolClient> {
    const full = this.saturated();
    const pending = this.pool.connect();
    return new Promise<pg.PoolClient>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        // If the connection arrives after the abort, give it straight back.
        pending.then((c) => c.release(), () => undefined);
        reject(abortError());
      };
      signal.on(onAbort);
      pending.then(
        (client) => {
          signal.off(onAbort);
          if (settled) return; // aborted first: released above
          settled = true;
          resolve(client);
        },
        (err: unknown) => {
          signal.off(onAbort);
          if (settled) return;
          settled = true;
          reject(full && !signal.aborted && poolTimeout(err) ? poolExhausted(this.config.pool.max, err) : toGatewayError(err, { aborted: signal.aborted }));
        },
      );
    });
  }

  /**
   * The read's use of the connection's statement cache (undefined only when the pool has none).
   * Every read goes through it, kept or not (EXPLAIN, a retry, the cache turned off, a long text:
   * the unnamed statement), so another owner's read always closes the previous owner's statements.
   */
  private statementUse(client: pg.PoolClient, options: ReadOptions, cached: boolean): { cache: StatementCache; use: StatementUse } | undefined {
    const max = this.options.statementCache ?? STATEMENT_CACHE_MAX;
    if (max <= 0) return undefined;
    const cache = statementCacheOf(client, max);
    return { cache, use: cache.use(options, options.sql, cached && this.preparedHardening && options.explain === undefined) };
  }

  private async readOnce(options: ReadOptions, signal: ReadCancel, cached = true): Promise<ReadResult> {
    const started = performance.now();
    const client = await this.checkout(signal);
    const named = this.statementUse(client, options, cached);
    let released = false;
    let cancelSent = false;
    const destroy = (err: unknown): void => {
      if (released) return;
      released = true;
      client.release(err instanceof Error ? err : new Error('connection discarded'));
    };
    const onAbort = (): void => {
      cancelSent = true;
      const target = cancelTargetOf(client);
      void (target !== undefined ? sendCancelRequest(target) : Promise.resolve(false)).then(() => {
        setTimeout(() => destroy(new Error('cancelled')), CANCEL_GRACE_MS).unref();
      });
    };
    signal.on(onAbort);
    const prefix = options.explain !== undefined ? `EXPLAIN (FORMAT JSON${options.explain.analyze ? ', ANALYZE true' : ''}) ` : '';
    // An EXPLAIN's one row (the plan) is bounded by max_bytes like any row.
    const limits = options.explain !== undefined ? { max_rows: 1, max_bytes: options.limits.max_bytes } : options.limits;
    // Rows are charged to the gateway-wide budget as they arrive (budget.ts); released with the
    // HTTP response that carries them, or when this read fails.
    const lease = this.budget.lease(options.budgetScope);
    let stopped = false;
    // One round trip: hardening, the capped statement and ROLLBACK in one extended-protocol
    // pipeline (see capped-query.ts for why a failed hardening step can never let it run).
    const query = new CappedQuery(prefix + options.sql, options.params, limits.max_rows + 1, {
      before: readHardeningSteps(options, { prepared: this.preparedHardening }),
      after: readClosingSteps({ prepared: this.preparedHardening }),
      types: resultTypes,
      maxRowBytes: limits.max_bytes,
      lease,
      ...(named !== undefined ? { statement: named.use } : {}),
      // Past the byte cap or the budget the rest is never read: cancel the statement and drop the
      // connection (it is left mid-message, so it cannot be reused).
      onStop: () => {
        stopped = true;
        const target = cancelTargetOf(client);
        if (target !== undefined) void sendCancelRequest(target);
        destroySocket(client);
        destroy(new Error('read stopped at the byte cap'));
      },
    });
    let pipelineOk = false;
    try {
      void client.query(query);
      const received = await query.done;
      if (received.stopped === 'budget') throw budgetExhausted(this.budget);
      if (received.stopped === 'message') {
        throw new GatewayError('RESULT_TOO_LARGE', `The database answered with a message larger than ${MAX_OTHER_MESSAGE_BYTES} bytes (e.g. an error quoting a huge value); it was not read.`);
      }
      pipelineOk = !stopped; // the pipeline's ROLLBACK ran: the connection is idle again
      named?.cache.settle(named.use, true);
      const fetched = capRows(received, limits);
      // every type known (the steady state): no await, no extra microtask turn
      const columns = this.knownColumnTypes(fetched.fields) ?? (await this.columnTypes(stopped ? undefined : client, fetched.fields));
      if (signal.aborted || cancelSent) throw abortError();
      if (!released) {
        released = true;
        client.release();
      }
      lease.releaseUnlessScoped();
      const result: ReadResult = {
        columns,
        rows: fetched.rows,
        rowCount: fetched.rows.length,
        truncated: fetched.truncated,
        elapsedMs: Math.round((performance.now() - started) * 1000) / 1000,
      };
      if (fetched.truncatedBy !== undefined) result.truncatedBy = fetched.truncatedBy;
      if (options.explain !== undefined) result.plan = fetched.rows[0]?.[0];
      return result;
    } catch (err) {
      lease.release();
      const aborted = signal.aborted || cancelSent;
      if (stopped) throw err instanceof GatewayError ? err : toGatewayError(err);
      // Settled once: a read whose pipeline succeeded (pipelineOk) was settled above, whatever failed after.
      const stale = named !== undefined && !pipelineOk && this.staleStatement(named, query.failedAt, query.statementBound, err);
      if (aborted || unavailableReason(err) !== undefined || query.failedAt === 'after') {
        destroy(err);
      } else if (pipelineOk) {
        if (!released) {
          released = true;
          client.release();
        }
      } else {
        await this.rollbackOrDestroy(client, () => released, (v) => (released = v));
      }
      if (query.failedAt === 'after' && sqlstateIs(err, '26000')) {
        // The prepared ROLLBACK was missing (the connection is destroyed above): the statement ran,
        // so no retry; parse the trusted statements every time from now on.
        this.preparedHardening = false;
      }
      if (query.failedAt === 'before' && !aborted && sqlstateIs(err, '26000') && this.preparedHardening) {
        // The prepared settings statement was missing on the server connection: something between
        // us and the server (a transaction-pooling proxy) does not keep named statements, or it
        // was dropped. The statement never ran (fail closed); parse the settings every time from
        // now on and retry this read once.
        this.preparedHardening = false;
        throw new RetryableSetupError(toGatewayError(err));
      }
      // A cached statement PostgreSQL refused at Bind, before it ran: retried once, unnamed (as without the cache).
      if (stale && !aborted) throw new RetryableSetupError(toGatewayError(err), false);
      const mapped = toGatewayError(err, { aborted, positionOffset: query.failedAt === 'statement' ? prefix.length : 0 });
      // A pooled connection that was already dead answers nothing: retry once on a fresh one.
      if (!query.receivedAny && !aborted && mapped.code === 'DATABASE_UNAVAILABLE') throw new RetryableSetupError(mapped);
      throw mapped;
    } finally {
      signal.off(onAbort);
    }
  }

  /**
   * After a failed pipeline: settle the read's statement-cache use, and whether it failed because
   * its cached statement is stale (0A000 `cached plan must not change result type`, after DDL) or
   * gone (26000; then the server does not keep named statements: the cache and the prepared
   * hardening are turned off). Both are raised at Bind, before the statement ran.
   */
  private staleStatement(named: { cache: StatementCache; use: StatementUse }, failedAt: string | undefined, bound: boolean, err: unknown): boolean {
    const { cache, use } = named;
    // Only the Bind's own refusal: the same codes raised while the statement ran (a NaN cast to
    // integer is 0A000, a function may raise 26000) are its outcome, never a reason to run it again.
    if (use.parse || bound || failedAt !== 'statement' || !(sqlstateIs(err, '0A000') || sqlstateIs(err, '26000'))) {
      cache.settle(use, false);
      return false;
    }
    cache.settle(use, false);
    cache.drop(use);
    if (sqlstateIs(err, '26000')) this.preparedHardening = false;
    return true;
  }

  private async rollbackOrDestroy(client: pg.PoolClient, isReleased: () => boolean, setReleased: (v: boolean) => void): Promise<void> {
    if (isReleased()) return;
    try {
      await client.query('ROLLBACK');
      setReleased(true);
      client.release();
    } catch (rollbackErr) {
      setReleased(true);
      client.release(rollbackErr instanceof Error ? rollbackErr : new Error('rollback failed'));
    }
  }

  /** Type names for the result's columns when every OID is known already, else undefined. */
  private knownColumnTypes(fields: { name: string; dataTypeID: number }[]): ColumnInfo[] | undefined {
    const columns: ColumnInfo[] = [];
    for (const f of fields) {
      const type = this.typeNames.get(f.dataTypeID);
      if (type === undefined) return undefined;
      columns.push({ name: f.name, type });
    }
    return columns;
  }

  /**
   * Type names for the result's columns; unknown OIDs are looked up once, on the same connection
   * (or on any pooled one when the read's connection was dropped).
   */
  private async columnTypes(client: pg.PoolClient | undefined, fields: { name: string; dataTypeID: number }[]): Promise<ColumnInfo[]> {
    const missing = [...new Set(fields.map((f) => f.dataTypeID).filter((oid) => !this.typeNames.has(oid)))];
    if (missing.length > 0) {
      const sql = 'SELECT oid::int8::float8 AS oid, format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])';
      const r = client !== undefined ? await client.query<{ oid: number; name: string }>(sql, [missing]) : await this.pool.query<{ oid: number; name: string }>(sql, [missing]).catch((err: unknown) => {
        throw toGatewayError(err);
      });
      for (const row of r.rows) this.typeNames.set(Number(row.oid), row.name);
    }
    return fields.map((f) => ({ name: f.name, type: this.typeNames.get(f.dataTypeID) ?? `oid:${f.dataTypeID}` }));
  }

  /**
   * Run trusted gateway SQL (catalog, describe) in a read-only transaction with a statement
   * timeout. Never pass agent text here.
   */
  async withTrustedRead<T>(fn: (client: pg.PoolClient) => Promise<T>, options: { timeoutMs?: number; repeatableRead?: boolean } = {}): Promise<T> {
    if (this.closing) throw new GatewayError('SHUTTING_DOWN', 'The gateway is shutting down.');
    let client: pg.PoolClient;
    const full = this.saturated();
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw full && poolTimeout(err) ? poolExhausted(this.config.pool.max, err) : toGatewayError(err);
    }
    try {
      const timeout = Math.max(1, Math.floor(options.timeoutMs ?? 10_000));
      await client.query(`BEGIN${options.repeatableRead === true ? ' ISOLATION LEVEL REPEATABLE READ' : ''} READ ONLY; SET LOCAL statement_timeout = ${timeout}; SET LOCAL search_path = pg_catalog`);
      const result = await fn(client);
      await client.query('ROLLBACK');
      client.release();
      return result;
    } catch (err) {
      if (unavailableReason(err) !== undefined) client.release(err instanceof Error ? err : new Error('connection lost'));
      else {
        let released = false;
        await this.rollbackOrDestroy(client, () => released, (v) => (released = v));
      }
      throw toGatewayError(err);
    }
  }

  /**
   * Stop taking reads, let in-flight ones finish for up to `graceMs`, cancel the rest (their
   * callers get QUERY_CANCELED), then close every connection.
   */
  async shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.closing = true;
    const graceMs = options.graceMs ?? 0;
    if (this.active.size > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.active].map((a) => a.done)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const read of this.active) read.cancel.abort();
    await Promise.allSettled([...this.active].map((a) => a.done));
    await this.end();
  }

  /** Close the pool (idempotent). Prefer shutdown(), which cancels in-flight reads first. */
  async end(): Promise<void> {
    this.closing = true;
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

/** Tear down a connection's socket at once (client.end() would keep reading what is in flight). */
function destroySocket(client: pg.PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
}

function budgetExhausted(budget: ResultBudget): GatewayError {
  return new GatewayError(
    'RESULT_BUDGET_EXHAUSTED',
    `The gateway is holding as many result bytes as it may (${budget.capacity} bytes for all calls) and none were freed within ${budget.waitMs} ms.`,
  );
}

/** pg's checkout timeout (connectionTimeoutMillis), which also fires while waiting for a pooled connection. */
function poolTimeout(err: unknown): boolean {
  return err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message);
}

/** The wait for a pooled connection timed out while every one was busy: retryable, not an outage. */
function poolExhausted(max: number, cause: unknown): GatewayError {
  return new GatewayError('POOL_EXHAUSTED', `All ${max} connections to the database are busy with other calls.`, { cause });
}

function sqlstateIs(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Internal: set-up failed before the agent's statement could run (dead connection, lost prepared statement); safe to retry once. */
class RetryableSetupError extends Error {
  /** `cached: false`: retry without the statement cache (its statement was stale). */
  constructor(readonly gatewayError: GatewayError, readonly cached = true) {
    super(gatewayError.message);
  }
}
