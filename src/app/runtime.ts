/**
 * The composition root (src/app/: the only layer that may import every other one). Wiring: binds the real database layer, guard and audit sink to the gateway core's ports, and
 * builds the MCP server factories for HTTP (principal from authInfo) and stdio (fixed principal).
 */
import type { McpServerFactory } from '@modelcontextprotocol/server';
import { TokenStore } from '../auth/tokens.js';
import { auditStartProblem, createAuditSink, type AuditSink } from '../audit/index.js';
import { ConfigError, configVersion, type Config } from '../config/index.js';
import { Masker, validateMasking } from '../mask/index.js';
import { WriteState, writableDatabases, type ApprovalHooks } from '../db/writes/index.js';
import { assertOperatorTokensDistinct, operatorTokenStore } from '../auth/operators.js';
import { classifyChanges, reloadProblems, type ReloadChanges } from './reload.js';
import type { AdminOptions } from '../http/admin.js';
import { openDatabases, PgDatabase } from './databases.js';
import { Guard, loadParser, type GuardOptions } from '../guard/index.js';
import { JudgingPool } from '../judge/pool.js';
// the HTTP layer's parts the runtime needs, not its index: stdio must not load fastify and the Node adapter
import { Lifecycle } from '../http/lifecycle.js';
import { httpRequestContext, callSignal } from '../http/context.js';
import type { AuthFailureInfo, Authenticator, FastToolCall } from '../http/types.js';
import type { Logger } from '../log/logger.js';
import { buildServer, createServerFactory } from '../mcp/server.js';
import { directToolCallerJson } from '../mcp/tool-call.js';
import { isGatewayError } from '../errors/gateway-error.js';
import { Gateway, VERSION } from '../core/gateway.js';
import { verifyPredefinedTools } from './verify-definitions.js';
import { auditedReject, auditedRevert } from '../core/operator-actions.js';
import { NOOP_TELEMETRY, startTelemetry, type Telemetry } from '../telemetry/index.js';
import { NO_AUDIT, type AuditEventInput, type AuditPort, type DatabasePort, type WritesPort } from '../core/ports.js';

export { PgDatabase } from './databases.js';

export interface Runtime {
  gateway: Gateway;
  /** Guarded writes (approvals, journal): present when some policy is read-write. */
  writes?: WriteState;
  /** Approve held writes through the gateway's pipeline (admin API, CLI). */
  approvalHooks: ApprovalHooks;
  /** The operators' admin API, when operators are configured and writes exist. */
  admin?: AdminOptions;
  telemetry: Telemetry;
  /** Authenticates against the current token set (swapped on reload). */
  tokens: Authenticator;
  /**
   * Apply a reloaded configuration as a whole (every credential store rebuilt, every start-up
   * validation re-run) or refuse it as a whole (ConfigError, the running configuration stays).
   */
  reload: (config: Config) => ReloadChanges;
  /** Judge a candidate configuration's predefined tools before it is applied (throws ConfigError). */
  verify: (config: Config) => Promise<void>;
  lifecycle: Lifecycle;
  httpFactory: McpServerFactory;
  /** The HTTP tools/call fast path (src/http/mcp-route.ts, src/mcp/tool-call.ts). */
  httpToolCall: FastToolCall;
  stdioFactory: (principal: string) => McpServerFactory;
  onAuthFailure: (info: AuthFailureInfo) => void;
}

export interface RuntimeOptions {
  /** Set false for offline tools (check): no audit records. */
  audit?: boolean;
  /** Set false for offline tools (check): no write state (no schema DDL, no maintenance timers). */
  writes?: boolean;
  /** Set false to skip judging predefined tools at start (offline tools). */
  verifyTools?: boolean;
  /**
   * Set false for short-lived commands (approvals, check): no telemetry SDK and no Prometheus
   * listener, which would collide (EADDRINUSE) with the running gateway's on the same config.
   */
  telemetry?: boolean;
  /**
   * The databases, when the caller opened them first (serve: openDatabases before this module's
   * imports load, so the first catalog snapshot overlaps them); opened here otherwise.
   */
  databases?: ReadonlyMap<string, PgDatabase>;
}

/**
 * Guarded writes for databases some policy may write to. The gateway schema is created in the
 * background (a database that is down at start must not stop the gateway); maintenance sweeps
 * expired approvals and old journal entries.
 */
