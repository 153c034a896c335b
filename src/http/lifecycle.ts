/**
 * Shutdown state and in-flight request tracking for the HTTP layer.
 *
 * Guarantees: once beginShutdown() is called, `shuttingDown` stays true (readiness answers 503,
 * new /mcp calls are refused); every tracked request owns an AbortController (or a RequestCancel,
 * mcp-route.ts) that cancelAll() aborts with a RequestCancelledError naming why; waitForIdle()
 * resolves as soon as the last tracked request finishes, or at its timeout.
 * Does not: stop work that ignores its AbortSignal — a handler must honour the signal (the
 * database layer cancels the statement) for cancellation to take effect.
 */

/** Why a request's signal fired. */
export type CancelReason = 'client_disconnected' | 'shutdown' | 'timeout';

/** The `signal.reason` of every per-request signal aborted by the HTTP layer. */
export class RequestCancelledError extends Error {
  override readonly name = 'AbortError';
  readonly reason: CancelReason;
  constructor(reason: CancelReason) {
    super(
      reason === 'shutdown'
        ? 'The gateway is shutting down; the call was cancelled.'
        : reason === 'timeout'
          ? 'The request exceeded the server request timeout and was cancelled.'
          : 'The client disconnected; the call was cancelled.',
    );
    this.reason = reason;
  }
}

/** What the lifecycle cancels: an AbortController, or a request's cancellation (mcp-route.ts). */
export type Cancellable = AbortController | { readonly aborted: boolean; abort(reason?: unknown): void };
/** Whether a tracked request was cancelled already. */
function isAborted(c: Cancellable): boolean {
  return c instanceof AbortController ? c.signal.aborted : c.aborted;
}

export class Lifecycle {
  #shuttingDown = false;
  readonly #inFlight = new Set<Cancellable>();
  #idleWaiters: (() => void)[] = [];

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Number of tracked requests still running. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Flip to draining: probes fail, new calls are refused. Idempotent. */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Track a request until the returned release function is called (idempotent). */
  track(controller: Cancellable): () => void {
    this.#inFlight.add(controller);
    return () => {
      if (!this.#inFlight.delete(controller)) return;
      if (this.#inFlight.size === 0) this.#notifyIdle();
    };
  }

  /** Resolves true once nothing is in flight, false if timeoutMs passes first. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.#idleWaiters.push(waiter);
    });
  }

  /** Abort every tracked request's signal; returns how many were aborted. */
  cancelAll(reason: CancelReason): number {
    let n = 0;
    for (const controller of this.#inFlight) {
      if (!isAborted(controller)) {
        controller.abort(new RequestCancelledError(reason));
        n += 1;
      }
    }
    return n;
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
