/**
 * The decision cache: a bounded LRU map of decisions.
 *
 * Guarantees: at most `size` entries (size 0 disables caching) and at most `maxChars` characters
 * of statement text over all entries (a decision holds its parse tree, ≈ 7–20 bytes of heap per
 * character of text: without this bound 10 000 cached 100 KB statements would need gigabytes),
 * evicted least recently used first; a text longer than `maxChars` is not cached; the key covers everything a decision depends on — exact SQL text, tool, principal,
 * database, policy version, catalog version, observe, parameters and analyze flags — so a policy
 * reload or a catalog refresh can never serve a stale decision. A hit requires the identical text
 * (`===`); the sampled hash below only picks the bucket. Cached decisions are frozen (shallow) and
 * shared: callers must not mutate them (or their `stmt` AST).
 *
 * Layout: a short context key (everything but the SQL) → an index keyed by a cheap numeric hash
 * of the text (its length, its first and last EDGE characters and SAMPLES characters at a fixed
 * stride), so a lookup reads at most ~2·EDGE + SAMPLES characters instead of hashing the whole
 * text (every request brings a fresh string whose hash V8 has not cached; hashing a 1.7 KB text
 * cost ≈ 2 µs). A bucket holds up to BUCKET_MAX entries compared by `===` (a length check, then
 * memcmp); a bucket that would grow beyond that (texts that agree on every sampled character:
 * a family of same-length statements differing only in unsampled literals, or crafted
 * collisions) becomes an exact Map keyed by the text, i.e. the cost of a full hash as before and
 * no worse. So one lookup does at most BUCKET_MAX string comparisons or one full hash, whatever
 * the texts, and memory stays bounded by `size` entries. Colliding texts can only share a bucket
 * within one context, which includes the principal. Recency is one doubly linked list over all
 * entries (exact LRU).
 * Does not: expire entries by time (versions do that).
 */
import type { Decision, GuardRequest } from './types.js';

export function contextKey(req: GuardRequest): string {
  return `${req.tool}\u0001${req.principal}\u0001${req.database}\u0001${req.policyVersion}\u0001${req.catalog.version}\u0001${req.observe ? 1 : 0}${req.parameters ? 1 : 0}${req.analyze ? 1 : 0}`;
}

/** Characters hashed at each end of the text. */
const EDGE = 16;
/** Characters sampled at a fixed stride between the edges. */
const SAMPLES = 32;
/** Texts up to this length are hashed in full. */
const FULL_HASH_MAX = 2 * EDGE + SAMPLES;
/** Entries compared one by one in a bucket before it becomes an exact text-keyed Map. */
export const BUCKET_MAX = 8;

function mix(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}

/**
 * A cheap hash of a text: its length, its first and last EDGE characters and SAMPLES characters
 * at a fixed stride (every character when the text is short). Equal texts hash equal; different
 * texts may too (the cache compares the texts). A small non-negative integer (a V8 Smi).
 */
