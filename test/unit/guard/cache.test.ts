/**
 * The decision cache: hits, key coverage (a policy reload or catalog refresh is never served a
 * stale decision), bounds and clearCache; the sampled-hash index: exact hits only, colliding texts
 * bounded in work (list buckets ≤ BUCKET_MAX, then an exact Map) and memory (≤ size), exact LRU.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_MAX, DecisionCache, sampledHash } from '../../../src/guard/cache.js';
import type { Guard } from '../../../src/guard/index.js';
import type { Decision } from '../../../src/guard/types.js';
import { demoCatalog, demoPolicy, guardRequest, testGuard } from './fixtures/catalog.js';
import { ANALYTIC_40 } from './fixtures/queries.js';

let guard: Guard;
beforeAll(async () => {
  guard = await testGuard({ cacheSize: 3 });
});

describe('decision cache', () => {
  it('serves a warm hit marked cached, with the same verdict', () => {
    guard.clearCache();
    const a = guard.decide(guardRequest('SELECT * FROM app.orders'));
    const b = guard.decide(guardRequest('SELECT * FROM app.orders'));
    expect(a.cached).toBe(false);
    expect(b.cached).toBe(true);
    expect(b.decision).toBe(a.decision);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(Object.isFrozen(b)).toBe(true);
  });

  it('keys on exact text, tool, principal, database, versions, observe and flags', () => {
    guard.clearCache();
    const base = guardRequest('SELECT * FROM app.orders');
    guard.decide(base);
    for (const o of [
      { sql: 'SELECT * FROM app.orders ' },
      { tool: 'check' as const },
      { principal: 'bob' },
      { database: 'other' },
      { policyVersion: 2 },
      { catalog: demoCatalog({ version: 9 }) },
      { observe: true },
      { parameters: true },
    ]) {
      expect(guard.decide({ ...base, ...o }).cached, JSON.stringify(Object.keys(o))).toBe(false);
    }
  });

  it('a new policy version sees the new policy', () => {
    guard.clearCache();
    const sql = 'SELECT * FROM app.customers';
    expect(guard.decide(guardRequest(sql, { policyVersion: 1 })).decision).toBe('allow');
    const stricter = demoPolicy({ tables: { deny: ['app.customers'] } });
    expect(guard.decide(guardRequest(sql, { policyVersion: 2, policy: stricter })).decision).toBe('block');
  });

  it('is bounded (LRU) and clearable', () => {
    guard.clearCache();
    for (const n of [1, 2, 3, 4]) guard.decide(guardRequest(`SELECT ${n}`));
    expect(guard.cacheSize).toBe(3);
    expect(guard.decide(guardRequest('SELECT 1')).cached).toBe(false); // evicted
    expect(guard.decide(guardRequest('SELECT 4')).cached).toBe(true);
    guard.clearCache();
    expect(guard.cacheSize).toBe(0);
  });

  it('cacheSize 0 disables caching', async () => {
    const g = await testGuard({ cacheSize: 0 });
    g.decide(guardRequest('SELECT 1'));
    expect(g.decide(guardRequest('SELECT 1')).cached).toBe(false);
  });
});

/** A fresh flat copy of a string (no shared identity, no cached hash), like a parsed request body. */
const fresh = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** A distinct stand-in decision (the cache never looks inside). */
const tag = (n: number): Decision => ({ elapsedUs: n }) as unknown as Decision;

/** Change one character of `base` at a position the sampled hash does not read (found by trying). */
function unsampledVariant(base: string): { text: string } {
  const h = sampledHash(base);
  for (let i = 20; i < base.length - 20; i++) {
    const ch = base[i] === 'x' ? 'y' : 'x';
    const text = base.slice(0, i) + ch + base.slice(i + 1);
    if (sampledHash(text) === h) return { text };
  }
  throw new Error('every position is sampled');
}

