/**
 * Function and operator policy: the built-in deny set, the safe core for allowlist mode, name
 * resolution against the catalog snapshot, and the regclass-argument table.
 *
 * Guarantees:
 * - a function is judged by the name the parser produced (quoted names keep their case, so
 *   "PG_SLEEP" is a different, unknown function; U&"\0070g_sleep" arrives decoded as pg_sleep);
 * - an unqualified call is checked against every candidate PostgreSQL could pick: pg_catalog
 *   (searched first unless listed in search_path) and every schema of the pinned search_path.
 *   Every pg_catalog candidate is judged by name; a candidate outside pg_catalog counts unless
 *   resolve.ts shows PostgreSQL cannot pick it for the argument types (an extension's
 *   strpos(citext, citext) for text arguments); one refused candidate that counts refuses the
 *   call. Schemas off the path are never candidates of an unqualified name;
 * - the built-in deny set applies in every schema and wherever the call appears (select list,
 *   FROM/ROWS FROM/LATERAL, WHERE, ORDER BY, DEFAULT, VALUES, casts, regproc literals …);
 * - functions outside pg_catalog (user code, extensions, SECURITY DEFINER) are refused unless the
 *   policy allows them by name; a function not in the snapshot is refused (and flags a refresh);
 * - an operator outside pg_catalog that PostgreSQL could pick (on the path, or named by its
 *   schema; by operand types, resolve.ts) is refused unless allowed (an operator runs a function);
 * - under `catalogs: false` a pg_catalog function is allowed only if the reviewed allow list
 *   (builtins.ts) names it; every other one — server and connection facts, introspection,
 *   internals, and names the list does not know yet — is SYSTEM_CATALOG; `current_setting`
 *   passes only for a setting on SAFE_SETTINGS named in a string literal.
 * Does not: see inside function bodies, or judge casts to user-defined types (a user cast
 * function could run); see the report for these limits.
 *
 * Size (#15 item 5): the file (~490 lines) judges functions and operators and holds the tables of
 * which built-in parameters take names (regclass, regproc, type names); the tables are data.
 */
import { matchesAny, matchesAnyDeny } from './patterns.js';
import { ALLOWED_BUILTINS, CATALOG_BUILTINS, type CatalogCategory } from './builtins.js';
import type { CatalogFunction, CatalogOperator, CatalogSnapshot } from './types.js';

