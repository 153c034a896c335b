/**
 * The one configuration schema.
 *
 * Guarantees: every key is known (objects are strict: an unknown key is an error with its
 * path), every value has a type and a safe default, and the parsed object mirrors the YAML
 * exactly (snake_case keys), so what an operator writes is what the code reads.
 * Does not: read files or the environment (see load.ts), or check cross references that
 * need the whole document (see validate.ts).
 */
import { z } from 'zod';

const durationMs = z.number().int().positive();
/**
 * Upper bounds of the safety knobs: other code assumes them (the walkers' budgets assume
 * guard.max_ast_nodes ≤ 200 000, src/guard/ast/budget.ts MAX_AST_NODES_CAP), and a typo of a few
 * zeros must not turn a bound into no bound. docs/configuration.md lists them.
 */
export const KNOB_CAPS = {
  max_statement_bytes: 1_000_000,
  max_ast_nodes: 200_000,
  decision_cache_size: 1_000_000,
  decision_cache_chars: 256 * 1024 * 1024,
  body_limit_bytes: 64 * 1024 * 1024,
  pool_max: 1000,
  read_max_bytes: 1024 * 1024 * 1024,
  read_timeout_ms: 3_600_000,
  max_capture_rows: 1_000_000,
  max_capture_bytes: 1024 * 1024 * 1024,
  judging_workers: 16,
  judging_queue: 10_000,
  judging_budget_ms: 60_000,
} as const;
const readTimeoutMs = durationMs.max(KNOB_CAPS.read_timeout_ms);
const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, 'must be a name: letters, digits, _ . - (max 63)');

export const rateLimitSchema = z
  .strictObject({
    /** Requests per window, per principal (after authentication). */
    per_principal: z.number().int().positive().default(600),
    /** Requests per window, per client IP (before authentication). */
    per_ip: z.number().int().positive().default(1200),
    window_ms: durationMs.default(60_000),
  })
  .prefault({});

export const serverSchema = z
  .strictObject({
    transport: z.enum(['http', 'stdio']).default('http'),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8420),
    /** Host header values accepted on /mcp (DNS-rebinding defense). Empty: loopback names when bound to loopback, else any. */
    allowed_hosts: z.array(z.string().min(1)).default([]),
    /** Origin header values accepted on /mcp when a browser sends one. */
    allowed_origins: z.array(z.string().min(1)).default([]),
    /** fastify trustProxy: false, true, a hop count, or a comma list of trusted addresses/CIDRs. */
    trust_proxy: z.union([z.boolean(), z.number().int().nonnegative(), z.string()]).default(false),
    body_limit_bytes: z.number().int().positive().max(KNOB_CAPS.body_limit_bytes).default(1_048_576),
    /** Longest call (its signal aborted after it); at most an hour, as a read's statement timeout (a timer past 2^31 - 1 ms fires at once). */
    request_timeout_ms: readTimeoutMs.default(120_000),
    /** Longest a client may take to send a request's headers (slow-header defense; Node headersTimeout). */
    headers_timeout_ms: durationMs.max(120_000).default(10_000),
    /** Longest a client may take to send a whole request, headers and body (Node requestTimeout). */
    receive_timeout_ms: durationMs.max(300_000).default(30_000),
    /** How long an idle keep-alive connection stays open between requests (above the 60 s idle timeout of common proxies and load balancers). */
    keep_alive_timeout_ms: durationMs.max(300_000).default(72_000),
    /** Open client connections at most; more are closed at once (and logged). Keep it below the file-descriptor limit. */
    max_connections: z.number().int().positive().max(65_536).default(512),
    /** Gateway-wide bytes of result rows all calls may hold at once (see docs/deployment.md for the heap to give it). */
    result_budget_bytes: z.number().int().min(1_048_576).max(4 * 1024 * 1024 * 1024).default(32 * 1024 * 1024),
    /** How long a call waits for room in the result budget before it is refused RESULT_BUDGET_EXHAUSTED. */
    result_budget_wait_ms: z.number().int().nonnegative().max(60_000).default(2_000),
    /** On SIGTERM/SIGINT: how long in-flight calls may run before they are cancelled. */
    drain_timeout_ms: durationMs.default(10_000),
    rate_limit: rateLimitSchema,
    /** Secret (≥ 32 characters) that signs request state shared by all replicas (in-client write confirmations). Unset: a random key per process. Restart to change. */
    state_key: z.string().min(32, 'must be at least 32 characters').optional(),
  })
  .prefault({});

