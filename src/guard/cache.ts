/**
 * The decision cache: a bounded, (approximately) LRU map of decisions.
 *
 * Guarantees: at most `size` entries (size 0 disables caching); the key covers everything a
 * decision depends on — exact SQL text, tool, principal, database, policy version, catalog
 * version, observe, parameters and analyze flags — so a policy reload or a catalog refresh can
 * never serve a stale decision. Cached decisions are frozen (shallow) and shared: callers must
 * not mutate them (or their `stmt` AST).
 *
 * Layout: a short context key (everything but the SQL) → a Map keyed by the SQL text itself, so
 * a lookup hashes the text once and never builds a long concatenated key. Recency is kept per
 * context and across contexts; eviction takes the oldest entry of the least recently used context.
 * Does not: expire entries by time (versions do that).
 */
import type { Decision, GuardRequest } from './types.js';

export function contextKey(req: GuardRequest): string {
  return `${req.tool}\u0001${req.principal}\u0001${req.database}\u0001${req.policyVersion}\u0001${req.catalog.version}\u0001${req.observe ? 1 : 0}${req.parameters ? 1 : 0}${req.analyze ? 1 : 0}`;
}

export class DecisionCache {
  private readonly contexts = new Map<string, Map<string, Decision>>();
  private count = 0;
  constructor(private readonly size: number) {}

  get(ctx: string, sql: string): Decision | undefined {
    const inner = this.contexts.get(ctx);
    if (inner === undefined) return undefined;
    const hit = inner.get(sql);
    if (hit !== undefined) {
      // refresh recency within the context, and of the context (cheap when already newest)
      inner.delete(sql);
      inner.set(sql, hit);
      if (this.contexts.size > 1) {
        this.contexts.delete(ctx);
        this.contexts.set(ctx, inner);
      }
    }
    return hit;
  }

  set(ctx: string, sql: string, value: Decision): void {
    if (this.size <= 0) return;
    let inner = this.contexts.get(ctx);
    if (inner === undefined) {
      inner = new Map();
      this.contexts.set(ctx, inner);
    }
    if (inner.has(sql)) inner.delete(sql);
    else this.count++;
    inner.set(sql, value);
    while (this.count > this.size) this.evictOne();
  }

  private evictOne(): void {
    for (const [ctx, inner] of this.contexts) {
      const oldest = inner.keys().next();
      if (!oldest.done) {
        inner.delete(oldest.value);
        this.count--;
      }
      if (inner.size === 0) this.contexts.delete(ctx);
      return;
    }
  }

  clear(): void {
    this.contexts.clear();
    this.count = 0;
  }

  get length(): number {
    return this.count;
  }
}
