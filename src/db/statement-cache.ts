/**
 * StatementCache: the read path's named prepared statements on ONE pooled connection (issue #13:
 * PostgreSQL parses and plans a statement once per connection and text, then only binds and
 * executes it — what pgx does for MCP Toolbox). The security design is in SECURITY.md, layer 4,
 * "The statement cache".
 *
 * Guarantees:
 * - One owner per connection (principal setting and value, role, search_path; compared field by
 *   field, no key string two owners could share). A read by another owner gets every statement
 *   of the previous owner in `close` (the pipeline closes them at its head, before BEGIN, where
 *   nothing can fail before them) and an empty cache: a statement is never bound by, or visible
 *   on the connection to, a principal other than the one that prepared it, nor bound under a
 *   role other than the one it was parsed under.
 * - A hit is an exact string match of the text. A name is `pgwarden_s` and 32 hex digits of the
 *   SHA-256 of the owner and the text (statementName): the same name always means the same owner
 *   and text, on every connection. That matters behind a transaction-pooling proxy without
 *   prepared-statement support, where a Bind can reach a server connection another of our
 *   connections prepared: a per-connection counter there would bind another principal's text
 *   under the same name; a digest binds the same text of the same owner, or nothing (26000).
 * - Bounded: at most `max` statements and STATEMENT_CACHE_MAX_CHARS characters of text per
 *   connection (the least recently used are closed first), texts of at most
 *   STATEMENT_CACHE_MAX_TEXT characters (longer ones are not cached).
 * - A first use is recorded only when its pipeline succeeded; otherwise its name is closed in
 *   the next pipeline (the Parse may have succeeded before a run-time error). Names to close stay
 *   pending until a pipeline that carried them was answered (settle), so a read that fails before
 *   reaching the server loses none.
 * Does not: talk to the server (CappedQuery sends the Close/Parse/Bind messages), or decide when
 * the cache is off (pool.ts: EXPLAIN, a server that does not keep named statements).
 */

import { createHash } from 'node:crypto';

/** Who the statements of a connection belong to (the read's hardening context). */
export interface CacheOwner {
  role?: string | undefined;
  searchPath: readonly string[];
  principal?: { setting: string; value: string } | undefined;
}

/**
 * Statements kept per connection by default (pgx keeps 512; an agent's working set of point
 * lookups is a few hundred texts, the peers' benchmark cycles through 200).
 */
export const STATEMENT_CACHE_MAX = 256;
/** Longest statement text (UTF-16 code units) that is cached. */
export const STATEMENT_CACHE_MAX_TEXT = 8192;
/** Text (UTF-16 code units) kept per connection at most, all statements together (≤ 512 KiB of strings). */
export const STATEMENT_CACHE_MAX_CHARS = 256 * 1024;

/**
 * Texts that may hold a literal PostgreSQL turns into a value when it PARSES the statement, not when
 * it runs it: the date/time input words 'now', 'today', 'tomorrow' and 'yesterday' (`'now'::timestamptz`,
 * `created_at > 'today'`). A prepared statement keeps that value, so a cached one would answer with
 * the time of its first use — stale results, and a clock of when this principal's statements were
 * last closed on the connection, i.e. of other principals' reads there. Escapes (E'n\157w',
 * U&'\006Eow') can spell the words, so a backslash or U& is enough not to cache. Never cached:
 * parsed every time, as without the cache.
 */
const PARSE_TIME_VALUE = /now|today|tomorrow|yesterday|\\|u&/i;

/** Whether a text may be kept prepared (see PARSE_TIME_VALUE and STATEMENT_CACHE_MAX_TEXT). */
export function cacheable(text: string): boolean {
  return text.length <= STATEMENT_CACHE_MAX_TEXT && !PARSE_TIME_VALUE.test(text);
}

/** How one read uses the cache: which name to bind, whether to parse it first, what to close. */
export interface StatementUse {
  /** '' for the unnamed statement (not kept). */
  readonly name: string;
  /** Not prepared on the connection yet: the pipeline sends Parse of `name` first. */
  readonly parse: boolean;
  /** Names to Close at the head of the pipeline (a previous owner's, evicted, failed first uses). */
  readonly close: readonly string[];
  readonly text: string;
}

export class StatementCache {
  private owner: CacheOwner | undefined;
  /** text → name, least recently used first. */
  private readonly entries = new Map<string, string>();
  private chars = 0;
  /** Names to close, carried by every pipeline until one is answered. */
  private pending: string[] = [];