export const tlsSchema = z
  .strictObject({
    mode: z.enum(['disable', 'require', 'verify-full']).default('disable'),
    /** PEM CA bundle (a path, or inline via file:/ *_FILE indirection at load time). */
    ca: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
  })
  .prefault({});

/** Read limits; set per database and overridable per policy. */
export const limitsSchema = z.strictObject({
  max_rows: z.number().int().positive().max(1_000_000).optional(),
  max_bytes: z.number().int().positive().max(KNOB_CAPS.read_max_bytes).optional(),
  statement_timeout_ms: readTimeoutMs.optional(),
  lock_timeout_ms: readTimeoutMs.optional(),
  idle_in_transaction_timeout_ms: readTimeoutMs.optional(),
});
export const DEFAULT_LIMITS = {
  max_rows: 500,
  max_bytes: 4 * 1024 * 1024,
  statement_timeout_ms: 5_000,
  lock_timeout_ms: 1_000,
  idle_in_transaction_timeout_ms: 10_000,
} as const;

export const databaseSchema = z.strictObject({
  /** postgres:// DSN. Use ${VAR}, *_FILE or file: indirection to keep the password out of the file. */
  url: z.string().min(1),
  description: z.string().optional(),
  pool: z
    .strictObject({
      max: z.number().int().positive().max(KNOB_CAPS.pool_max).default(10),
      idle_timeout_ms: durationMs.default(30_000),
      connection_timeout_ms: durationMs.default(5_000),
    })
    .prefault({}),
  /** Pinned for every agent statement (SET LOCAL search_path) and used to resolve unqualified names. */
  search_path: z.array(z.string().min(1)).min(1).default(['public']),
  tls: tlsSchema,
  limits: limitsSchema.prefault({}),
  application_name: z.string().default('pgwarden'),
});

const tableRulesSchema = z
  .strictObject({
    /** Patterns `schema.table`; `*` matches within one name part. Empty allow = every table in the allowed schemas. */
    allow: z.array(z.string().min(1)).default([]),
    deny: z.array(z.string().min(1)).default([]),
  })
  .prefault({});

const functionRulesSchema = z
  .strictObject({
    /** denylist: built-ins are allowed except the built-in deny set and `deny`; allowlist: only `allow` (plus a safe core) */
    mode: z.enum(['denylist', 'allowlist']).default('denylist'),
    allow: z.array(z.string().min(1)).default([]),
    deny: z.array(z.string().min(1)).default([]),
  })
  .prefault({});

const toolSwitchesSchema = z
  .strictObject({
    query: z.boolean().default(true),
    explain: z.boolean().default(true),
    describe: z.boolean().default(true),
    check: z.boolean().default(true),
    execute: z.boolean().default(true),
    revert: z.boolean().default(true),
  })
  .prefault({});

const descriptionsSchema = z
  .strictObject({
    schemas: z.record(z.string(), z.string()).default({}),
    /** key: schema.table */
    tables: z.record(z.string(), z.string()).default({}),
    /** key: schema.table.column */
    columns: z.record(z.string(), z.string()).default({}),
  })
  .prefault({});

