/**
 * Combining abort signals without AbortSignal.any.
 *
 * On Node 20, AbortSignal.any costs tens of µs per call (it tracks its sources through WeakRefs
 * and a FinalizationRegistry, and leaves that work to the GC) — measurable on every tool call.
 * linkSignals() does the same job with one AbortController and one listener per source, and
 * removes its listeners when disposed, so a long-lived source does not collect listeners.
 *
 * Guarantees: the linked signal aborts as soon as any source aborts (at once if one already
 * has), with that source's reason; after dispose() no source reaches it any more.
 * Does not: abort the sources, or time out.
 */
import type { CancelSource } from '../shared/reads.js';

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Detach from the sources (call when the work the signal guards is over). */
  dispose(): void;
}

const NOOP = (): void => undefined;

export function linkSignals(...sources: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const present = sources.filter((s): s is AbortSignal => s !== undefined);
  const controller = new AbortController();
  const already = present.find((s) => s.aborted);
  if (already !== undefined) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: NOOP };
  }
  const listeners: (() => void)[] = [];
  const dispose = (): void => {
    listeners.forEach((listener, i) => present[i]?.removeEventListener('abort', listener));
    listeners.length = 0;
  };
  for (const source of present) {
    const onAbort = (): void => {
      dispose();
      controller.abort(source.reason);
    };
    listeners.push(onAbort);
    source.addEventListener('abort', onAbort, { once: true });
  }
  return { signal: controller.signal, dispose };
}

/**
 * A cancellation raised by an adapter that has no AbortSignal of its own to hand over (the stdio
 * fast path, src/mcp/stdio.ts): the call plumbing aborts the call's one controller when it is
 * raised, so a call needs one AbortController, not two linked ones (issue #13).
 *
 * Guarantees: raised at most once, with the reason given (undefined: the controller's default
 * AbortError, as `AbortController.abort()` gives); a listener set after raising is called at once,
 * so a cancellation that arrives before the call reaches the plumbing is not lost.
 * Does not: hold more than one listener (the plumbing's, one per call).
 */
export class CancelLatch {
  #raised = false;
  #reason: unknown;
  #listener: ((reason: unknown) => void) | undefined;

  get raised(): boolean {
    return this.#raised;
  }

  raise(reason?: unknown): void {
    if (this.#raised) return;
    this.#raised = true;
    this.#reason = reason;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.(reason);
  }

  /** The one listener (undefined: none); called at once when already raised. */
  listen(listener: ((reason: unknown) => void) | undefined): void {
    if (this.#raised) {
      listener?.(this.#reason);
      return;
    }
    this.#listener = listener;
  }
}

/**
 * The one cancellation of a tool call (the call plumbing's, one per call): what every source of
 * cancellation (the adapter's signals, a CancelLatch, shutdown) aborts. Cheaper than an
 * AbortController per call (issue #13: creating one and its EventTarget listeners ≈ 2–3 % of a
 * stdio call): the read path listens through `on`/`off` (a CancelSource, src/shared/reads.ts),
 * and the AbortSignal is created only when something asks for `signal` (a tool that hands it to
 * an API taking AbortSignals), already aborted with the same reason if the call was.
 *
 * Guarantees: aborted at most once, with the first reason (undefined: the AbortController's
 * default AbortError, on `signal`); on abort every listener is called once, in order, and
 * `signal` (if created) aborts, even when a listener throws (the first error is rethrown after);
 * a listener added after the abort is called at once.
 * Does not: link to sources by itself (the plumbing does), or time out.
 */
export class CallCancel implements CancelSource {
  #aborted = false;
  #reason: unknown;
  #listeners: (() => void)[] = [];
  #controller: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** An AbortSignal that follows this cancellation (created on first use). */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      if (this.#aborted) controller.abort(this.#reason);
      this.#controller = controller;
    }
    return controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    // as an AbortSignal does: a listener that throws does not keep the others (the read path's
    // backend cancel among them) or the signal from hearing of the abort; the first error is rethrown
    let failure: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        failure ??= { error };
      }
    }
    this.#controller?.abort(reason);
    if (failure !== undefined) throw failure.error;
  }

  on(listener: () => void): void {
    if (this.#aborted) listener();
    else this.#listeners.push(listener);
  }

  off(listener: () => void): void {
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }
}
