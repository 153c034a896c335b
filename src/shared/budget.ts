/**
 * ResultBudget: a gateway-wide bound on the bytes of result rows held by all calls at once.
 *
 * Every read takes a lease; each DataRow is charged to the lease (its size on the wire) before
 * the row is read off the socket (src/db/capped-query.ts). A charge that does not fit waits (the read
 * stops reading its socket, so PostgreSQL blocks on send) until other calls release theirs, for
 * at most `waitMs`; then the read is stopped and refused RESULT_BUDGET_EXHAUSTED (retryable).
 * A lease's first FLOOR_BYTES are always granted, so small reads never wait or fail on the
 * budget (the overshoot is bounded by FLOOR_BYTES per read in flight, i.e. by the pool sizes).
 *
 * When a lease is released: over HTTP at the end of the HTTP response that carried the rows (the
 * MCP route opens a scope per request and hands it down with the call — CallContext.budgetScope,
 * ReadOptions.budgetScope — so the leases its reads take are released when the response closes
 * and the serialized answer is covered too); elsewhere (stdio, tests) when the read returns. A
 * failed or refused read releases at once.
 * The scope is passed explicitly, not through AsyncLocalStorage: on Node 20 an AsyncLocalStorage
 * turns on promise hooks for every promise of the process (≈ 5 KB and a JS hook call per promise
 * batch on every call; issue #13, docs/benchmarks.md).
 *
 * Guarantees: `used` never exceeds `capacity` + FLOOR_BYTES × (leases holding ≤ FLOOR_BYTES);
 * waiters are served first come, first served; release() is idempotent.
 * Lives in src/shared/ (not db/ or http/): db charges the leases and http scopes them to a
 * response, and neither layer may import the other.
 *
 * Does not: measure heap (it counts wire bytes; docs/deployment.md states the heap that covers
 * a budget), or bound memory outside result rows (requests are bounded by the body limit).
 */
/** Bytes a lease may always hold, whatever the budget's state. */
export const FLOOR_BYTES = 64 * 1024;

interface Waiter {
  lease: BudgetLease;
  resolve: (granted: boolean) => void;
  timer: NodeJS.Timeout;
}

export class ResultBudget {
  capacity: number;
  waitMs: number;
  #used = 0;
  #waiters: Waiter[] = [];
  /** Reads refused for want of budget since start (for status and tests). */
  refused = 0;

  constructor(options: { capacity: number; waitMs: number }) {
    this.capacity = options.capacity;
    this.waitMs = options.waitMs;
  }

  /** Apply configuration (server.result_budget_bytes / result_budget_wait_ms). */
  configure(options: { capacity: number; waitMs: number }): void {
    this.capacity = options.capacity;
    this.waitMs = options.waitMs;
    this.#wake();
  }

  get used(): number {
    return this.#used;
  }

  /** A new lease; adopted by `scope` (the HTTP response that carries its rows) when given. */
  lease(scope?: BudgetScope): BudgetLease {
    const lease = new BudgetLease(this);
    scope?.adopt(lease);
    return lease;
  }

  /** A scope: leases taken with it are released by its end(), not by the read. */
  scope(): BudgetScope {
    return new BudgetScope();
  }

  /** @internal */
  fits(lease: BudgetLease, bytes: number): boolean {
    return lease.held + bytes <= FLOOR_BYTES || this.#used + bytes <= this.capacity;
  }

  /** @internal */
  take(lease: BudgetLease, bytes: number): void {
    this.#used += bytes;
    lease.held += bytes;
  }

  /** @internal */
  give(bytes: number): void {
    this.#used -= bytes;
    this.#wake();
  }

  /** @internal: wait until the lease's pending bytes fit (true) or waitMs passes (false). */
  wait(lease: BudgetLease): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        lease,
        resolve,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          this.refused += 1;
          resolve(false);
        }, this.waitMs),
      };
      waiter.timer.unref();
      this.#waiters.push(waiter);
    });
  }

  /** @internal: drop a waiter whose lease was released (its read ended another way). */
  cancelWait(lease: BudgetLease): void {
    const gone = this.#waiters.filter((w) => w.lease === lease);
    if (gone.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.lease !== lease);
    for (const w of gone) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
  }

  #wake(): void {
    // First come, first served: a waiter that does not fit holds back those behind it.
    while (this.#waiters.length > 0) {
      const w = this.#waiters[0] as Waiter;
      if (!this.fits(w.lease, w.lease.pending)) return;
      this.#waiters.shift();
      clearTimeout(w.timer);
      this.take(w.lease, w.lease.pending);
      w.lease.pending = 0;
      w.resolve(true);
    }
  }
}

/** One read's share of the budget. */
export class BudgetLease {
  held = 0;
  /** Bytes asked for while waiting. */
  pending = 0;
  #released = false;
  #scoped = false;

  constructor(private readonly budget: ResultBudget) {}

  /**
   * Charge `bytes`. True: granted now. False: not granted yet; call wait() (further charges while
   * waiting are added to the same wait).
   */
  charge(bytes: number): boolean {
    if (this.#released) return false;
    if (this.pending === 0 && this.budget.fits(this, bytes)) {
      this.budget.take(this, bytes);
      return true;
    }
    this.pending += bytes;
    return false;
  }

  /** Wait for the pending charges (true: granted; false: waitMs passed, or released meanwhile). */
  wait(): Promise<boolean> {
    if (this.#released) return Promise.resolve(false);
    return this.budget.wait(this);
  }

  /** @internal */
  markScoped(): void {
    this.#scoped = true;
  }

  /** Release when the read is done, unless a scope (the HTTP response) releases it later. */
  releaseUnlessScoped(): void {
    if (!this.#scoped) this.release();
  }

  /** Give every byte back (idempotent). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.pending = 0;
    this.budget.cancelWait(this);
    const held = this.held;
    this.held = 0;
    if (held > 0) this.budget.give(held);
  }
}

/** Leases taken while serving one HTTP request; released when the response is over. */
export class BudgetScope {
  readonly #leases: BudgetLease[] = [];
  #ended = false;

  /** @internal */
  adopt(lease: BudgetLease): void {
    if (this.#ended) return; // the response is gone: the read releases its own lease
    lease.markScoped();
    this.#leases.push(lease);
  }

  /** Release every lease taken in the scope (idempotent). */
  end(): void {
    this.#ended = true;
    for (const lease of this.#leases.splice(0)) lease.release();
  }
}

/** The process-wide budget (configured from server.result_budget_bytes at start). */
export const resultBudget = new ResultBudget({ capacity: 32 * 1024 * 1024, waitMs: 2_000 });