export function sampledHash(s: string): number {
  const n = s.length;
  let h = mix(0x811c9dc5, n);
  if (n <= FULL_HASH_MAX) {
    for (let i = 0; i < n; i++) h = mix(h, s.charCodeAt(i));
  } else {
    for (let i = 0; i < EDGE; i++) h = mix(mix(h, s.charCodeAt(i)), s.charCodeAt(n - 1 - i));
    const span = n - 2 * EDGE;
    for (let k = 0; k < SAMPLES; k++) h = mix(h, s.charCodeAt(EDGE + Math.floor(((2 * k + 1) * span) / (2 * SAMPLES))));
  }
  // final avalanche (murmur3 fmix32), then 30 bits
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

interface Entry {
  sql: string;
  value: Decision;
  hash: number;
  owner: Context;
  /** Toward the most recently used entry. */
  newer: Entry | null;
  /** Toward the least recently used entry. */
  older: Entry | null;
}

/** Up to BUCKET_MAX entries; or, once that overflows, a Map keyed by the text. */
type Bucket = Entry[] | Map<string, Entry>;

interface Context {
  key: string;
  buckets: Map<number, Bucket>;
  count: number;
}

export interface DecisionCacheOptions {
  /** The bucket hash (tests inject a constant one to force collisions). Default sampledHash. */
  hash?: (sql: string) => number;
  /** Most characters of statement text over all entries (default DEFAULT_CACHE_CHARS). */
  maxChars?: number;
}

/** Default text budget of the decision cache: 4 Mi characters (≈ 30–80 MB of cached trees). */
export const DEFAULT_CACHE_CHARS = 4 * 1024 * 1024;

export class DecisionCache {
  private readonly contexts = new Map<string, Context>();
  private readonly hash: (sql: string) => number;
  /** Most and least recently used entries. */
  private newest: Entry | null = null;
  private oldest: Entry | null = null;
  private count = 0;
  private chars = 0;
  private readonly maxChars: number;

  constructor(
    private readonly size: number,
    options: DecisionCacheOptions = {},
  ) {
    this.hash = options.hash ?? sampledHash;
    this.maxChars = options.maxChars ?? DEFAULT_CACHE_CHARS;
  }

  get(ctx: string, sql: string): Decision | undefined {
    const context = this.contexts.get(ctx);
    if (context === undefined) return undefined;
    const bucket = context.buckets.get(this.hash(sql));
    if (bucket === undefined) return undefined;
    const entry = find(bucket, sql);
    if (entry === undefined) return undefined;
    this.touch(entry);
    return entry.value;
  }

  set(ctx: string, sql: string, value: Decision): void {
    if (this.size <= 0 || sql.length > this.maxChars) return;
    let context = this.contexts.get(ctx);
    if (context === undefined) {
      context = { key: ctx, buckets: new Map(), count: 0 };
      this.contexts.set(ctx, context);
    }
    const hash = this.hash(sql);
    let bucket = context.buckets.get(hash);
    const existing = bucket === undefined ? undefined : find(bucket, sql);
    if (existing !== undefined) {
      existing.value = value;
      this.touch(existing);
      return;
    }
    const entry: Entry = { sql, value, hash, owner: context, newer: null, older: this.newest };
    if (bucket === undefined) {
      context.buckets.set(hash, [entry]);
    } else if (Array.isArray(bucket)) {
      if (bucket.length < BUCKET_MAX) {
        bucket.push(entry);
      } else {
        bucket = new Map(bucket.map((e) => [e.sql, e]));
        bucket.set(sql, entry);
        context.buckets.set(hash, bucket);
      }
    } else {
      bucket.set(sql, entry);
    }
    if (this.newest !== null) this.newest.newer = entry;
    this.newest = entry;
    this.oldest ??= entry;
    context.count++;
    this.count++;
    this.chars += sql.length;
    while ((this.count > this.size || this.chars > this.maxChars) && this.oldest !== null) this.evict(this.oldest);
  }

  clear(): void {
    this.contexts.clear();
    this.newest = null;
    this.oldest = null;
    this.count = 0;
    this.chars = 0;
  }

  /** Characters of statement text held (bounded by maxChars). */
  get textLength(): number {
    return this.chars;
  }

  get length(): number {
    return this.count;
  }

  /** The index's shape (tests): contexts, buckets, the longest list bucket, buckets turned into Maps, entries. */
  shape(): { contexts: number; buckets: number; longestList: number; mapBuckets: number; entries: number } {
    let buckets = 0;
    let longestList = 0;
    let mapBuckets = 0;
    let entries = 0;
    for (const context of this.contexts.values()) {
      for (const bucket of context.buckets.values()) {
        buckets++;
        if (Array.isArray(bucket)) {
          longestList = Math.max(longestList, bucket.length);
          entries += bucket.length;
        } else {
          mapBuckets++;
          entries += bucket.size;
        }
      }
    }
    return { contexts: this.contexts.size, buckets, longestList, mapBuckets, entries };
  }

  /** Make `entry` the most recently used. */
  private touch(entry: Entry): void {
    if (this.newest === entry) return;
    this.unlink(entry);
    entry.older = this.newest;
    if (this.newest !== null) this.newest.newer = entry;
    this.newest = entry;
    this.oldest ??= entry;
  }

  /** Take `entry` out of the LRU list (it stays in its bucket). */
  private unlink(entry: Entry): void {
    if (entry.newer !== null) entry.newer.older = entry.older;
    else this.newest = entry.older;
    if (entry.older !== null) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    entry.newer = null;
    entry.older = null;
  }

  private evict(entry: Entry): void {
    this.unlink(entry);
    const context = entry.owner;
    const bucket = context.buckets.get(entry.hash);
    if (bucket !== undefined) {
      if (Array.isArray(bucket)) {
        const i = bucket.indexOf(entry);
        if (i !== -1) bucket.splice(i, 1);
        if (bucket.length === 0) context.buckets.delete(entry.hash);
      } else {
        bucket.delete(entry.sql);
        if (bucket.size === 0) context.buckets.delete(entry.hash);
      }
    }
    context.count--;
    if (context.count === 0) this.contexts.delete(context.key);
    this.count--;
    this.chars -= entry.sql.length;
  }
}

function find(bucket: Bucket, sql: string): Entry | undefined {
  if (!Array.isArray(bucket)) return bucket.get(sql);
  for (let i = 0; i < bucket.length; i++) {
    const e = bucket[i] as Entry;
    if (e.sql === sql) return e;
  }
  return undefined;
}
