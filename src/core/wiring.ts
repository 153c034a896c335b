/**
 * Wiring: binds the real database layer, guard and audit sink to the gateway core's ports, and
 * builds the MCP server factories for HTTP (principal from authInfo) and stdio (fixed principal).
 */
import type { McpServerFactory } from '@modelcontextprotocol/server';
import { TokenStore } from '../auth/tokens.js';
import { createAuditSink, type AuditSink } from '../audit/index.js';
import { ConfigError, configVersion, type Config } from '../config/index.js';
import { Masker, validateMasking } from '../mask/index.js';
import { DatabasePool } from '../db/pool.js';
import { CatalogCache } from '../db/catalog.js';
import { describeRelation, listRelations } from '../db/describe.js';
import { Guard, loadParser } from '../guard/index.js';
import { Lifecycle, httpRequestContext, callSignal, type AuthFailureInfo, type Authenticator } from '../http/index.js';
import type { Logger } from '../log/logger.js';
import { buildServer, createServerFactory } from '../mcp/server.js';
import { isGatewayError } from './errors.js';
import { Gateway, VERSION } from './gateway.js';
import { startTelemetry, type Telemetry } from '../telemetry/index.js';
import { NO_AUDIT, type AuditEventInput, type AuditPort, type DatabasePort, type ReadRequest, type ReadResult, type RelationDetail } from './ports.js';

export interface Runtime {
  gateway: Gateway;
  telemetry: Telemetry;
  /** Authenticates against the current token set (swapped on reload). */
  tokens: Authenticator;
  /** Apply a reloaded configuration; returns the sections that need a restart to change. */
  reload: (config: Config) => string[];
  lifecycle: Lifecycle;
  httpFactory: McpServerFactory;
  stdioFactory: (principal: string) => McpServerFactory;
  onAuthFailure: (info: AuthFailureInfo) => void;
}

export interface RuntimeOptions {
  /** Set false for offline tools (check): no audit records. */
  audit?: boolean;
}

/** A configured database: a pool plus its catalog cache, as the core's DatabasePort. */
export class PgDatabase implements DatabasePort {
  readonly name: string;
  readonly config: Config['databases'][string];
  readonly pool: DatabasePool;
  private readonly catalogs: CatalogCache;

  constructor(name: string, config: Config['databases'][string], catalogTtlMs: number, logger: Logger) {
    this.name = name;
    this.config = config;
    this.pool = new DatabasePool(config, {
      name,
      onError: (err) => logger.warn({ database: name, code: err.code }, 'idle database connection failed'),
    });
    this.catalogs = new CatalogCache(this.pool, { ttlMs: catalogTtlMs });
  }

  runRead(req: ReadRequest): Promise<ReadResult> {
    return this.pool.runRead(req);
  }

  ready(): Promise<boolean> {
    return this.pool.ready();
  }

  catalog() {
    return this.catalogs.get();
  }

  refreshCatalog() {
    return this.catalogs.refresh();
  }

  listRelations(schemas: readonly string[]) {
    return listRelations(this.pool, schemas);
  }

  async describeRelation(schema: string, name: string): Promise<RelationDetail | undefined> {
    try {
      const d = await describeRelation(this.pool, schema, name);
      return { ...d, primaryKey: d.primaryKey ?? [] };
    } catch (err) {
      if (isGatewayError(err) && err.code === 'UNKNOWN_TABLE') return undefined;
      throw err;
    }
  }

  async cancelAll(): Promise<void> {
    await this.pool.shutdown({ graceMs: 0 });
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** The column masker (src/mask); refuses to start on an invalid masking configuration. */
async function createMasker(config: Config): Promise<Masker> {
  const problems = validateMasking(config);
  if (problems.length > 0) throw new ConfigError(problems, 'invalid masking configuration');
  await Masker.ready();
  return new Masker({ hashKey: config.masking.hash_key });
}

function auditPort(sink: AuditSink): AuditPort {
  return {
    record: (event: AuditEventInput) => sink.record(event),
    accepting: () => sink.accepting(),
    stats: () => sink.stats() as unknown as Record<string, unknown>,
    close: () => sink.close(),
  };
}

export async function createRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  await loadParser();
  const databases = new Map<string, DatabasePort>();
  for (const [name, db] of Object.entries(config.databases)) {
    databases.set(name, new PgDatabase(name, db, config.guard.catalog_ttl_ms, logger));
  }
  const audit = options.audit === false ? NO_AUDIT : auditPort(createAuditSink(config.audit, logger, { transport: config.server.transport }));
  const telemetry = await startTelemetry(config, logger, { version: VERSION });
  telemetry.observePools(() =>
    [...databases.values()].map((d) => ({ database: d.name, ...(d as PgDatabase).pool.stats(), max: d.config.pool.max })),
  );
  telemetry.observeAudit(() => audit.stats());
  const guard = new Guard({
    cacheSize: config.guard.decision_cache_size,
    maxStatementBytes: config.guard.max_statement_bytes,
    maxAstNodes: config.guard.max_ast_nodes,
  });
  const masker = await createMasker(config);
  const gateway = new Gateway({ config, configVersion: configVersion(config), databases, guard, audit, telemetry, masker });
  let tokenStore = new TokenStore(config);
  const tokens: Authenticator = { authenticate: (header, now) => tokenStore.authenticate(header, now) };
  const reload = (next: Config): string[] => {
    const store = new TokenStore(next);
    const problems = validateMasking(next);
    if (problems.length > 0) throw new ConfigError(problems, 'invalid masking configuration');
    const restart = gateway.reload(next, configVersion(next), new Masker({ hashKey: next.masking.hash_key }));
    tokenStore = store;
    return restart;
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
    };
  });
  const stdioFactory = (principal: string): McpServerFactory => () => buildServer(gateway, { principal, clientAddress: 'stdio' });
  const onAuthFailure = (info: AuthFailureInfo): void => {
    try {
      audit.record({ decision: 'auth_failed', request_id: info.requestId, client: info.clientAddress, reasons: ['UNAUTHORIZED'] });
    } catch {
      // fail-closed sink already marked the gap
    }
  };
  return { gateway, telemetry, tokens, reload, lifecycle, httpFactory, stdioFactory, onAuthFailure };
}
