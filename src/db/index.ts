/** The database layer's public API (see each module's header for its guarantees). */
export { DatabasePool, connectionConfig, type DatabasePoolOptions, type PoolStats, type ReadOptions, type ReadResult } from './pool.js';
export type { ColumnInfo } from './read.js';
export { hardeningSql } from './read.js';
export { CatalogCache, catalogDigest, loadCatalog, type CatalogCacheOptions } from './catalog.js';
export {
  describeRelation,
  listRelations,
  sampleSql,
  type ColumnDescription,
  type DescribeOptions,
  type ForeignKeyDescription,
  type IndexDescription,
  type RelationDescription,
  type RelationSummary,
} from './describe.js';
export { redactQuoted, sanitizeDbError, toGatewayError, unavailableReason, type SanitizedDbError } from './errors.js';
export { toJsonValue } from './values.js';