/** Exact names of built-in (pg_catalog and common extension) functions that are always unsafe. */
const DENIED_EXACT: readonly string[] = [
  // file system access
  'pg_read_file', 'pg_read_file_old', 'pg_read_binary_file', 'pg_stat_file', 'pg_ls_dir', 'pg_current_logfile',
  'pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_show_all_file_settings', 'pg_config', 'pg_relation_filepath',
  'pg_wal_summary_contents',
  // adminpack (file writes)
  'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync', 'pg_logdir_ls',
  // large objects (server-side file import/export, writes)
  'loread', 'lowrite',
  // dynamic SQL: functions that run a query given as text (or read a whole table/schema)
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'ts_stat', 'ts_rewrite',
  // the running statement's text (a masked rewrite carries key material, see docs/masking.md)
  'current_query',
  // configuration and session state
  'set_config', 'setseed', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_rotate_logfile_old',
  'pg_export_snapshot', 'pg_import_system_collations',
  // signals and administration
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_log_backend_memory_contexts', 'pg_promote', 'pg_switch_wal',
  'pg_create_restore_point', 'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup',
  'pg_wal_replay_pause', 'pg_wal_replay_resume', 'pg_wal_replay_wait', 'pg_log_standby_snapshot',
  'pg_stop_making_pinned_objects', 'pg_nextoid', 'pg_extension_config_dump', 'pg_stat_force_next_flush',
  'pg_sync_replication_slots', 'pg_get_shmem_allocations', 'pg_get_shmem_allocations_numa',
  'pg_get_backend_memory_contexts',
  // index maintenance that writes
  'brin_summarize_range', 'brin_summarize_new_values', 'brin_desummarize_range', 'gin_clean_pending_list',
  // statistics that write (PostgreSQL 17/18)
  'pg_restore_relation_stats', 'pg_restore_attribute_stats', 'pg_clear_relation_stats', 'pg_clear_attribute_stats',
  'pg_set_relation_stats', 'pg_set_attribute_stats', 'pg_restore_extended_stats', 'pg_clear_extended_stats',
  // replication slots
  'pg_drop_replication_slot', 'pg_replication_slot_advance', 'pg_logical_emit_message',
  'pg_copy_physical_replication_slot', 'pg_copy_logical_replication_slot',
  // sequences (side effects, or session state of a pooled connection)
  'nextval', 'setval', 'currval', 'lastval',
  // transaction ids that assign an xid
  'txid_current', 'pg_current_xact_id',
  // notifications
  'pg_notify',
  // low-level tuple access
  'currtid2', 'currtid_byrelname',
  // extensions commonly installed: network, remote SQL, file and cluster access
  'dblink', 'dblink_exec', 'dblink_open', 'dblink_fetch', 'dblink_close', 'dblink_connect', 'dblink_connect_u',
  'dblink_disconnect', 'dblink_send_query', 'dblink_get_result', 'dblink_get_connections', 'dblink_is_busy',
  'dblink_cancel_query', 'dblink_error_message', 'dblink_get_notify', 'dblink_get_pkey', 'dblink_build_sql_insert',
  'dblink_build_sql_delete', 'dblink_build_sql_update', 'pg_stat_statements_reset', 'pg_prewarm',
  'pg_buffercache_evict', 'pg_buffercache_evict_all', 'pg_buffercache_evict_relation', 'lo_manage',
  // extensions that run SQL given as text, or read a table named in text, outside the guard's view:
  // tablefunc, xml2 (xslt_process can also fetch documents), pgrowlocks, pg_background, pg_cron
  'crosstab', 'crosstab2', 'crosstab3', 'crosstab4', 'connectby', 'xpath_table', 'xslt_process', 'pgrowlocks',
  'pg_background_launch', 'pg_background_result', 'schedule', 'schedule_in_database', 'alter_job', 'unschedule',
  // extensions that read raw pages or WAL (every table's data, no masks), or write heap/visibility state
  'get_raw_page', 'heap_force_kill', 'heap_force_freeze', 'pg_truncate_visibility_map', 'pg_get_wal_record_info',
  'pg_get_wal_records_info', 'pg_get_wal_records_info_till_end_of_wal', 'pg_get_wal_block_info', 'pg_get_wal_stats',
  'pg_get_wal_stats_till_end_of_wal', 'pg_get_logical_snapshot_info', 'pg_get_logical_snapshot_meta',
  // extensions that reach the network or object storage: pgsql-http, pg_net, aws_s3
  'http', 'http_get', 'http_post', 'http_put', 'http_patch', 'http_delete', 'http_head', 'http_collect_response',
  'query_export_to_s3', 'table_import_from_s3',
];

/** Name prefixes of function families that are always unsafe. */
const DENIED_PREFIXES: readonly string[] = [
  'pg_ls_', // pg_ls_dir, pg_ls_logdir, pg_ls_waldir, pg_ls_tmpdir, pg_ls_archive_statusdir, pg_ls_*dir …
  'pg_read_', // pg_read_file, pg_read_binary_file (and future readers)
  'pg_file_', // adminpack
  'lo_', // lo_import, lo_export, lo_create, lo_creat, lo_unlink, lo_open, lo_put, lo_get, lo_from_bytea …
  'dblink', // dblink_* family
  'pg_sleep', // pg_sleep, pg_sleep_for, pg_sleep_until
  'pg_advisory', // pg_advisory_lock, _shared, _xact_, _unlock, _unlock_all
  'pg_try_advisory', // pg_try_advisory_lock …
  'pg_stat_reset', // pg_stat_reset, _shared, _single_table_counters, _slru, _replication_slot, _backend_stats …
  'pg_replication_origin_', // create, drop, session_setup, xact_setup, advance …
  'pg_logical_slot_', // get/peek changes (consumes the slot)
  'binary_upgrade_', // pg_upgrade support: writes catalog state
];

