/**
 * The decision cache: hits, key coverage (a policy reload or catalog refresh is never served a
 * stale decision), bounds and clearCache.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import { demoCatalog, demoPolicy, guardRequest, testGuard } from './fixtures/catalog.js';

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
