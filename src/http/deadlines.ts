/**
 * One timer for the deadlines of all in-flight /mcp requests (server.request_timeout_ms).
 *
 * Every request gets the same timeout, so deadlines fall in the order requests started: the
 * queue keeps them in that order (a Set's insertion order) and arms a single timer for the
 * oldest one still pending. Issue #13: a setTimeout/clearTimeout pair per request made Node
 * create and tear down its timer list for that duration (and re-arm libuv's timer) on every
 * call at one client; here a request that finishes in time costs a Set insert and delete, and
 * the timer, once armed, keeps ticking until nothing is pending.
 *
 * Guarantees: `onExpire` of an entry runs once, no earlier than `timeoutMs` after `add` (by the
 * monotonic clock) and as soon after as the event loop allows, unless `remove` came first; the
 * timer never keeps the process alive (unref).
 * Does not: time anything but a fixed duration per queue.
 */

interface Entry {
  at: number;
  onExpire: () => void;
}

export class DeadlineQueue {
  readonly #pending = new Set<Entry>();
  #timer: NodeJS.Timeout | undefined;
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Number of deadlines still pending. */
  get size(): number {
    return this.#pending.size;
  }

  /** Call `onExpire` after the timeout unless the returned entry is removed first. */
  add(onExpire: () => void): Entry {
    const entry: Entry = { at: performance.now() + this.#timeoutMs, onExpire };
    this.#pending.add(entry);
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    return entry;
  }

  remove(entry: Entry): void {
    this.#pending.delete(entry);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(ms)));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const entry of this.#pending) {
      if (entry.at > now) {
        this.#arm(entry.at - now);
        return;
      }
      this.#pending.delete(entry);
      try {
        entry.onExpire();
      } catch {
        // an expiry callback must not stop the others (RequestController.abort does not throw)
      }
    }
  }
}