/** Name patterns of function families that are always unsafe. */
const DENIED_PATTERNS: readonly RegExp[] = [
  /^pg_create_.*replication_slot$/, // pg_create_physical_replication_slot, pg_create_logical_replication_slot
  /_to_xml$/, // table_to_xml, schema_to_xml, database_to_xml, cursor_to_xml, query_to_xml (run SQL / read whole tables)
  /_to_xmlschema$/,
  /_to_xml_and_xmlschema$/,
];

/**
 * The built-in deny set: functions that have side effects or reach outside the query — files,
 * network, administration, locks, sleep, dynamic SQL, large objects, replication, configuration,
 * sequences. Denied wherever they appear. `functions.deny` extends it; `functions.allow` removes
 * names from it (an operator's explicit decision).
 */
export const BUILTIN_DENIED_FUNCTIONS: {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly patterns: readonly RegExp[];
} = { exact: new Set(DENIED_EXACT), prefixes: DENIED_PREFIXES, patterns: DENIED_PATTERNS };

/** Whether a function name (as stored, unqualified) is in the built-in deny set. */
export function isBuiltinDenied(name: string): boolean {
  if (BUILTIN_DENIED_FUNCTIONS.exact.has(name)) return true;
  for (const p of DENIED_PREFIXES) if (name.startsWith(p)) return true;
  for (const r of DENIED_PATTERNS) if (r.test(name)) return true;
  return false;
}

/**
 * The safe core for `functions.mode: allowlist`: pg_catalog aggregates, window, math, string,
 * date/time, JSON and array functions, plus what SQL syntax turns into function calls
 * (EXTRACT, SUBSTRING, TRIM, POSITION, OVERLAY, AT TIME ZONE, SIMILAR TO, IS NORMALIZED…).
 */
