/** One timer for every in-flight request's deadline (issue #13): each expires on time, in order, once. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../../../src/http/deadlines.js';

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires each pending entry after the timeout, in the order added, and never a removed one', () => {
    const q = new DeadlineQueue(1_000);
    const fired: string[] = [];
    q.add(() => fired.push('a'));
    vi.advanceTimersByTime(300);
    const b = q.add(() => fired.push('b'));
    vi.advanceTimersByTime(300);
    q.add(() => fired.push('c'));
    q.remove(b);
    vi.advanceTimersByTime(399);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(599);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a', 'c']);
    expect(q.size).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual(['a', 'c']);
  });

  it('arms one timer for many requests, not a timer per request', () => {
    const q = new DeadlineQueue(60_000);
    const spy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 100; i++) q.remove(q.add(() => undefined));
    expect(spy).toHaveBeenCalledTimes(1);
    // the armed timer finds nothing pending and stops
    vi.advanceTimersByTime(60_000);
    expect(vi.getTimerCount()).toBe(0);
    spy.mockRestore();
  });

  it('an entry added after the timer was armed for an older one still expires on its own deadline', () => {
    const q = new DeadlineQueue(500);
    const fired: number[] = [];
    const first = q.add(() => fired.push(1));
    vi.advanceTimersByTime(200);
    q.add(() => fired.push(2));
    q.remove(first);
    vi.advanceTimersByTime(300); // the timer armed for the first fires and re-arms for the second
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(199);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([2]);
  });

  it('a throwing expiry does not stop the others', () => {
    const q = new DeadlineQueue(100);
    const fired: number[] = [];
    q.add(() => {
      throw new Error('x');
    });
    q.add(() => fired.push(2));
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([2]);
  });
});