/** Guarded writes (mode read-write): which writes, how big, and what happens to risky ones. */
export const writeRulesSchema = z
  .strictObject({
    /** Write kinds the execute tool accepts. DDL, TRUNCATE, GRANT/REVOKE and role changes are never accepted. */
    kinds: z.array(z.enum(['insert', 'update', 'delete', 'merge'])).default(['insert', 'update', 'delete']),
    /** Writable tables (`schema.table` patterns). Empty allow: every table the read rules allow. Deny wins. */
    tables: tableRulesSchema,
    /** Writes whose blast radius exceeds this many rows are held for an operator's approval. */
    confirm_above_rows: z.number().int().nonnegative().default(100),
    /** Writes whose blast radius exceeds this many rows are refused outright. */
    block_above_rows: z.number().int().nonnegative().default(10_000),
    /** What to do with a write whose blast radius cannot be counted safely. */
    uncountable: z.enum(['hold', 'block']).default('hold'),
    /** How the blast radius is measured: count (a read-only SELECT count(*)), or execute-rollback (opt-in: fires triggers, advances sequences, takes locks). */
    measure: z.enum(['count', 'execute-rollback']).default('count'),
    /** Allow writes whose effects cannot be recorded for undo (no primary key, user triggers, cascading foreign keys…). */
    allow_irreversible: z.boolean().default(false),
    /** Refuse writes whose before-images would exceed this many rows / bytes. */
    max_capture_rows: z.number().int().positive().max(KNOB_CAPS.max_capture_rows).default(10_000),
    max_capture_bytes: z.number().int().positive().max(KNOB_CAPS.max_capture_bytes).default(16 * 1024 * 1024),
    /** How long a held write waits for an operator before it expires. */
    approval_ttl_ms: durationMs.default(24 * 60 * 60 * 1000),
    /** Held writes one principal may have pending in one database at once; more are refused (PENDING_APPROVALS_LIMIT). */
    max_pending_approvals: z.number().int().positive().default(20),
    /** Total bytes of the statements one principal may have pending in one database at once. */
    max_pending_bytes: z.number().int().positive().default(1_048_576),
    /** Triggers (`schema.table.trigger`) an operator checked and trusts to write only where this policy allows; any other trigger a write fires refuses it (WRITE_TRIGGER_UNTRUSTED). */
    trusted_triggers: z.array(z.string().regex(/^[^.\s]+\.[^.\s]+\.[^.\s]+$/, 'must be schema.table.trigger')).default([]),
    /** Rewrite rules (`schema.table.rule`) an operator checked and trusts; any other rule a write meets refuses it (WRITE_RULE_UNTRUSTED). */
    trusted_rules: z.array(z.string().regex(/^[^.\s]+\.[^.\s]+\.[^.\s]+$/, 'must be schema.table.rule')).default([]),
    /** Let the human at an MCP client confirm writes up to max_rows directly (elicitation), when the client supports it. */
    confirm_in_client: z
      .strictObject({ enabled: z.boolean().default(false), max_rows: z.number().int().nonnegative().default(10), ttl_ms: durationMs.default(120_000) })
      .prefault({}),
  })
  .prefault({});

/** One column mask (src/mask, docs/masking.md). */
export const maskSpecSchema = z.strictObject({
  /** redact: a fixed marker; null: NULL of the column type; partial: keep keep_first/keep_last characters; hash: keyed HMAC-SHA-256 (masking.hash_key); email: keep the domain. */
  mask: z.enum(['redact', 'null', 'partial', 'hash', 'email']),
  /** redact: the marker shown instead of every non-NULL value. */
  value: z.string().max(200).default('***'),
  /** partial: characters kept at the start. */
  keep_first: z.number().int().min(0).max(64).default(0),
  /** partial: characters kept at the end. */
  keep_last: z.number().int().min(0).max(64).default(4),
  /** hash: hex characters of the HMAC shown (8..64). */
  length: z.number().int().min(8).max(64).default(16),
  /** refuse: a statement that uses the column anywhere but a plain projection is refused (MASKED_COLUMN_PREDICATE). */
  predicates: z.enum(['allow', 'refuse']).default('allow'),
});