export const SAFE_CORE_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'string_agg', 'array_agg', 'bool_and', 'bool_or', 'every', 'stddev',
  'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'percentile_cont', 'percentile_disc', 'mode',
  'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg', 'json_agg_strict', 'jsonb_agg_strict',
  'json_object_agg_strict', 'jsonb_object_agg_strict', 'json_object_agg_unique', 'jsonb_object_agg_unique',
  'corr', 'covar_pop', 'covar_samp', 'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2',
  'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy', 'bit_and', 'bit_or', 'bit_xor', 'any_value', 'range_agg',
  'range_intersect_agg', 'xmlagg', 'grouping',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value',
  'last_value', 'nth_value',
  // math
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sqrt', 'cbrt', 'power', 'pow', 'exp', 'ln', 'log',
  'log10', 'mod', 'sign', 'div', 'width_bucket', 'random', 'random_normal', 'pi', 'degrees', 'radians', 'sin',
  'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sind', 'cosd', 'tand', 'sinh', 'cosh', 'tanh', 'gcd', 'lcm',
  'factorial', 'scale', 'min_scale', 'trim_scale', 'numeric', 'int4', 'int8', 'float8', 'float4', 'text',
  // string
  'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'lower', 'upper', 'initcap', 'btrim',
  'ltrim', 'rtrim', 'substr', 'substring', 'left', 'right', 'lpad', 'rpad', 'replace', 'split_part', 'position',
  'strpos', 'concat', 'concat_ws', 'format', 'repeat', 'reverse', 'starts_with', 'regexp_replace', 'regexp_match',
  'regexp_matches', 'regexp_split_to_array', 'regexp_split_to_table', 'regexp_like', 'regexp_count',
  'regexp_substr', 'regexp_instr', 'translate', 'md5', 'sha224', 'sha256', 'sha384', 'sha512', 'encode', 'decode',
  'to_char', 'to_number', 'to_hex', 'quote_ident', 'quote_literal', 'quote_nullable', 'string_to_array',
  'string_to_table', 'array_to_string', 'ascii', 'chr', 'overlay', 'unistr', 'normalize', 'is_normalized',
  'casefold', 'similar_to_escape', 'like_escape', 'convert_from', 'convert_to',
  // date and time
  'now', 'date_trunc', 'date_part', 'extract', 'age', 'make_date', 'make_time', 'make_timestamp',
  'make_timestamptz', 'make_interval', 'date_bin', 'clock_timestamp', 'statement_timestamp',
  'transaction_timestamp', 'timeofday', 'to_date', 'to_timestamp', 'justify_days', 'justify_hours',
  'justify_interval', 'isfinite', 'timezone', 'date_add', 'date_subtract', 'overlaps', 'generate_series',
  // JSON
  'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'to_json', 'to_jsonb',
  'row_to_json', 'array_to_json', 'json_array_length', 'jsonb_array_length', 'json_each', 'jsonb_each',
  'json_each_text', 'jsonb_each_text', 'json_extract_path', 'jsonb_extract_path', 'json_extract_path_text',
  'jsonb_extract_path_text', 'json_object_keys', 'jsonb_object_keys', 'json_typeof', 'jsonb_typeof',
  'json_strip_nulls', 'jsonb_strip_nulls', 'jsonb_pretty', 'jsonb_set', 'jsonb_set_lax', 'jsonb_insert',
  'jsonb_path_query', 'jsonb_path_exists', 'jsonb_path_match', 'jsonb_path_query_array', 'jsonb_path_query_first',
  'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text',
  'json_populate_record', 'jsonb_populate_record', 'json_populate_recordset', 'jsonb_populate_recordset',
  'json_to_record', 'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset', 'json_object', 'jsonb_object',
  // arrays
  'array_length', 'cardinality', 'unnest', 'array_append', 'array_prepend', 'array_cat', 'array_position',
  'array_positions', 'array_remove', 'array_replace', 'array_upper', 'array_lower', 'array_ndims', 'array_dims',
  'generate_subscripts', 'array_fill', 'trim_array', 'array_sample', 'array_shuffle', 'array_reverse',
  'array_sort',
  // misc
  'gen_random_uuid', 'uuidv4', 'uuidv7', 'num_nulls', 'num_nonnulls', 'current_setting', 'version',
  'current_database', 'current_schema', 'pg_typeof', 'isempty', 'lower_inc', 'upper_inc', 'lower_inf',
  'upper_inf', 'range_merge',
]);

/**
 * Catalog functions that return other sessions' statement text: hidden even under
 * `catalogs: true` (all principals share the gateway's login role, so they would show one
 * principal another's statements, literals and mask keys included); only `functions.allow`
 * naming them opens them.
 */
export const SESSION_TEXT_FUNCTIONS: ReadonlySet<string> = new Set(['pg_stat_get_activity', 'pg_stat_get_backend_activity', 'pg_stat_statements']);

/**
 * Catalog functions never allowed, whatever the policy (`catalogs: true` and `functions.allow`
 * naming them included): pg_prepared_statement() lists the pooled connection's named statements,
 * i.e. the read path's statement cache (src/db/statement-cache.ts), literals and masked rewrites.
 */
export const NEVER_ALLOWED_CATALOG_FUNCTIONS: ReadonlySet<string> = new Set(['pg_prepared_statement']);

/** pg_catalog function names judged safe under `catalogs: false` (src/guard/builtins.ts). */
const ALLOWED_BUILTIN_SET: ReadonlySet<string> = new Set(Object.values(ALLOWED_BUILTINS).flat());
/** pg_catalog function names classified as catalog access (src/guard/builtins.ts). */
const CATALOG_BUILTIN_SET: ReadonlySet<string> = new Set(Object.values(CATALOG_BUILTINS).flat());

/**
 * Whether a pg_catalog function is catalog access under `catalogs: false`: every name that is not
 * on the reviewed allow list (src/guard/builtins.ts), including names the list does not know yet
 * (a newer server's additions fail closed).
 */
