import { describe, expect, it } from 'vitest';
import { linkSignals } from '../../../src/core/signals.js';

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