function createWrites(config: Config, logger: Logger): { writes: WriteState; ready: () => Promise<void> } | undefined {
  if (writableDatabases(config).length === 0) return undefined;
  assertOperatorTokensDistinct(config);
  const writes = WriteState.fromConfig(config);
  // Memoized: the first caller creates the schema; a failure lets the next caller retry.
  let ensured: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    ensured ??= writes.ensureSchemas().catch((err: unknown) => {
      ensured = undefined;
      throw err;
    });
    return ensured;
  };
  const warmUp = (attempt: number): void => {
    ready().then(
      () => logger.info({ schema: config.journal.schema }, 'write journal and approval queue ready'),
      (err: unknown) => {
        logger.warn({ code: isGatewayError(err) ? err.code : 'ERROR', attempt }, 'write schema not ready yet; retrying');
        setTimeout(() => warmUp(attempt + 1), Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5))).unref();
      },
    );
  };
  warmUp(0);
  writes.startMaintenance(60_000, (err) => logger.warn({ code: isGatewayError(err) ? err.code : 'ERROR' }, 'write maintenance failed'));
  return { writes, ready };
}

/** Admin API: approve audits through the approval hooks; reject and revert through operator-actions. */
function adminOptions(operators: Authenticator, writes: WriteState, audit: AuditPort): AdminOptions {
  const approvals = writes.approvals;
  return {
    operators,
    approvals: {
      list: (filter) => approvals.list(filter),
      get: (id) => approvals.get(id),
      approve: (id, operator) => approvals.approve(id, operator),
      reject: (id, operator, note) => auditedReject(audit, writes, id, operator, note),
    },
    revert: (undoId, operator) => auditedRevert(audit, writes, undoId, operator),
  };
}

/** The column masker (src/mask); refuses to start on an invalid masking configuration. */
async function createMasker(config: Config): Promise<Masker> {
  const problems = validateMasking(config);
  if (problems.length > 0) throw new ConfigError(problems, 'invalid masking configuration');
  await Masker.ready();
  return new Masker({ hashKey: config.masking.hash_key });
}

function guardOptions(config: Config): GuardOptions {
  return { cacheSize: config.guard.decision_cache_size, cacheChars: config.guard.decision_cache_chars, maxStatementBytes: config.guard.max_statement_bytes, maxAstNodes: config.guard.max_ast_nodes };
}

/** Worker threads for long statements (guard.judging; none when workers is 0). */
function judgingPool(config: Config, logger: Logger): JudgingPool | undefined {
  const j = config.guard.judging;
  if (j.workers === 0) return undefined;
  return new JudgingPool({
    workers: j.workers,
    queue: j.queue,
    budgetMs: j.budget_ms,
    minBytes: j.min_bytes,
    guard: guardOptions(config),
    hashKey: config.masking.hash_key,
    logger,
  });
}

function auditPort(sink: AuditSink): AuditPort {
  return {
    record: (event: AuditEventInput) => sink.record(event),
    durable: (event: AuditEventInput) => sink.durable(event),
    accepting: () => sink.accepting(),
    stats: () => sink.stats() as unknown as Record<string, unknown>,
    close: () => sink.close(),
  };
}

/**
 * The audit log for a short-lived operator command (CLI revert and reject): opened as the gateway
 * opens it, and refused the same way (a fail-closed file sink that cannot be opened throws).
 */
export async function openAudit(config: Config, logger: Logger): Promise<AuditPort> {
  const sink = createAuditSink(config.audit, logger, { transport: config.server.transport });
  await sink.ready();
  const problem = auditStartProblem(sink, config.audit);
  if (problem !== null) {
    await sink.close();
    throw new Error(problem);
  }
  return auditPort(sink);
}

