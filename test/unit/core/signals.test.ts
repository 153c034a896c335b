import { describe, expect, it } from 'vitest';
import { CallCancel, CancelLatch, linkSignals } from '../../../src/core/signals.js';

describe('linkSignals', () => {
  it('aborts when any source aborts, with that source\'s reason', () => {
    const a = new AbortController();
    const b = new AbortController();
    const link = linkSignals(a.signal, b.signal);
    expect(link.signal.aborted).toBe(false);
    const reason = new Error('client went away');
    b.abort(reason);
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe(reason);
    // the first abort wins
    a.abort(new Error('later'));
    expect(link.signal.reason).toBe(reason);
  });

  it('is aborted at once when a source already is', () => {
    const a = new AbortController();
    a.abort('gone');
    const link = linkSignals(undefined, a.signal);
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe('gone');
  });

  it('no longer follows its sources once disposed', () => {
    const a = new AbortController();
    const link = linkSignals(a.signal);
    link.dispose();
    link.dispose();
    a.abort();
    expect(link.signal.aborted).toBe(false);
  });

  it('without sources never aborts', () => {
    expect(linkSignals().signal.aborted).toBe(false);
    expect(linkSignals(undefined).signal.aborted).toBe(false);
  });
});

describe('CancelLatch', () => {
  it('calls its listener once, with the reason, when raised', () => {
    const latch = new CancelLatch();
    const seen: unknown[] = [];
    latch.listen((r) => seen.push(r));
    expect(latch.raised).toBe(false);
    const reason = new Error('cancelled');
    latch.raise(reason);
    latch.raise(new Error('again'));
    expect(latch.raised).toBe(true);
    expect(seen).toEqual([reason]);
  });

  it('a listener set after raising is called at once: a cancellation before the call starts is not lost', () => {
    const latch = new CancelLatch();
    latch.raise('early');
    const controller = new AbortController();
    latch.listen((r) => controller.abort(r));
    expect(controller.signal.reason).toBe('early');
  });

  it('raised without a reason, the controller gets its own AbortError (as AbortController.abort() does)', () => {
    const latch = new CancelLatch();
    const controller = new AbortController();
    latch.listen((r) => controller.abort(r));
    latch.raise();
    expect((controller.signal.reason as Error).name).toBe('AbortError');
  });

  it('a detached listener (listen(undefined), the call over) is not called', () => {
    const latch = new CancelLatch();
    const seen: unknown[] = [];
    latch.listen((r) => seen.push(r));
    latch.listen(undefined);
    latch.raise('late');
    expect(seen).toEqual([]);
  });
});

describe('CallCancel', () => {
  it('calls every listener once, in order, on the first abort; off() removes one', () => {
    const cancel = new CallCancel();
    const seen: string[] = [];
    const b = (): number => seen.push('b');
    cancel.on(() => seen.push('a'));
    cancel.on(b);
    cancel.on(() => seen.push('c'));
    cancel.off(b);
    expect(cancel.aborted).toBe(false);
    cancel.abort('first');
    cancel.abort('second');
    expect(cancel.aborted).toBe(true);
    expect(seen).toEqual(['a', 'c']);
  });

  it('a listener added after the abort is called at once', () => {
    const cancel = new CallCancel();
    cancel.abort();
    let called = 0;
    cancel.on(() => (called += 1));
    expect(called).toBe(1);
  });

  it('its signal, created before the abort, aborts with the first reason', () => {
    const cancel = new CallCancel();
    const signal = cancel.signal;
    expect(cancel.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    const reason = new Error('shutting down');
    cancel.abort(reason);
    cancel.abort(new Error('later'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it('its signal, created after the abort, is already aborted with the same reason', () => {
    const cancel = new CallCancel();
    cancel.abort('gone');
    expect(cancel.signal.aborted).toBe(true);
    expect(cancel.signal.reason).toBe('gone');
  });

  it('aborted without a reason, its signal carries the AbortController default AbortError', () => {
    const before = new CallCancel();
    const signal = before.signal;
    before.abort();
    expect((signal.reason as Error).name).toBe('AbortError');
    const after = new CallCancel();
    after.abort();
    expect((after.signal.reason as Error).name).toBe('AbortError');
  });

  it('a listener that throws keeps neither the later listeners nor the signal from the abort; its error is rethrown', () => {
    const cancel = new CallCancel();
    const signal = cancel.signal;
    const heard: string[] = [];
    cancel.on(() => heard.push('first'));
    cancel.on(() => {
      throw new Error('listener failed');
    });
    cancel.on(() => heard.push('third'));
    expect(() => cancel.abort('why')).toThrow('listener failed');
    expect(heard).toEqual(['first', 'third']);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('why');
    expect(cancel.aborted).toBe(true);
  });
});