export function isCatalogFunction(name: string): boolean {
  return !ALLOWED_BUILTIN_SET.has(name);
}

/** How a pg_catalog function name is classified: 'allowed', 'catalog', 'unsafe' (deny set) or 'unclassified'. */
export function builtinClass(name: string): 'allowed' | 'catalog' | 'unsafe' | 'unclassified' {
  if (isBuiltinDenied(name)) return 'unsafe';
  if (ALLOWED_BUILTIN_SET.has(name)) return 'allowed';
  if (CATALOG_BUILTIN_SET.has(name)) return 'catalog';
  return 'unclassified';
}

const CATALOG_CATEGORY: ReadonlyMap<string, CatalogCategory> = new Map(
  (Object.entries(CATALOG_BUILTINS) as [CatalogCategory, readonly string[]][]).flatMap(([c, names]) => names.map((n) => [n, c] as const)),
);

function catalogWhy(name: string): string {
  switch (CATALOG_CATEGORY.get(name)) {
    case 'server':
      return 'reveals server, connection or session facts (a setting, an address, a version, a position, a size)';
    case 'internal':
      return 'is an internal support function';
    case 'introspection':
      return 'reads system catalog information';
    default:
      return 'is not on the reviewed list of built-ins that need no catalog access';
  }
}

/**
 * Settings `current_setting(name[, missing_ok])` may read under `catalogs: false` when `name` is a
 * string literal: the session's formatting and transaction settings, which the gateway pins or
 * which only shape values. Every other setting (paths, addresses, versions, custom settings such
 * as `app.jwt_secret`) is server configuration: SYSTEM_CATALOG. GUC names are case-insensitive.
 */
export const SAFE_SETTINGS: ReadonlySet<string> = new Set([
  'timezone', 'datestyle', 'intervalstyle', 'client_encoding', 'lc_monetary', 'lc_numeric', 'lc_time',
  'extra_float_digits', 'standard_conforming_strings', 'default_text_search_config', 'transaction_read_only',
  'transaction_isolation', 'transaction_deferrable', 'statement_timeout', 'lock_timeout', 'max_identifier_length',
  'integer_datetimes', 'bytea_output', 'xmlbinary', 'xmloption', 'default_transaction_read_only',
  'default_transaction_isolation', 'idle_in_transaction_session_timeout', 'array_nulls', 'backslash_quote',
  'escape_string_warning', 'quote_all_identifiers',
]);

/** Whether `current_setting(<text>)` reads a setting that is safe under `catalogs: false`. */
export function isSafeSetting(text: string | undefined): boolean {
  return text !== undefined && SAFE_SETTINGS.has(text.trim().toLowerCase());
}

/**
 * A lookup table keyed by function name without Object.prototype behind it: a SQL function named
 * `constructor` or `toString` must find nothing (it made the guard throw, INTERNAL_ERROR).
 */
function byName<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** Built-in functions whose positional arguments (0-based) are relation names (regclass or text). */
export const REGCLASS_ARGS: Readonly<Record<string, readonly number[]>> = byName({
  regclass: [0],
  to_regclass: [0],
  pg_relation_size: [0],
  pg_total_relation_size: [0],
  pg_table_size: [0],
  pg_indexes_size: [0],
  pg_relation_filenode: [0],
  pg_relation_filepath: [0],
  pg_partition_tree: [0],
  pg_partition_ancestors: [0],
  pg_partition_root: [0],
  pg_sequence_last_value: [0],
  pg_get_serial_sequence: [0],
  pg_get_viewdef: [0],
  pg_get_replica_identity_index: [0],
  pg_relation_is_updatable: [0],
  pg_column_is_updatable: [0],
  pg_index_has_property: [0],
  pg_index_column_has_property: [0],
  nextval: [0],
  setval: [0],
  currval: [0],
  table_to_xml: [0],
  table_to_xmlschema: [0],
  table_to_xml_and_xmlschema: [0],
});