/** What one policy allows on one database. */
export const databasePolicySchema = z.strictObject({
  mode: z.enum(['read-only', 'read-write', 'explain-only']).default('read-only'),
  /** Schemas the principal may see; empty: the database's search_path. */
  schemas: z.array(z.string().min(1)).default([]),
  tables: tableRulesSchema,
  functions: functionRulesSchema,
  /** Allow reading system catalogs (pg_catalog, information_schema). pg_toast is never allowed. */
  catalogs: z.boolean().default(false),
  /** Allow views; a view is checked against its (recursive) base tables either way. */
  views: z.boolean().default(true),
  limits: limitsSchema.prefault({}),
  /** SET LOCAL ROLE to this role for every statement, so grants and row-level security apply. */
  role: z.string().optional(),
  /** SET LOCAL <guc> = principal name, for RLS policies (e.g. pgwarden.principal). */
  principal_setting: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/, 'must be a custom setting name like pgwarden.principal')
    .default('pgwarden.principal'),
  tools: toolSwitchesSchema,
  descriptions: descriptionsSchema,
  /** Column masks, key `schema.table.column` (docs/masking.md): the raw value never reaches the agent. */
  masks: z
    .record(z.string().regex(/^[^.\s]+\.[^.\s]+\.[^.\s]+$/, 'must be schema.table.column'), maskSpecSchema)
    .default({}),
  /** User-defined functions (`schema.name`) trusted not to read masked columns; others are refused while masks apply. */
  mask_trusted_functions: z.array(z.string().min(1)).default([]),
  writes: writeRulesSchema,
});

export const policySchema = z.strictObject({
  description: z.string().optional(),
  /** Compute and audit decisions but do not enforce them (rollout). The response says so. */
  observe: z.boolean().default(false),
  /** Per database the policy may reach. A database not listed is not reachable. */
  databases: z.record(name, databasePolicySchema),
});

