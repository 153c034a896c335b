/**
 * Redaction for printing a resolved configuration (`pgwarden serve --dry-run`) and for any
 * string that may hold a DSN.
 *
 * Guarantees: in the copy returned by redactConfig, every DSN password (userinfo, `password=`
 * query parameter or conninfo keyword), every raw token, every TLS key and every value under a
 * key matching /password|secret|token|key/i is `***`; token digests are shortened to a
 * 12-character prefix (enough to tell tokens apart, not to test guesses offline).
 * Does not: detect secrets pasted into free text such as descriptions, beyond DSN passwords.
 */
import type { Config } from './schema.js';

export const REDACTED = '***';
const SECRET_KEY_RE = /password|secret|token|key/i;

/**
 * Mask the password of every postgres-style URL and conninfo in a string:
 * `postgres://user:pw@host/db` → `postgres://user:***@host/db`, `?password=pw` → `?password=***`,
 * `password=pw host=h` → `password=*** host=h`.
 */
export function redactDsn(s: string): string {
  let out = s.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s]*)/gi, (_m, scheme: string, rest: string) => scheme + redactAuthority(rest));
  out = out.replace(/([?&;]password=)[^&#\s]*/gi, `$1${REDACTED}`);
  out = out.replace(/(^|\s)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, `$1$2${REDACTED}`);
  return out;
}

function redactAuthority(rest: string): string {
  // userinfo ends at the LAST '@' before the query/fragment, so an unencoded '@' or '/' in a
  // password is still covered.
  const end = rest.search(/[?#]/);
  const head = end === -1 ? rest : rest.slice(0, end);
  const at = head.lastIndexOf('@');
  if (at === -1) return rest;
  const userinfo = head.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon === -1) return rest;
  return `${userinfo.slice(0, colon + 1)}${REDACTED}${rest.slice(at)}`;
}

/** Keys whose children are user-chosen names (not config keys), so their names are not secret markers. */
const NAME_MAPS = new Set(['databases', 'principals', 'policies', 'schemas', 'tables', 'columns']);

function redactNode(value: unknown, key: string | undefined, parentKey: string | undefined): unknown {
  const keyIsName = parentKey !== undefined && NAME_MAPS.has(parentKey);
  const secretKey = key !== undefined && !keyIsName && SECRET_KEY_RE.test(key);
  if (typeof value === 'string') {
    if (key === 'sha256') return `${value.slice(0, 12)}…`;
    return secretKey ? REDACTED : redactDsn(value);
  }
  if (typeof value === 'number' || typeof value === 'bigint') return secretKey ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => redactNode(v, key, parentKey));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactNode(v, k, key);
    return out;
  }
  return value;
}

/** A deep copy of the config that is safe to print. */
export function redactConfig(config: Config): Config {
  return redactNode(config, undefined, undefined) as Config;
}
