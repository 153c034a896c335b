/**
 * StatementCache's bookkeeping (src/db/statement-cache.ts) without a server: ownership, LRU and
 * text bounds, what is closed when, and names as digests of owner and text. The server side is in
 * test/integration/db/statement-cache.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cacheable, STATEMENT_CACHE_MAX_CHARS, STATEMENT_CACHE_MAX_TEXT, StatementCache, statementName, type CacheOwner, type StatementUse } from '../../../src/db/statement-cache.js';

const alice: CacheOwner = { searchPath: ['app'], principal: { setting: 'pgwarden.principal', value: 'alice' } };
const bob: CacheOwner = { searchPath: ['app'], principal: { setting: 'pgwarden.principal', value: 'bob' } };

/** One successful read through the cache. */
function read(cache: StatementCache, owner: CacheOwner, text: string, ok = true): StatementUse {
  const use = cache.use(owner, text);
  if (use === undefined) throw new Error('not cached');
  cache.settle(use, ok);
  return use;
}

describe('StatementCache', () => {
  it('a text is parsed once, then bound by its own name', () => {
    const c = new StatementCache(8);
    const a = read(c, alice, 'SELECT 1');
    const b = read(c, alice, 'SELECT 2');
    expect(a.parse && b.parse).toBe(true);
    expect(a.name).not.toBe(b.name);
    expect(read(c, alice, 'SELECT 1')).toMatchObject({ name: a.name, parse: false, close: [] });
    expect(read(c, alice, 'SELECT 2')).toMatchObject({ name: b.name, parse: false, close: [] });
  });

  it('another owner closes everything of the previous one and starts empty', () => {
    const c = new StatementCache(8);
    const a1 = read(c, alice, 'SELECT 1');
    const a2 = read(c, alice, 'SELECT 2');
    const b = read(c, bob, 'SELECT 1');
    expect(b.parse).toBe(true);
    expect([...b.close].sort()).toEqual([a1.name, a2.name].sort());
    expect(c.size).toBe(1);
    for (const other of [
      { ...alice, role: 'reader' },
      { ...alice, searchPath: ['app', 'x'] },
      { ...alice, principal: { setting: 'app.user', value: 'alice' } },
      { searchPath: ['app'] },
    ]) {
      read(c, alice, 'SELECT 1');
      const u = read(c, other, 'SELECT 1');
      expect(u.parse, JSON.stringify(other)).toBe(true);
      expect(u.close.length, JSON.stringify(other)).toBeGreaterThan(0);
    }
  });

  it('an owner is copied, not referenced: mutating the caller object does not change it', () => {
    const c = new StatementCache(8);
    const owner = { searchPath: ['app'], principal: { setting: 'pgwarden.principal', value: 'alice' } };
    read(c, owner, 'SELECT 1');
    owner.principal.value = 'bob';
    expect(read(c, owner, 'SELECT 1').parse).toBe(true);
  });

  it.each(["SELECT 'now'::timestamptz", "SELECT * FROM t WHERE d > 'Today'", "SELECT 'tomorrow'::date", "SELECT 'yesterday'::date", "SELECT E'n\\157w'::timestamptz", "SELECT U&'\\006Eow'::timestamptz"])(
    'never caches a text that may hold a parse-time value: %s',
    (sql) => {
      expect(cacheable(sql)).toBe(false);
      expect(new StatementCache(8).use(alice, sql)).toMatchObject({ name: '', parse: true });
    },
  );

  it("a read that is not kept (too long, not to keep) by another owner still closes the previous owner's statements", () => {
    for (const [text, keep] of [['x'.repeat(STATEMENT_CACHE_MAX_TEXT + 1), true], ['SELECT 2', false]] as const) {
      const c = new StatementCache(8);
      const a = read(c, alice, 'SELECT 1');
      const b = c.use(bob, text, keep);
      expect(b).toMatchObject({ name: '', close: [a.name] });
      c.settle(b, true);
      expect(c.size).toBe(0);
      expect(c.pendingClose).toEqual([]);
    }
  });

  it('least recently used first, at most max statements', () => {
    const c = new StatementCache(2);
    const s1 = read(c, alice, 'SELECT 1');
    const s2 = read(c, alice, 'SELECT 2');
    read(c, alice, 'SELECT 1');
    const s3 = read(c, alice, 'SELECT 3');
    expect(c.size).toBe(2);
    expect(s3.close).toEqual([s2.name]);
    expect(read(c, alice, 'SELECT 1')).toMatchObject({ name: s1.name, parse: false });
  });

  it('bounds the text: long texts are not cached, the total is capped', () => {
    const c = new StatementCache(1000);
    expect(c.use(alice, 'x'.repeat(STATEMENT_CACHE_MAX_TEXT + 1))).toMatchObject({ name: '', parse: true });
    const big = (i: number): string => `SELECT ${i} /* ${'y'.repeat(STATEMENT_CACHE_MAX_TEXT - 40)} */`;
    for (let i = 0; i < 100; i++) read(c, alice, big(i));
    expect(c.textChars).toBeLessThanOrEqual(STATEMENT_CACHE_MAX_CHARS);
    expect(c.size).toBeLessThan(100);
  });

  it('a failed first use is not kept: its name is closed at the head of the next pipeline, before it is parsed again', () => {
    const c = new StatementCache(8);
    const bad = read(c, alice, 'SELECT 1/0', false);
    const again = c.use(alice, 'SELECT 1/0');
    expect(again).toMatchObject({ parse: true, name: bad.name, close: [bad.name] });
    if (again) c.settle(again, true);
    expect(c.pendingClose).toEqual([]);
    expect(read(c, alice, 'SELECT 1/0')).toMatchObject({ parse: false, name: bad.name, close: [] });
  });

  it('a name is a digest of owner and text: the same on every connection for the same owner and text, another for any other', () => {
    // Behind a transaction-pooling proxy a Bind may reach a server connection another of our
    // connections prepared: the same name there must mean the same owner and text.
    const one = read(new StatementCache(8), alice, 'SELECT 1');
    const two = read(new StatementCache(8), alice, 'SELECT 1');
    expect(two.name).toBe(one.name);
    expect(one.name).toBe(statementName(alice, 'SELECT 1'));
    expect(one.name).toMatch(/^pgwarden_s[0-9a-f]{32}$/);
    const others = [
      statementName(bob, 'SELECT 1'),
      statementName(alice, 'SELECT 2'),
      statementName({ ...alice, role: 'reader' }, 'SELECT 1'),
      statementName({ ...alice, searchPath: ['app', 'x'] }, 'SELECT 1'),
      statementName({ ...alice, searchPath: ['ap', 'px'] }, 'SELECT 1'),
      statementName({ searchPath: ['app'] }, 'SELECT 1'),
      statementName({ searchPath: ['app'], principal: { setting: 'pgwarden.principal', value: 'alice' } }, 'SELECT 1 '),
    ];
    expect(new Set([one.name, ...others]).size).toBe(others.length + 1);
  });

  it('names to close stay pending until a pipeline that carried them was answered', () => {
    const c = new StatementCache(8);
    const a = read(c, alice, 'SELECT 1');
    const lost = c.use(bob, 'SELECT 2'); // never sent (e.g. the read failed before the server)
    expect(lost?.close).toEqual([a.name]);
    const next = c.use(bob, 'SELECT 2');
    expect(next?.close).toEqual([a.name]);
    if (next) c.settle(next, true);
    expect(c.pendingClose).toEqual([]);
  });

  it('drop forgets a stale statement and closes it next time', () => {
    const c = new StatementCache(8);
    const a = read(c, alice, 'SELECT 1');
    const hit = c.use(alice, 'SELECT 1');
    if (hit === undefined) throw new Error('cached');
    c.settle(hit, false);
    c.drop(hit);
    const u = c.use(alice, 'SELECT 1');
    expect(u).toMatchObject({ parse: true, close: [a.name] });
  });
});