/**
 * Built-in functions whose positional arguments (0-based) are type names (text): a type may be a
 * relation's row type, judged like the relation when it is one.
 */
export const TYPENAME_ARGS: Readonly<Record<string, readonly number[]>> = byName({
  to_regtype: [0],
  to_regtypemod: [0],
  pg_input_is_valid: [1],
  pg_input_error_info: [1],
  pg_basetype: [0],
});

/** Built-in functions whose positional arguments (0-based) are function names (text). */
export const REGPROC_ARGS: Readonly<Record<string, readonly number[]>> = byName({
  to_regproc: [0],
  to_regprocedure: [0],
});

/**
 * Built-in name-lookup functions: given a value computed at run time (not a literal) they resolve
 * names through the system catalogs, so they follow the catalogs switch.
 */
export const NAME_LOOKUP_FUNCTIONS: ReadonlySet<string> = new Set([
  'to_regclass', 'to_regproc', 'to_regprocedure', 'to_regoper', 'to_regoperator', 'to_regtype', 'to_regtypemod',
  'to_regrole', 'to_regnamespace', 'to_regcollation', 'regclass',
]);

export type FunctionVerdict =
  | { ok: true; resolved: string }
  | { ok: false; code: 'UNSAFE_FUNCTION' | 'FUNCTION_NOT_ALLOWED' | 'SYSTEM_CATALOG'; resolved: string; why: string; unknown?: boolean };

export interface FunctionRules {
  mode: 'denylist' | 'allowlist';
  allow: readonly string[];
  deny: readonly string[];
  /** The policy's `catalogs` switch: catalog-introspection functions follow it. */
  catalogs?: boolean;
}

/** Schemas an unqualified function or relation name is looked up in, in PostgreSQL's order. */
export function effectiveSearchPath(searchPath: readonly string[]): readonly string[] {
  const last = lastPath;
  if (last !== undefined && last.input === searchPath && sameStrings(last.copy, searchPath)) return last.path;
  const filtered = searchPath.filter((s) => s !== '$user' && s !== 'pg_temp');
  const path: readonly string[] = filtered.includes('pg_catalog') ? filtered : ['pg_catalog', ...filtered];
  lastPath = { input: searchPath, copy: searchPath.slice(), path };
  return path;
}

/**
 * The last answer of effectiveSearchPath (a cold decision asks for it once per name it resolves,
 * with the request's one search path): reused for the same array with the same contents (a
 * caller that changed the array in place gets a fresh answer); callers share it (readonly).
 */
let lastPath: { input: readonly string[]; copy: readonly string[]; path: readonly string[] } | undefined;

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether functions.allow names this function explicitly (`name` or `schema.name`, no wildcard):
 * only an explicit entry lifts the built-in deny set or the catalog gate, so `allow: ['app.*']`
 * (or `'*'`) never re-enables pg_read_file.
 */
function policyAllowsExplicitly(rules: FunctionRules, schema: string, name: string): boolean {
  return rules.allow.includes(name) || rules.allow.includes(`${schema}.${name}`);
}

function policyAllows(rules: FunctionRules, schema: string, name: string): boolean {
  return rules.allow.length > 0 && matchesAny(rules.allow, schema, name);
}

function policyDenies(rules: FunctionRules, schema: string, name: string): boolean {
  return rules.deny.length > 0 && matchesAnyDeny(rules.deny, schema, name);
}