export const tokenSchema = z
  .strictObject({
    /** A label for logs and audit (never the token). Defaults to principal#index. */
    id: z.string().optional(),
    /** The raw token (>= 32 chars). Prefer sha256 in files; use ${VAR} / file: indirection for raw tokens. */
    token: z.string().optional(),
    /** Hex SHA-256 digest of the token. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, 'must be 64 hex characters')
      .optional(),
    /** ISO-8601 instant after which the token is refused. */
    expires_at: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((t) => (t.token === undefined) !== (t.sha256 === undefined), {
    message: 'exactly one of token or sha256 is required',
  });

export const principalSchema = z.strictObject({
  policy: name,
  tokens: z.array(tokenSchema).default([]),
  description: z.string().optional(),
});

export const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .prefault({});

export const guardSchema = z
  .strictObject({
    /** Bounded LRU of decisions keyed by (exact SQL, principal, policy version). */
    decision_cache_size: z.number().int().nonnegative().max(KNOB_CAPS.decision_cache_size).default(10_000),
    /** Most characters of statement text over all cached decisions (each holds its parse tree). */
    decision_cache_chars: z.number().int().nonnegative().max(KNOB_CAPS.decision_cache_chars).default(4 * 1024 * 1024),
    /** Statements longer than this are refused before parsing. */
    max_statement_bytes: z.number().int().positive().max(KNOB_CAPS.max_statement_bytes).default(100_000),
    /** Parse trees with more nodes than this are refused (fail closed on pathological input). */
    max_ast_nodes: z.number().int().positive().max(KNOB_CAPS.max_ast_nodes).default(50_000),
    /** How long a loaded catalog snapshot (relations, views, functions) is trusted. */
    catalog_ttl_ms: durationMs.default(60_000),
    /** Long statements are judged on worker threads (src/judge/pool.ts, issue #10 item 2). */
    judging: z
      .strictObject({
        /** Worker threads judging long statements (0: everything on the main thread). */
        workers: z.number().int().nonnegative().max(KNOB_CAPS.judging_workers).default(2),
        /** Long statements waiting for a worker at most; more are refused GUARD_BUSY. */
        queue: z.number().int().nonnegative().max(KNOB_CAPS.judging_queue).default(64),
        /** Longest one statement may take to judge on a worker; longer is STATEMENT_TOO_COMPLEX. */
        budget_ms: durationMs.max(KNOB_CAPS.judging_budget_ms).default(5_000),
        /** Statements of at least this many bytes (UTF-8) are judged on a worker when not cached. */
        min_bytes: z.number().int().nonnegative().max(KNOB_CAPS.max_statement_bytes).default(4_096),
      })
      .prefault({}),
  })
  .prefault({});

/** Column masking (src/mask, docs/masking.md). */
export const maskingSchema = z
  .strictObject({
    /** Secret for hash masks (HMAC-SHA-256), at least 16 characters; use ${VAR}, hash_key_file or file: indirection. */
    hash_key: z.string().min(16, 'must be at least 16 characters').optional(),
  })
  .prefault({});

/** The file sink's default path. Under the stdio transport it lives in the per-user state directory instead (src/audit/setup.ts auditFilePath). */
export const DEFAULT_AUDIT_PATH = '.pgwarden/audit.ndjson';

/** Audit log (src/audit, docs/audit.md). */
export const auditSchema = z
  .strictObject({
    /** file: NDJSON at `path` (default); stdout: for container log collection (refused under stdio transport); stderr; none: disabled (warned). */
    sink: z.enum(['file', 'stdout', 'stderr', 'none']).default('file'),
    /** File sink path; relative paths resolve against the working directory. */
    path: z.string().min(1).default(DEFAULT_AUDIT_PATH),
    /** Rotate the file before it grows past this many bytes; 0 disables rotation. */
    max_bytes: z.number().int().nonnegative().default(64 * 1024 * 1024),
    /** Rotated files kept (path.1 … path.N); the oldest is deleted. */
    max_files: z.number().int().positive().default(10),
    /** Records buffered between record() and the writer. */
    queue_size: z.number().int().positive().default(10_000),
    /** fail-closed: refuse new calls while the sink cannot write; drop: keep serving, count dropped records. */
    on_failure: z.enum(['fail-closed', 'drop']).default('fail-closed'),
    /** always: fsync after every batch; interval: every fsync_interval_ms; never: leave it to the OS. */
    fsync: z.enum(['interval', 'always', 'never']).default('interval'),
    fsync_interval_ms: durationMs.default(1_000),
    /** How long close() waits for queued records at shutdown. */
    flush_timeout_ms: durationMs.default(5_000),
    /** Also write the raw statement text (with literals) as sql_raw. Off: only normalized SQL is written. */
    include_raw_sql: z.boolean().default(false),
    /** Key for HMAC-SHA-256 record hashes (tamper-evident against whoever can write the file), at least 32 characters; use ${VAR}, hmac_key_file or file: indirection. Unset: unkeyed sha256. */
    hmac_key: z.string().min(32, 'must be at least 32 characters').optional(),
  })
  .prefault({});

/** OpenTelemetry and Prometheus (src/telemetry, docs/telemetry.md). Off unless an endpoint or Prometheus is configured. */
export const telemetrySchema = z
  .strictObject({
    /** OTLP base URL (e.g. http://collector:4318); overrides OTEL_EXPORTER_OTLP_ENDPOINT. Unset and no OTEL_* endpoint: no SDK is loaded. */
    otlp_endpoint: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s):// URL')
      .optional(),
    /** service.name of the resource, unless OTEL_SERVICE_NAME is set. */
    service_name: z.string().min(1).default('pgwarden'),
    /** Parent-based trace-id ratio sampling (0..1); unset: OTEL_TRACES_SAMPLER or always on. */
    sample_ratio: z.number().min(0).max(1).optional(),
    /** Put the normalized statement (literals replaced by $n) into db.query.text. Raw text is never recorded. */
    record_query_text: z.boolean().default(false),
    /** OTLP metrics export period. */
    metrics_interval_ms: durationMs.default(60_000),
    prometheus: z
      .strictObject({
        /** Serve GET /metrics (Prometheus text format) on a separate, unauthenticated admin listener. */
        enabled: z.boolean().default(false),
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(9464),
      })
      .prefault({}),
  })
  .prefault({});

/** Operators approve held writes and revert undo entries out of band (admin API, CLI); never agents. */
export const operatorSchema = z.strictObject({
  tokens: z.array(tokenSchema).default([]),
  description: z.string().optional(),
});

/** Gateway-owned state in each writable database (schema `pgwarden`): approvals and the undo journal. */
export const journalSchema = z
  .strictObject({
    /** Schema that holds pgwarden's tables in each writable database; no agent policy can read or write it. */
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('pgwarden'),
    /** Journal entries older than this are deleted (0: keep forever). */
    retention_days: z.number().int().nonnegative().default(30),
  })
  .prefault({});

/** A value a predefined-tool parameter may take (scalars of the declared type). */
const paramScalar = z.union([z.string(), z.number(), z.boolean()]);

/** Constraints shared by a parameter and the items of an array parameter. */
const paramConstraints = {
  /** enum: the accepted values (strings). */
  values: z.array(z.string().min(1).max(200)).min(1).max(200).optional(),
  /** integer, number: inclusive bounds. */
  min: z.number().optional(),
  max: z.number().optional(),
  /** string: a JavaScript regular expression the whole value must match (write ^…$ to anchor). */
  pattern: z.string().min(1).max(500).optional(),
  /** string: length bounds (characters). */
  min_length: z.number().int().nonnegative().optional(),
  max_length: z.number().int().positive().max(1_000_000).optional(),
};

/** The items of an array parameter. */
export const toolParameterItemsSchema = z.strictObject({
  type: z.enum(['string', 'integer', 'number', 'boolean', 'enum']),
  ...paramConstraints,
});

/** One typed parameter of a predefined tool; its position in the list is its `$n`. */
export const toolParameterSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a parameter name: letters, digits, _ (max 63)'),
  type: z.enum(['string', 'integer', 'number', 'boolean', 'enum', 'array']),
  /** What the agent reads about this parameter. */
  description: z.string().max(2000).optional(),
  /** Required unless a default is given. */
  required: z.boolean().optional(),
  /** Bound when the agent leaves the parameter out (must satisfy the constraints). */
  default: z.union([paramScalar, z.array(paramScalar)]).optional(),
  ...paramConstraints,
  /** array: the type and constraints of every item. */
  items: toolParameterItemsSchema.optional(),
  /** array: at most / at least this many items. */
  max_items: z.number().int().positive().max(10_000).optional(),
  min_items: z.number().int().nonnegative().optional(),
});

