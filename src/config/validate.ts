/**
 * Cross-reference checks that need the whole (schema-valid) configuration.
 *
 * Guarantees: every principal's policy exists; every database a policy names exists; principal
 * names are unique even ignoring case; raw agent and operator tokens pass tokenWeakness (length,
 * visible ASCII, no template placeholder, enough distinct characters and estimated bits);
 * no token (by digest) is configured twice; token ids are unique; HTTP has at least one
 * unexpired token; search_path entries, schema names, role names, table/function patterns and
 * description keys are well-formed; DSNs are postgres:// URLs or libpq key/value strings with a
 * numeric port and a host (src/config/dsn.ts). Messages name paths and
 * principals, never token or DSN values.
 * Does not: check that schemas, tables, roles or functions exist in the database (that needs
 * a connection; the db layer does it at start-up).
 */
import { digestToken } from './token-digest.js';
import { normalizeDsn } from './dsn.js';
import { tokenWeakness } from './token-strength.js';
import { formatPath } from './introspect.js';
import type { Config } from './schema.js';
import { validateDefinitions } from './validate-definitions.js';

export { MIN_TOKEN_LENGTH } from './token-strength.js';

/** Schema and role names: letters, digits, _ $ -, starting with a letter or _; at most 63 bytes. */
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_$-]*$/;
/** One part of a `schema.table` pattern: identifier characters and `*`. */
const PATTERN_PART_RE = /^[A-Za-z0-9_$*-]+$/;
/** Names SET ROLE treats specially: `SET ROLE none` would undo the role switch. */
const RESERVED_ROLES = new Set(['none', 'public', 'current_user', 'session_user', 'current_role', 'default', 'all']);

function identIssue(value: string): string | undefined {
  if (!IDENT_RE.test(value)) return 'must be a plain name (letters, digits, _ $ -, starting with a letter or _)';
  if (Buffer.byteLength(value, 'utf8') > 63) return 'is longer than 63 bytes (PostgreSQL would truncate it)';
  return undefined;
}

function schemaNameIssue(value: string): string | undefined {
  if (value === '$user') return '$user is resolved at run time and cannot be pinned; name the schema';
  if (/^pg_(temp|toast)/i.test(value)) return `${value} cannot be listed`;
  return identIssue(value);
}

function patternIssue(value: string, parts: number, what: string): string | undefined {
  const split = value.split('.');
  if (split.length !== parts || !split.every((p) => PATTERN_PART_RE.test(p))) return `must be ${what}`;
  return undefined;
}

export interface ValidateOptions {
  /** Skip the "http needs at least one token" check (commands that do not serve). */
  allowNoTokens?: boolean | undefined;
}