/** Judge one candidate (schema, name) that exists in the catalog (exported for tests). */
export function judgeCandidate(fn: CatalogFunction, rules: FunctionRules, policyName: string, catalogSafe: boolean): FunctionVerdict {
  const resolved = `${fn.schema}.${fn.name}`;
  const allowed = policyAllows(rules, fn.schema, fn.name);
  const explicit = policyAllowsExplicitly(rules, fn.schema, fn.name);
  if (policyDenies(rules, fn.schema, fn.name)) {
    return { ok: false, code: 'FUNCTION_NOT_ALLOWED', resolved, why: `is denied by policy '${policyName}'` };
  }
  if (isBuiltinDenied(fn.name) && !explicit) {
    return { ok: false, code: 'UNSAFE_FUNCTION', resolved, why: 'is in the built-in deny set (side effects, file, network, admin, lock, sleep or dynamic SQL)' };
  }
  if (fn.schema !== 'pg_catalog') {
    if (allowed) return { ok: true, resolved };
    const what = fn.securityDefiner ? 'a SECURITY DEFINER function' : 'a user-defined function';
    return { ok: false, code: 'FUNCTION_NOT_ALLOWED', resolved, why: `is ${what} that policy '${policyName}' does not allow` };
  }
  if (rules.catalogs !== true && !explicit && !catalogSafe && isCatalogFunction(fn.name)) {
    return { ok: false, code: 'SYSTEM_CATALOG', resolved, why: `${catalogWhy(fn.name)}, hidden by policy '${policyName}'` };
  }
  if (NEVER_ALLOWED_CATALOG_FUNCTIONS.has(fn.name)) {
    return { ok: false, code: 'SYSTEM_CATALOG', resolved, why: "lists the connection's prepared statements (the gateway's statement cache) and is never allowed" };
  }
  if (!explicit && SESSION_TEXT_FUNCTIONS.has(fn.name)) {
    return { ok: false, code: 'SYSTEM_CATALOG', resolved, why: `returns other sessions' statement text, hidden even though policy '${policyName}' allows catalogs` };
  }
  if (rules.mode === 'allowlist' && !allowed && !SAFE_CORE_FUNCTIONS.has(fn.name)) {
    return { ok: false, code: 'FUNCTION_NOT_ALLOWED', resolved, why: `is not on the function allow-list of policy '${policyName}'` };
  }
  return { ok: true, resolved };
}

/**
 * Whether judgeCandidate gives `a` and `b` the same verdict (for the same rules, policy and
 * catalogSafe): it reads a candidate's schema and name, and its securityDefiner only outside
 * pg_catalog. Overloads of one name share both, so judgeFunction judges each schema's overloads
 * once instead of once per argument list (`sum` has 8 in pg_catalog).
 */
export function sameVerdict(a: CatalogFunction, b: CatalogFunction): boolean {
  return a.schema === b.schema && a.name === b.name && (a.schema === 'pg_catalog' || a.securityDefiner === b.securityDefiner);
}

/**
 * Whether the candidates hold one in pg_catalog and one outside it: only then can dropping the
 * outside ones PostgreSQL would never pick change the set (judgeFunction).
 */
function hasBothKinds(candidates: readonly CatalogFunction[]): boolean {
  let builtin = false;
  let user = false;
  for (const f of candidates) {
    if (f.schema === 'pg_catalog') builtin = true;
    else user = true;
  }
  return builtin && user;
}

/**
 * Judge a function reference. `parts` is [name], [schema, name] or [catalog, schema, name].
 * Returns one verdict per refusing candidate, or a single ok verdict.
 */