/** Who gets a predefined tool, resource or prompt: principals by name, or every principal of a policy. */
const grantees = {
  principals: z.array(name).default([]),
  policies: z.array(name).default([]),
};

/**
 * A predefined tool (docs/configuration.md, "Predefined tools"): operator-written SQL with `$n`
 * parameters the agent fills through typed arguments. Judged by the guard at load and on every call.
 */
export const predefinedToolSchema = z.strictObject({
  /** Short human title (tools/list `title`). */
  title: z.string().min(1).max(200).optional(),
  /** What the agent reads: when to use the tool and what it returns. */
  description: z.string().min(1).max(4000),
  /** The database the statement runs on; every grantee's policy must reach it. */
  database: name,
  /** Exactly one statement; `$1`, `$2` … are the parameters in list order. Bound, never spliced. */
  sql: z.string().min(1).max(100_000),
  parameters: z.array(toolParameterSchema).max(100).default([]),
  ...grantees,
});

/** An operator-defined resource: a fixed, guarded read whose rows are the resource's content. */
export const predefinedResourceSchema = z.strictObject({
  /**
   * The URI it is listed and read under (an absolute URI in canonical form, any scheme but
   * `pgwarden:`); default `pgwarden://resource/<name>`. With `parameters`, a URI template whose
   * `{name}` variables are the parameters.
   */
  uri: z.string().min(1).max(2000).optional(),
  /** Template variables of `uri` (string or enum), bound as `$1…$n` in list order, never spliced. */
  parameters: z.array(toolParameterSchema).max(20).default([]),
  title: z.string().min(1).max(200).optional(),
  description: z.string().min(1).max(4000).optional(),
  database: name,
  /** One read statement (with `$n` for the parameters, if any), judged like `query` for each reader. */
  sql: z.string().min(1).max(100_000),
  ...grantees,
});

