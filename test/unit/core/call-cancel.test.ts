// The call plumbing's one cancellation per call (CallCancel, issue #13): every source of
// cancellation — the adapter's signal, a further signal, a CancelLatch (stdio fast path), shutdown
// (Gateway.cancelInflight) — reaches the tool body both as `ctx.cancel` (what the read path listens
// to) and as `ctx.signal` (created on first use), with the source's reason; after the call, none
// of them reaches it any more.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import { Gateway } from '../../../src/core/gateway.js';
import { NO_AUDIT, type DatabasePort, type GuardPort } from '../../../src/core/ports.js';
import { CancelLatch } from '../../../src/core/signals.js';
import type { CallContext } from '../../../src/core/call/context.js';
import type { CallPlumbing } from '../../../src/core/call/plumbing.js';
import { ok } from '../../../src/core/results.js';

const config = parseConfig(
  {
    server: { host: '127.0.0.1', port: 0 },
    databases: { main: { url: 'postgres://u:p@127.0.0.1:1/db' } },
    principals: { alice: { policy: 'reader', tokens: [{ id: 't', token: 'pgw_alice_0123456789abcdefghijklmnopqrstuvwxyz' }] } },
    policies: { reader: { databases: { main: { mode: 'read-only' } } } },
  },
  { source: 'test' },
);
const guard = { decide: () => { throw new Error('not used'); } } as unknown as GuardPort;
const db = { name: 'main', config: config.databases.main, cancelAll: async () => undefined, end: async () => undefined } as unknown as DatabasePort;

/** The gateway's call plumbing (private: reached here to run a body of our own). */
const plumbing = (g: Gateway): CallPlumbing => (g as unknown as { p: CallPlumbing }).p;

function gateway(): Gateway {
  return new Gateway({ config, configVersion: 1, databases: new Map([['main', db]]), guard, audit: NO_AUDIT });
}

/** Run a call whose body waits for its cancellation; `trigger` cancels it once the body runs. */
async function cancelled(g: Gateway, ctx: CallContext, trigger: () => void, signalFirst: boolean): Promise<{ viaCancel: unknown; viaSignal: unknown; inner: CallContext }> {
  let inner: CallContext | undefined;
  const out = await plumbing(g).call(ctx, 'query', undefined, async (_r, _s, _e, c) => {
    inner = c;
    const early = signalFirst ? c.signal : undefined;
    const viaCancel = await new Promise<unknown>((resolve) => {
      c.cancel?.on(() => resolve('cancel'));
      trigger();
    });
    const signal = early ?? c.signal;
    return ok({ viaCancel, viaSignal: signal?.aborted === true ? signal.reason : 'not aborted' });
  });
  if (!out.ok || inner === undefined) throw new Error('the call did not complete');
  return { ...out.value, inner };
}

describe('the call plumbing cancellation (CallCancel)', () => {
  for (const signalFirst of [false, true]) {
    const when = signalFirst ? 'signal read before the cancellation' : 'signal read after it';
    it(`a CancelLatch (stdio fast path) reaches ctx.cancel and ctx.signal with its reason (${when})`, async () => {
      const latch = new CancelLatch();
      const r = await cancelled(gateway(), { principal: 'alice', requestId: 'r1', cancelLatch: latch }, () => latch.raise('client cancelled'), signalFirst);
      expect(r).toMatchObject({ viaCancel: 'cancel', viaSignal: 'client cancelled' });
    });

    it(`the adapter's signal and a further signal reach it (${when})`, async () => {
      for (const which of ['signal', 'alsoCancelledBy'] as const) {
        const controller = new AbortController();
        const ctx: CallContext = { principal: 'alice', requestId: 'r2' };
        if (which === 'signal') ctx.signal = controller.signal;
        else ctx.alsoCancelledBy = [controller.signal];
        const reason = new Error(`${which} aborted`);
        const r = await cancelled(gateway(), ctx, () => controller.abort(reason), signalFirst);
        expect(r.viaCancel).toBe('cancel');
        expect(r.viaSignal).toBe(reason);
      }
    });

    it(`shutdown (cancelInflight) reaches it (${when})`, async () => {
      const g = gateway();
      const r = await cancelled(g, { principal: 'alice', requestId: 'r3' }, () => void g.cancelInflight(), signalFirst);
      expect(r.viaCancel).toBe('cancel');
      expect((r.viaSignal as { code?: string }).code).toBe('SHUTTING_DOWN');
    });
  }

  it('an already aborted signal cancels the call before its body listens', async () => {
    const controller = new AbortController();
    controller.abort('early');
    const r = await cancelled(gateway(), { principal: 'alice', requestId: 'r4', signal: controller.signal }, () => undefined, false);
    expect(r).toMatchObject({ viaCancel: 'cancel', viaSignal: 'early' });
  });

  it('after the call, its sources no longer reach it, and it is no longer in flight', async () => {
    const g = gateway();
    const latch = new CancelLatch();
    const controller = new AbortController();
    let inner: CallContext | undefined;
    const p = plumbing(g);
    await p.call({ principal: 'alice', requestId: 'r5', signal: controller.signal, cancelLatch: latch }, 'query', undefined, async (_r, _s, _e, c) => {
      inner = c;
      return ok(null);
    });
    expect(p.inflight.size).toBe(0);
    latch.raise('late');
    controller.abort('late');
    await g.cancelInflight();
    expect(inner?.cancel?.aborted).toBe(false);
    expect(inner?.signal?.aborted).toBe(false);
  });
});
