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