  constructor(private readonly max: number = STATEMENT_CACHE_MAX) {}

  /** How many statements the cache believes are prepared, and their text's length (for tests and bounds). */
  get size(): number {
    return this.entries.size;
  }

  get textChars(): number {
    return this.chars;
  }

  /** Names still to be closed on the connection. */
  get pendingClose(): readonly string[] {
    return this.pending;
  }

  /**
   * Plan one read of `text` by `owner`. Every read on the connection goes through here, kept or not:
   * a read by another owner closes the previous owner's statements first even when its own
   * statement is not kept (`keep` false: EXPLAIN, the cache turned off; or not cacheable()) — then
   * it is the unnamed statement (`name` ''), parsed every time.
   */
  use(owner: CacheOwner, text: string, keep = true): StatementUse {
    if (this.owner === undefined || !sameOwner(this.owner, owner)) {
      for (const name of this.entries.values()) this.pending.push(name);
      this.entries.clear();
      this.chars = 0;
      this.owner = snapshotOwner(owner);
    }
    if (!keep || !cacheable(text)) return { name: '', parse: true, close: [...this.pending], text };
    const cached = this.entries.get(text);
    if (cached !== undefined) {
      this.entries.delete(text); // most recently used last
      this.entries.set(text, cached);
      return { name: cached, parse: false, close: [...this.pending], text };
    }
    while (this.entries.size > 0 && (this.entries.size >= this.max || this.chars + text.length > STATEMENT_CACHE_MAX_CHARS)) {
      const oldest = this.entries.entries().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest[0]);
      this.chars -= oldest[0].length;
      this.pending.push(oldest[1]);
    }
    return { name: statementName(owner, text), parse: true, close: [...this.pending], text };
  }

  /**
   * The read's pipeline was answered by the server (so its head Closes ran): `ok` records a
   * first use; a failed first use is closed next time (its Parse may have succeeded).
   */
  settle(use: StatementUse, ok: boolean): void {
    const closed = new Set(use.close);
    this.pending = this.pending.filter((n) => !closed.has(n));
    if (!use.parse || use.name === '' || this.entries.get(use.text) === use.name) return;
    if (ok && this.entries.size < this.max && this.chars + use.text.length <= STATEMENT_CACHE_MAX_CHARS && !this.entries.has(use.text)) {
      this.entries.set(use.text, use.name);
      this.chars += use.text.length;
    } else this.pending.push(use.name);
  }

  /** A cached statement the server found stale (0A000) or lost (26000): forget it, close it next time. */
  drop(use: StatementUse): void {
    if (this.entries.get(use.text) === use.name) {
      this.entries.delete(use.text);
      this.chars -= use.text.length;
    }
    this.pending.push(use.name);
  }
}

/**
 * The statement name of `text` prepared by `owner`: a digest of both, unambiguous (JSON of the
 * owner's fields, then the text), 42 characters (under PostgreSQL's 63-byte identifier limit).
 */
export function statementName(owner: CacheOwner, text: string): string {
  const who = JSON.stringify([owner.role ?? null, owner.principal?.setting ?? null, owner.principal?.value ?? null, owner.searchPath]);
  return `pgwarden_s${createHash('sha256').update(who).update('\0').update(text).digest('hex').slice(0, 32)}`;
}

function snapshotOwner(o: CacheOwner): CacheOwner {
  const copy: CacheOwner = { searchPath: [...o.searchPath] };
  if (o.role !== undefined) copy.role = o.role;
  if (o.principal !== undefined) copy.principal = { setting: o.principal.setting, value: o.principal.value };
  return copy;
}

function sameOwner(a: CacheOwner, b: CacheOwner): boolean {
  return (
    a.role === b.role &&
    a.principal?.setting === b.principal?.setting &&
    a.principal?.value === b.principal?.value &&
    a.searchPath.length === b.searchPath.length &&
    a.searchPath.every((s, i) => s === b.searchPath[i])
  );
}

/** One cache per pooled connection (pg's Client object lives exactly as long as its backend connection). */
const caches = new WeakMap<object, StatementCache>();

export function statementCacheOf(client: object, max: number = STATEMENT_CACHE_MAX): StatementCache {
  let cache = caches.get(client);
  if (cache === undefined) {
    cache = new StatementCache(max);
    caches.set(client, cache);
  }
  return cache;
}