export function judgeFunction(
  parts: readonly string[],
  catalog: CatalogSnapshot,
  searchPath: readonly string[],
  rules: FunctionRules,
  policyName: string,
  options: { catalogSafe?: boolean; userCandidatesThatMatter?: (candidates: readonly CatalogFunction[]) => ReadonlySet<CatalogFunction> } = {},
): FunctionVerdict {
  const name = parts[parts.length - 1] ?? '';
  const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  const display = parts.join('.');
  if (parts.length > 3 || name === '') {
    return { ok: false, code: 'FUNCTION_NOT_ALLOWED', resolved: display, why: 'is not a valid function name', unknown: false };
  }
  const overloads = catalog.functions.get(name) ?? [];
  const schemas = schema !== undefined ? [schema] : effectiveSearchPath(searchPath);
  let candidates = overloads.filter((f) => schemas.includes(f.schema));
  if (schema === undefined && options.userCandidatesThatMatter !== undefined && hasBothKinds(candidates)) {
    // PostgreSQL picks by argument types: a candidate outside pg_catalog it could never pick for
    // these arguments (an extension's strpos(citext, citext) for text) does not count (resolve.ts)
    const matter = options.userCandidatesThatMatter(candidates);
    candidates = candidates.filter((f) => f.schema === 'pg_catalog' || matter.has(f));
  }
  if (candidates.length === 0) {
    // Not in the snapshot. A denied built-in name is still UNSAFE_FUNCTION (clearer, and correct
    // even if the snapshot is stale).
    if (isBuiltinDenied(name) && !policyAllowsExplicitly(rules, schema ?? 'pg_catalog', name)) {
      return { ok: false, code: 'UNSAFE_FUNCTION', resolved: schema ? display : name, why: 'is in the built-in deny set' };
    }
    return { ok: false, code: 'FUNCTION_NOT_ALLOWED', resolved: display, why: 'does not exist in this database', unknown: true };
  }
  // every candidate must pass; report the first refusal (pg_catalog first, then path order)
  let firstOk: FunctionVerdict | undefined;
  for (const s of schemas) {
    let passed: CatalogFunction | undefined;
    for (const fn of candidates) {
      if (fn.schema !== s) continue;
      // an overload whose verdict cannot differ from one that passed also passes (sameVerdict)
      if (passed !== undefined && sameVerdict(passed, fn)) continue;
      const v = judgeCandidate(fn, rules, policyName, options.catalogSafe === true);
      if (!v.ok) return v;
      firstOk ??= v;
      passed = fn;
    }
  }
  return firstOk ?? { ok: true, resolved: `${candidates[0]?.schema}.${name}` };
}

/** Judge a TABLESAMPLE method: the built-in SYSTEM and BERNOULLI only, unless allowed. */
export function judgeTablesample(parts: readonly string[], rules: FunctionRules, policyName: string): FunctionVerdict {
  const name = parts[parts.length - 1] ?? '';
  const schema = parts.length >= 2 ? (parts[parts.length - 2] as string) : 'pg_catalog';
  if (schema === 'pg_catalog' && (name === 'system' || name === 'bernoulli')) return { ok: true, resolved: `pg_catalog.${name}` };
  if (policyAllows(rules, schema, name)) return { ok: true, resolved: `${schema}.${name}` };
  return { ok: false, code: 'FUNCTION_NOT_ALLOWED', resolved: parts.join('.'), why: `is a TABLESAMPLE method that policy '${policyName}' does not allow` };
}

/**
 * Judge an operator: an operator outside pg_catalog that PostgreSQL could pick is refused unless
 * allowed by name. With the snapshot's type information (`matters`), only the candidates on the
 * path (or in the named schema) that the operand types allow count (resolve.ts); without it,
 * every operator of that name outside pg_catalog, in any schema, counts.
 */
export function judgeOperator(
  parts: readonly string[],
  catalog: CatalogSnapshot,
  rules: FunctionRules,
  policyName: string,
  matters?: (name: string, schema: string | undefined) => readonly CatalogOperator[],
): FunctionVerdict {
  const op = parts[parts.length - 1] ?? '';
  const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  const display = parts.join('.');
  let user: boolean;
  let resolved = display;
  if (matters !== undefined) {
    const picked = schema === 'pg_catalog' ? [] : matters(op, schema);
    user = picked.length > 0;
    if (user && schema === undefined) resolved = `${(picked[0] as CatalogOperator).schema}.${op}`;
  } else {
    user = schema !== undefined ? schema !== 'pg_catalog' : catalog.userOperators.has(op);
  }
  if (!user) return { ok: true, resolved: `pg_catalog.${op}` };
  if (rules.allow.includes(op) || rules.allow.includes(display) || rules.allow.includes(resolved)) return { ok: true, resolved };
  return {
    ok: false,
    code: 'FUNCTION_NOT_ALLOWED',
    resolved: `operator ${display}`,
    why: `is defined outside pg_catalog and policy '${policyName}' does not allow it`,
  };
}
