/**
 * Attribute and metric names. OpenTelemetry semantic conventions (database: stable; MCP, GenAI
 * and connection-pool names: incubating, copied here as the semconv package recommends so a
 * minor release cannot break us) plus pgwarden's own `pgwarden.*` names.
 * test/unit/telemetry/semconv.test.ts checks the copies against @opentelemetry/semantic-conventions.
 */

export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_DB_NAMESPACE = 'db.namespace';
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';
export const ATTR_DB_COLLECTION_NAME = 'db.collection.name';
export const ATTR_DB_QUERY_SUMMARY = 'db.query.summary';
export const ATTR_DB_QUERY_TEXT = 'db.query.text';
export const ATTR_DB_RESPONSE_STATUS_CODE = 'db.response.status_code';
export const ATTR_DB_RESPONSE_RETURNED_ROWS = 'db.response.returned_rows';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_URL_SCHEME = 'url.scheme';
export const ATTR_CLIENT_ADDRESS = 'client.address';

// incubating
export const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version';
export const ATTR_MCP_SESSION_ID = 'mcp.session.id';
export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_DB_CLIENT_CONNECTION_POOL_NAME = 'db.client.connection.pool.name';
export const ATTR_DB_CLIENT_CONNECTION_STATE = 'db.client.connection.state';

export const DB_SYSTEM_NAME_VALUE_POSTGRESQL = 'postgresql';

export const METRIC_DB_CLIENT_OPERATION_DURATION = 'db.client.operation.duration';
export const METRIC_DB_CLIENT_RESPONSE_RETURNED_ROWS = 'db.client.response.returned_rows';
export const METRIC_DB_CLIENT_CONNECTION_COUNT = 'db.client.connection.count';
export const METRIC_DB_CLIENT_CONNECTION_MAX = 'db.client.connection.max';
export const METRIC_DB_CLIENT_CONNECTION_PENDING_REQUESTS = 'db.client.connection.pending_requests';

// pgwarden's own
export const ATTR_PRINCIPAL = 'pgwarden.principal';
export const ATTR_REQUEST_ID = 'pgwarden.request_id';
export const ATTR_DATABASE = 'pgwarden.database';
export const ATTR_TOOL = 'pgwarden.tool';
export const ATTR_DECISION = 'pgwarden.decision';
export const ATTR_REASON = 'pgwarden.reason';
export const ATTR_REASONS = 'pgwarden.reasons';
export const ATTR_STATEMENT_KIND = 'pgwarden.statement.kind';
export const ATTR_WRITE_KIND = 'pgwarden.write.kind';
export const ATTR_FINGERPRINT = 'pgwarden.statement.fingerprint';
export const ATTR_RELATIONS = 'pgwarden.relations';
export const ATTR_FUNCTIONS = 'pgwarden.functions';
export const ATTR_GUARD_CACHED = 'pgwarden.guard.cached';
export const ATTR_GUARD_OBSERVED = 'pgwarden.guard.observed';
export const ATTR_ROWS = 'pgwarden.rows';
export const ATTR_TRUNCATED = 'pgwarden.truncated';

export const METRIC_TOOL_CALL_DURATION = 'pgwarden.tool.call.duration';
export const METRIC_GUARD_DECISIONS = 'pgwarden.guard.decisions';
export const METRIC_GUARD_REASONS = 'pgwarden.guard.reasons';
export const METRIC_GUARD_DURATION = 'pgwarden.guard.duration';
export const METRIC_ROWS_RETURNED = 'pgwarden.rows.returned';
export const METRIC_MASKED_CELLS = 'pgwarden.masked.cells';
export const METRIC_BLAST_RADIUS = 'pgwarden.write.blast_radius';
export const METRIC_APPROVALS_PENDING = 'pgwarden.approvals.pending';
export const METRIC_DB_ACTIVE_READS = 'pgwarden.db.active_reads';
export const METRIC_AUDIT_QUEUE_DEPTH = 'pgwarden.audit.queue.depth';
export const METRIC_AUDIT_DROPPED = 'pgwarden.audit.dropped';
export const METRIC_AUDIT_WRITTEN = 'pgwarden.audit.written';
export const METRIC_AUDIT_FAILED = 'pgwarden.audit.failed';
export const METRIC_AUDIT_HEALTHY = 'pgwarden.audit.healthy';
/** Standard HTTP server duration (stable semconv), one sample per response on every route. */
export const METRIC_HTTP_SERVER_REQUEST_DURATION = 'http.server.request.duration';
/** Requests refused before they reached a tool, by route and catalogue code (401, 403, 413, 429, …). */
export const METRIC_HTTP_REFUSALS = 'pgwarden.http.refusals';
/** Authentication failures (401), by route and code: brute force and expired tokens. */
export const METRIC_AUTH_FAILURES = 'pgwarden.auth.failures';
/** Requests answered 429, by route. */
export const METRIC_RATE_LIMITED = 'pgwarden.http.rate_limited';
/** Constant 1, labelled with the gateway's version and Node.js version. */
export const METRIC_BUILD_INFO = 'pgwarden.build.info';
export const ATTR_SERVICE_VERSION = 'service.version';
export const ATTR_PROCESS_RUNTIME_VERSION = 'process.runtime.version';
