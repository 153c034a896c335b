/**
 * The configured databases as the core's DatabasePort: a pool plus its catalog cache each
 * (src/app/, the composition root). Its own module, importing only the database layer, so that
 * `pgwarden serve` can open the databases and start their first catalog snapshot before it
 * loads the rest of the gateway (the MCP SDK, the guard): the connection, authentication and
 * snapshot queries then overlap that loading instead of following it (issue #13, start-up).
 */
import type { Config } from '../config/schema.js';
import { DatabasePool } from '../db/pool.js';
import { CatalogCache } from '../db/catalog.js';
import { describeRelation, listRelations } from '../db/describe.js';
import { isGatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../log/logger.js';
import type { DatabasePort, ReadRequest, ReadResult, RelationDetail } from '../core/ports.js';

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
      // one line per change of state, with the sanitized cause (never the DSN)
      onReachability: (reachable, cause) => {
        if (reachable) logger.info({ database: name }, 'database reachable again');
        else logger.error({ database: name, code: cause?.code, sqlstate: cause?.details.sqlstate, cause: cause?.message, fix: cause?.reasons[0]?.fix }, `database unreachable: ${cause?.message ?? 'unknown cause'}`);
      },
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

  /** guard.catalog_ttl_ms changed on reload. */
  setCatalogTtl(ttlMs: number): void {
    this.catalogs.setTtl(ttlMs);
  }

  refreshCatalog(options?: { force?: boolean }) {
    return this.catalogs.refresh(options);
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

/** A PgDatabase per configured database, in configuration order. Connects nothing yet. */
export function openDatabases(config: Config, logger: Logger): Map<string, PgDatabase> {
  const databases = new Map<string, PgDatabase>();
  for (const [name, db] of Object.entries(config.databases)) databases.set(name, new PgDatabase(name, db, config.guard.catalog_ttl_ms, logger));
  return databases;
}

/**
 * Start each database's first catalog snapshot in the background (connection, authentication,
 * snapshot queries), so the first call finds it loaded or in flight. A database that is down is
 * not an error here: the pool logs it unreachable once, and the first call that needs it loads
 * the snapshot again (CatalogCache keeps no failed result) and answers with the sanitized error.
 */
export function warmCatalogs(databases: ReadonlyMap<string, PgDatabase>): void {
  for (const db of databases.values()) db.catalog().catch(() => undefined);
}