/** An operator-defined prompt: a message template with named arguments (`{{name}}`). */
export const predefinedPromptSchema = z.strictObject({
  title: z.string().min(1).max(200).optional(),
  description: z.string().min(1).max(4000).optional(),
  arguments: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be an argument name: letters, digits, _ (max 63)'),
        description: z.string().max(2000).optional(),
        required: z.boolean().default(false),
        /** Accepted values (offered as completions); any text when absent. */
        values: z.array(z.string().min(1).max(200)).min(1).max(200).optional(),
      }),
    )
    .max(20)
    .default([]),
  /** The user message; `{{name}}` is replaced by the argument's value. */
  text: z.string().min(1).max(20_000),
  ...grantees,
});

export const configSchema = z.strictObject({
  server: serverSchema,
  log: logSchema,
  guard: guardSchema,
  audit: auditSchema,
  telemetry: telemetrySchema,
  masking: maskingSchema,
  journal: journalSchema,
  operators: z.record(name, operatorSchema).default({}),
  databases: z.record(name, databaseSchema),
  principals: z.record(name, principalSchema),
  policies: z.record(name, policySchema),
  /** Predefined tools: operator-written SQL with typed parameters (docs/configuration.md). */
  tools: z.record(name, predefinedToolSchema).default({}),
  /** Operator-defined resources: fixed guarded reads (docs/configuration.md). */
  resources: z.record(name, predefinedResourceSchema).default({}),
  /** Operator-defined prompts (docs/configuration.md). */
  prompts: z.record(name, predefinedPromptSchema).default({}),
});

export type Config = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type AuditConfig = z.infer<typeof auditSchema>;
export type TelemetryConfig = z.infer<typeof telemetrySchema>;
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type Limits = z.infer<typeof limitsSchema>;
export type ResolvedLimits = { [K in keyof typeof DEFAULT_LIMITS]: number };
export type Policy = z.infer<typeof policySchema>;
export type DatabasePolicy = z.infer<typeof databasePolicySchema>;
export type MaskSpec = z.infer<typeof maskSpecSchema>;
export type MaskingConfig = z.infer<typeof maskingSchema>;
export type PrincipalConfig = z.infer<typeof principalSchema>;
export type TokenConfig = z.infer<typeof tokenSchema>;
export type ToolSwitches = z.infer<typeof toolSwitchesSchema>;
export type WriteRules = z.infer<typeof writeRulesSchema>;
export type OperatorConfig = z.infer<typeof operatorSchema>;
export type JournalConfig = z.infer<typeof journalSchema>;
export type PredefinedTool = z.infer<typeof predefinedToolSchema>;
export type ToolParameter = z.infer<typeof toolParameterSchema>;
export type ToolParameterItems = z.infer<typeof toolParameterItemsSchema>;
export type PredefinedResource = z.infer<typeof predefinedResourceSchema>;
export type PredefinedPrompt = z.infer<typeof predefinedPromptSchema>;