describe('sampled-hash index', () => {
  it('hashes equal texts equally and is a small non-negative integer', () => {
    for (const s of ['', 'SELECT 1', ANALYTIC_40, 'x'.repeat(100_000)]) {
      const h = sampledHash(s);
      expect(h).toBe(sampledHash(fresh(s)));
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 30).toBe(true);
    }
    expect(sampledHash('SELECT 1')).not.toBe(sampledHash('SELECT 2'));
    expect(sampledHash(ANALYTIC_40)).not.toBe(sampledHash(ANALYTIC_40 + ' '));
  });

  it('a text with the same length and samples but other content is no hit', () => {
    const { text } = unsampledVariant(ANALYTIC_40);
    expect(text.length).toBe(ANALYTIC_40.length);
    expect(sampledHash(text)).toBe(sampledHash(ANALYTIC_40)); // a real collision of the sampled hash
    const cache = new DecisionCache(10);
    cache.set('ctx', ANALYTIC_40, tag(1));
    expect(cache.get('ctx', text)).toBeUndefined();
    expect(cache.get('ctx', fresh(ANALYTIC_40))?.elapsedUs).toBe(1);
    cache.set('ctx', text, tag(2));
    expect(cache.get('ctx', fresh(text))?.elapsedUs).toBe(2);
    expect(cache.get('ctx', fresh(ANALYTIC_40))?.elapsedUs).toBe(1);
    expect(cache.shape()).toMatchObject({ buckets: 1, longestList: 2, entries: 2 });
  });

  it('the text held is bounded by maxChars (issue #10: cached trees of long statements filled the heap)', () => {
    const cache = new DecisionCache(10_000, { maxChars: 250_000 });
    const long = (n: number): string => `SELECT ${n} FROM app.customers`.padEnd(100_000, ' ');
    for (let n = 0; n < 10; n++) cache.set('ctx', long(n), tag(n));
    // on 344cc74 all ten (1 MB of text, ~7–20 MB of trees) stayed: only the entry count was bounded
    expect(cache.length).toBe(2);
    expect(cache.textLength).toBe(200_000);
    expect(cache.get('ctx', long(9))?.elapsedUs).toBe(9);
    expect(cache.get('ctx', long(0))).toBeUndefined();
    cache.set('ctx', 'x'.repeat(250_001), tag(99)); // longer than the whole budget: not cached
    expect(cache.length).toBe(2);
    for (let n = 0; n < 100; n++) cache.set('ctx', `SELECT ${n}`, tag(n));
    expect(cache.textLength).toBeLessThanOrEqual(250_000);
  });

  it('the guard hits on a fresh copy of a long text and misses on a same-hash variant', async () => {
    const g = await testGuard({ cacheSize: 10 });
    expect(g.decide(guardRequest(fresh(ANALYTIC_40))).cached).toBe(false);
    expect(g.decide(guardRequest(fresh(ANALYTIC_40))).cached).toBe(true);
    const { text } = unsampledVariant(ANALYTIC_40);
    expect(g.decide(guardRequest(text)).cached).toBe(false);
  });

  it('many colliding texts: exact answers, list buckets ≤ BUCKET_MAX, then one exact Map, size bounded', () => {
    const cache = new DecisionCache(100, { hash: () => 7 }); // every text collides
    const text = (n: number): string => `SELECT ${n} FROM app.orders`;
    for (let n = 0; n < BUCKET_MAX; n++) cache.set('ctx', text(n), tag(n));
    expect(cache.shape()).toEqual({ contexts: 1, buckets: 1, longestList: BUCKET_MAX, mapBuckets: 0, entries: BUCKET_MAX });
    cache.set('ctx', text(BUCKET_MAX), tag(BUCKET_MAX));
    expect(cache.shape()).toEqual({ contexts: 1, buckets: 1, longestList: 0, mapBuckets: 1, entries: BUCKET_MAX + 1 });
    for (let n = BUCKET_MAX + 1; n < 5_000; n++) cache.set('ctx', text(n), tag(n));
    expect(cache.length).toBe(100);
    expect(cache.shape()).toEqual({ contexts: 1, buckets: 1, longestList: 0, mapBuckets: 1, entries: 100 });
    for (let n = 4_900; n < 5_000; n++) expect(cache.get('ctx', fresh(text(n)))?.elapsedUs).toBe(n);
    for (let n = 0; n < 4_900; n += 97) expect(cache.get('ctx', text(n))).toBeUndefined();
    expect(cache.get('ctx', 'SELECT 5000 FROM app.orders')).toBeUndefined();
  });

  it('colliding texts never share a bucket across contexts (principals)', () => {
    const cache = new DecisionCache(100, { hash: () => 7 });
    for (let n = 0; n < 50; n++) cache.set('attacker', `SELECT ${n}`, tag(n));
    cache.set('victim', 'SELECT 1', tag(-1));
    expect(cache.get('victim', 'SELECT 1')?.elapsedUs).toBe(-1);
    expect(cache.get('attacker', 'SELECT 1')?.elapsedUs).toBe(1);
    expect(cache.shape()).toMatchObject({ contexts: 2, buckets: 2, entries: 51 });
  });

  it('evicts the least recently used entry across contexts and buckets, and drops empty contexts and buckets', () => {
    const cache = new DecisionCache(3);
    cache.set('a', 'SELECT 1', tag(1));
    cache.set('b', 'SELECT 2', tag(2));
    cache.set('a', 'SELECT 3', tag(3));
    expect(cache.get('a', fresh('SELECT 1'))?.elapsedUs).toBe(1); // now most recent: b/SELECT 2 is the oldest
    cache.set('c', 'SELECT 4', tag(4));
    expect(cache.get('b', 'SELECT 2')).toBeUndefined();
    expect(cache.shape()).toEqual({ contexts: 2, buckets: 3, longestList: 1, mapBuckets: 0, entries: 3 });
    cache.set('a', 'SELECT 3', tag(33)); // replace refreshes, does not grow
    expect(cache.length).toBe(3);
    cache.set('d', 'SELECT 5', tag(5)); // evicts a/SELECT 1
    cache.set('d', 'SELECT 6', tag(6)); // evicts c/SELECT 4
    expect(cache.get('a', 'SELECT 1')).toBeUndefined();
    expect(cache.get('c', 'SELECT 4')).toBeUndefined();
    expect(cache.get('a', 'SELECT 3')?.elapsedUs).toBe(33);
    expect(cache.shape()).toEqual({ contexts: 2, buckets: 3, longestList: 1, mapBuckets: 0, entries: 3 });
    cache.clear();
    expect(cache.shape()).toEqual({ contexts: 0, buckets: 0, longestList: 0, mapBuckets: 0, entries: 0 });
    cache.set('a', 'SELECT 1', tag(1));
    expect(cache.get('a', 'SELECT 1')?.elapsedUs).toBe(1);
  });

  it('a one-entry cache keeps only the newest entry', () => {
    const cache = new DecisionCache(1, { hash: () => 0 });
    cache.set('a', 'SELECT 1', tag(1));
    cache.set('a', 'SELECT 2', tag(2));
    expect(cache.get('a', 'SELECT 1')).toBeUndefined();
    expect(cache.get('a', 'SELECT 2')?.elapsedUs).toBe(2);
    expect(cache.shape()).toEqual({ contexts: 1, buckets: 1, longestList: 1, mapBuckets: 0, entries: 1 });
  });
});