export function validateConfig(config: Config, now: Date = new Date(), options: ValidateOptions = {}): string[] {
  const issues: string[] = [];
  const at = (path: (string | number)[], msg: string): void => {
    issues.push(`${formatPath(path)}: ${msg}`);
  };

  const databases = Object.keys(config.databases);
  if (databases.length === 0) at(['databases'], 'at least one database is required (or set DATABASE_URL)');
  for (const [name, db] of Object.entries(config.databases)) {
    const dsn = normalizeDsn(db.url);
    if (!dsn.ok) at(['databases', name, 'url'], dsn.issue);
    db.search_path.forEach((s, i) => {
      const msg = schemaNameIssue(s);
      if (msg) at(['databases', name, 'search_path', i], msg);
    });
    if ((db.tls.cert === undefined) !== (db.tls.key === undefined)) at(['databases', name, 'tls'], 'cert and key must be set together');
  }

  for (const [name, policy] of Object.entries(config.policies)) {
    for (const [dbName, dp] of Object.entries(policy.databases)) {
      const base = ['policies', name, 'databases', dbName];
      if (!Object.hasOwn(config.databases, dbName)) {
        at(base, `unknown database "${dbName}" (defined: ${databases.join(', ') || 'none'})`);
      }
      dp.schemas.forEach((s, i) => {
        const msg = schemaNameIssue(s);
        if (msg) at([...base, 'schemas', i], msg);
      });
      for (const list of ['allow', 'deny'] as const) {
        dp.tables[list].forEach((p, i) => {
          const msg = patternIssue(p, 2, 'schema.table (use * within a part, e.g. app.* or internal.*)');
          if (msg) at([...base, 'tables', list, i], msg);
        });
        dp.functions[list].forEach((f, i) => {
          const split = f.split('.');
          if (split.length > 2 || !split.every((p) => PATTERN_PART_RE.test(p))) at([...base, 'functions', list, i], 'must be name or schema.name');
        });
      }
      if (dp.role !== undefined) {
        const msg = RESERVED_ROLES.has(dp.role.toLowerCase()) ? `"${dp.role}" is a reserved role name` : identIssue(dp.role);
        if (msg) at([...base, 'role'], msg);
      }
      for (const k of Object.keys(dp.descriptions.schemas)) {
        const msg = identIssue(k);
        if (msg) at([...base, 'descriptions', 'schemas', k], msg);
      }
      for (const k of Object.keys(dp.descriptions.tables)) {
        const msg = patternIssue(k, 2, 'a schema.table key');
        if (msg) at([...base, 'descriptions', 'tables', k], msg);
      }
      for (const k of Object.keys(dp.descriptions.columns)) {
        const msg = patternIssue(k, 3, 'a schema.table.column key');
        if (msg) at([...base, 'descriptions', 'columns', k], msg);
      }
    }
  }

  const lowerNames = new Map<string, string>();
  const digests = new Map<string, string>();
  const ids = new Map<string, string>();
  let liveTokens = 0;
  for (const [name, principal] of Object.entries(config.principals)) {
    const other = lowerNames.get(name.toLowerCase());
    if (other !== undefined) at(['principals', name], `differs from principal "${other}" only by case; principal names must be unique`);
    lowerNames.set(name.toLowerCase(), name);

    if (!Object.hasOwn(config.policies, principal.policy)) {
      const defined = Object.keys(config.policies).join(', ') || 'none';
      at(['principals', name, 'policy'], `unknown policy "${principal.policy}" (defined: ${defined})`);
    }

    principal.tokens.forEach((t, i) => {
      const path = ['principals', name, 'tokens', i];
      const where = formatPath(path);
      const weak = t.token === undefined ? undefined : tokenWeakness(t.token);
      if (weak !== undefined) at([...path, 'token'], `the token of principal "${name}" ${weak}`);
      const digest = (t.sha256 ?? (t.token === undefined ? '' : digestToken(t.token))).toLowerCase();
      if (digest !== '') {
        const prev = digests.get(digest);
        if (prev !== undefined) at(path, `the same token is already configured at ${prev}; every token must be distinct`);
        else digests.set(digest, where);
      }
      const id = t.id ?? `${name}#${i}`;
      const prevId = ids.get(id);
      if (prevId !== undefined) at([...path, 'id'], `token id "${id}" is already used at ${prevId}`);
      else ids.set(id, where);
      if (t.expires_at === undefined || Date.parse(t.expires_at) > now.getTime()) liveTokens++;
    });
  }

  for (const [name, operator] of Object.entries(config.operators)) {
    operator.tokens.forEach((t, i) => {
      const weak = t.token === undefined ? undefined : tokenWeakness(t.token);
      if (weak !== undefined) at(['operators', name, 'tokens', i, 'token'], `the token of operator "${name}" ${weak}`);
    });
  }

  validateDefinitions(config, at);

  if (config.server.transport === 'http' && liveTokens === 0 && options.allowNoTokens !== true) {
    at(
      ['principals'],
      digests.size === 0
        ? 'the http transport needs at least one token: run `pgwarden token` and add its sha256 under principals.<name>.tokens (or set PGWARDEN_TOKEN), or use the stdio transport'
        : 'the http transport needs at least one token, and every configured token has expired: run `pgwarden token` to create a new one',
    );
  }
  return issues;
}