export async function createRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  await loadParser();
  const databases: Map<string, DatabasePort> = new Map(options.databases ?? openDatabases(config, logger));
  const sink = options.audit === false ? undefined : createAuditSink(config.audit, logger, { transport: config.server.transport });
  // No call before the sink's first open finished: until it succeeds, a fail-closed sink refuses.
  await sink?.ready();
  const startProblem = sink === undefined ? null : auditStartProblem(sink, config.audit);
  if (sink !== undefined && startProblem !== null) {
    await sink.close();
    throw new Error(startProblem);
  }
  const audit = sink === undefined ? NO_AUDIT : auditPort(sink);
  const telemetry = options.telemetry === false ? NOOP_TELEMETRY : await startTelemetry(config, logger, { version: VERSION });
  telemetry.observePools(() =>
    [...databases.values()].map((d) => ({ database: d.name, ...(d as PgDatabase).pool.stats(), max: d.config.pool.max })),
  );
  telemetry.observeAudit(() => audit.stats());
  const guard = new Guard(guardOptions(config));
  const masker = await createMasker(config);
  const judging = judgingPool(config, logger);
  const writeSetup = options.writes === false ? undefined : createWrites(config, logger);
  const writes = writeSetup?.writes;
  const gateway = new Gateway({
    config,
    configVersion: configVersion(config),
    databases,
    guard,
    audit,
    telemetry,
    masker,
    logger,
    ...(judging ? { judging } : {}),
    // the core's WritesPort (src/core/ports.ts) is the WriteState itself: writer(), approvals, end()
    ...(writeSetup ? { writes: writeSetup.writes satisfies WritesPort, writesReady: writeSetup.ready } : {}),
  });
  if (options.verifyTools !== false && Object.keys(config.tools).length + Object.keys(config.resources).length > 0) {
    try {
      await verifyPredefinedTools(gateway, logger);
    } catch (err) {
      await gateway.shutdown(0);
      await telemetry.shutdown().catch(() => undefined);
      throw err;
    }
  }
  const approvalHooks = gateway.approvalHooks();
  writes?.approvals.setHooks(approvalHooks);
  // Both credential stores are swapped as a whole on reload; the authenticators read the current one.
  let tokenStore = new TokenStore(config);
  let operatorStore = operatorTokenStore(config);
  const tokens: Authenticator = { authenticate: (header, now) => tokenStore.authenticate(header, now) };
  const operators: Authenticator = { authenticate: (header, now) => operatorStore.authenticate(header, now) };
  const admin = writes && Object.keys(config.operators).length > 0 ? adminOptions(operators, writes, audit) : undefined;
  const writable = writes ? [...writes.databases.keys()] : [];
  const reload = (next: Config): ReloadChanges => {
    // Validate and build everything first; swap only when nothing failed.
    const problems = reloadProblems(next, { writable });
    if (problems.length > 0) throw new ConfigError(problems, 'configuration reload refused');
    const nextTokens = new TokenStore(next);
    const nextOperators = operatorTokenStore(next);
    const nextMasker = new Masker({ hashKey: next.masking.hash_key });
    const nextGuard = new Guard(guardOptions(next));
    const changes = classifyChanges(gateway.config, next, { adminServed: admin !== undefined });
    gateway.reload(next, configVersion(next), { masker: nextMasker, guard: nextGuard });
    judging?.configure(guardOptions(next), next.masking.hash_key);
    tokenStore = nextTokens;
    operatorStore = nextOperators;
    for (const db of databases.values()) if (db instanceof PgDatabase) db.setCatalogTtl(next.guard.catalog_ttl_ms);
    if (logger.level !== next.log.level) logger.level = next.log.level;
    return changes;
  };
  const lifecycle = new Lifecycle();
  const httpFactory = createServerFactory(gateway, (ctx) => {
    const http = httpRequestContext(ctx.authInfo);
    if (!http) return undefined;
    const signal = callSignal(ctx.authInfo);
    return {
      principal: http.principal,
      requestId: http.requestId,
      clientAddress: http.clientAddress,
      ...(signal ? { signal } : {}),
      ...(http.budgetScope ? { budgetScope: http.budgetScope } : {}),
    };
  });
  const httpToolCall: FastToolCall = directToolCallerJson(gateway);
  const stdioFactory = (principal: string): McpServerFactory => () => buildServer(gateway, { principal, clientAddress: 'stdio' });
  const onAuthFailure = (info: AuthFailureInfo): void => {
    try {
      audit.record({ decision: 'auth_failed', request_id: info.requestId, client: info.clientAddress, reasons: ['UNAUTHORIZED'] });
    } catch {
      // fail-closed sink already marked the gap
    }
  };
  const verify = async (next: Config): Promise<void> => {
    if (Object.keys(next.tools).length + Object.keys(next.resources).length > 0) await verifyPredefinedTools(gateway.withConfig(next, configVersion(next)), logger);
  };
  return {
    gateway,
    telemetry,
    tokens,
    reload,
    verify,
    lifecycle,
    httpFactory,
    httpToolCall,
    stdioFactory,
    onAuthFailure,
    approvalHooks,
    ...(writes ? { writes } : {}),
    ...(admin ? { admin } : {}),
  };
}
