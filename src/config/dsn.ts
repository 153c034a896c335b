/**
 * Database connection strings as operators write them: `postgres://` URLs and libpq key/value
 * conninfo strings (`host=db.internal port=5432 dbname=app user=pgwarden_ro password=…`), checked
 * when the configuration loads and turned into one URL form the pool understands.
 *
 * Guarantees:
 * - A DSN that cannot connect for a reason visible in its text (unknown scheme, non-numeric or
 *   out-of-range port, no database host, an unknown or unsupported conninfo keyword, unbalanced
 *   quotes) is a load-time issue, never a call-time INTERNAL_ERROR.
 * - Issue messages name the keyword or the part that is wrong, never a value: a password (or
 *   anything else in the DSN) is not echoed.
 * - A conninfo string becomes the equivalent URL with every value percent-encoded, so a password
 *   holding `@`, `/`, `?` or spaces survives the conversion unchanged.
 * Does not: resolve host names or try to connect (the db layer does that at start-up), or accept
 *   several hosts (libpq's failover lists), service files or `hostaddr`.
 *
 * Hand-written rather than a library: `pg-connection-string` (pg's own parser) accepts URLs only
 * and no maintained npm package parses libpq conninfo; the grammar (keyword = value, values
 * single-quoted with backslash escapes) is 30 lines.
 */

export type DsnResult = { ok: true; url: string } | { ok: false; issue: string };

/** libpq keywords we carry over, and the URL spelling of each (null: the URL's path or authority). */
const CONNINFO_KEYS: Readonly<Record<string, string | null>> = {
  host: null,
  port: null,
  dbname: null,
  user: null,
  password: null,
  sslmode: 'sslmode',
  application_name: 'application_name',
  options: 'options',
  connect_timeout: 'connect_timeout',
  sslrootcert: 'sslrootcert',
  sslcert: 'sslcert',
  sslkey: 'sslkey',
};

const URL_SCHEME_RE = /^postgres(ql)?:\/\//i;

/** Check a DSN and return it as a postgres:// URL, or an issue that names no value. */
export function normalizeDsn(dsn: string): DsnResult {
  const text = dsn.trim();
  if (URL_SCHEME_RE.test(text)) return checkUrl(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return { ok: false, issue: 'must be a postgres:// (or postgresql://) URL or a libpq key/value string such as "host=db port=5432 dbname=app user=u"' };
  }
  const parsed = parseConninfo(text);
  if (!parsed.ok) return parsed;
  return checkUrl(conninfoToUrl(parsed.pairs));
}

function checkUrl(text: string): DsnResult {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // WHATWG URL rejects a non-numeric or out-of-range port, and a malformed authority.
    const port = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)/i.exec(text)?.[1];
    if (port !== undefined && !validPort(port)) return { ok: false, issue: 'the port must be a number from 1 to 65535' };
    return { ok: false, issue: 'is not a valid URL (percent-encode special characters such as @ / ? # in the user name or password)' };
  }
  if (url.port !== '' && !validPort(url.port)) return { ok: false, issue: 'the port must be a number from 1 to 65535' };
  const socketHost = url.searchParams.get('host');
  if (url.hostname === '' && (socketHost === null || socketHost === '')) {
    return { ok: false, issue: 'names no host: put one after // (postgres://user@host:5432/db) or a socket directory in ?host=' };
  }
  const port = url.searchParams.get('port');
  if (port !== null && !validPort(port)) return { ok: false, issue: 'the port must be a number from 1 to 65535' };
  return { ok: true, url: text };
}

function validPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

type ParsedConninfo = { ok: true; pairs: Map<string, string> } | { ok: false; issue: string };

/** libpq conninfo: `keyword = value` pairs separated by whitespace; values may be 'single quoted' with \ escapes. */
export function parseConninfo(text: string): ParsedConninfo {
  const pairs = new Map<string, string>();
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  for (skipSpace(); i < text.length; skipSpace()) {
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i++;
    const key = text.slice(keyStart, i).toLowerCase();
    skipSpace();
    if (key === '' || text[i] !== '=') {
      return { ok: false, issue: 'is neither a postgres:// URL nor a libpq key/value string ("host=db port=5432 dbname=app user=u")' };
    }
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] as string;
        if (ch === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (!closed) return { ok: false, issue: `the quoted value of "${key}" has no closing quote` };
    } else {
      while (i < text.length && !/\s/.test(text[i] as string)) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
    }
    if (!Object.hasOwn(CONNINFO_KEYS, key)) {
      return { ok: false, issue: `keyword "${key}" is not supported (supported: ${Object.keys(CONNINFO_KEYS).join(', ')}); write the DSN as a postgres:// URL instead` };
    }
    if (pairs.has(key)) return { ok: false, issue: `keyword "${key}" is given twice` };
    pairs.set(key, value);
  }
  if (pairs.size === 0) return { ok: false, issue: 'is empty' };
  return { ok: true, pairs };
}

function conninfoToUrl(pairs: Map<string, string>): string {
  const enc = encodeURIComponent;
  const user = pairs.get('user');
  const password = pairs.get('password');
  const host = pairs.get('host') ?? 'localhost';
  const socket = host.startsWith('/');
  const port = pairs.get('port');
  let auth = '';
  if (user !== undefined) auth = enc(user) + (password !== undefined ? `:${enc(password)}` : '') + '@';
  else if (password !== undefined) auth = `:${enc(password)}@`;
  // A socket directory goes in ?host= (pg's parser lets it win over the authority's host).
  const hostPart = socket ? 'localhost' : host.includes(':') ? `[${host}]` : enc(host);
  const portPart = port !== undefined && !socket ? `:${port}` : '';
  const params = new URLSearchParams();
  if (socket) params.set('host', host);
  if (socket && port !== undefined) params.set('port', port);
  for (const [key, urlKey] of Object.entries(CONNINFO_KEYS)) {
    const v = pairs.get(key);
    if (urlKey !== null && v !== undefined) params.set(urlKey, v);
  }
  const query = params.toString();
  return `postgres://${auth}${hostPart}${portPart}/${enc(pairs.get('dbname') ?? '')}${query === '' ? '' : `?${query}`}`;
}
