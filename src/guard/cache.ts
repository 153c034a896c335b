/**
 * The decision cache: a bounded LRU of decisions.
 *
 * Guarantees: at most `size` entries (size 0 disables caching); the key covers everything a
 * decision depends on — exact SQL text, tool, principal, database, policy version, catalog
 * version, observe, parameters and analyze flags — so a policy reload or a catalog refresh can
 * never serve a stale decision. Cached decisions are frozen (shallow) and shared: callers must
 * not mutate them (or their `stmt` AST).
 * Does not: expire entries by time (versions do that).
 */
import type { Decision, GuardRequest } from './types.js';

export function cacheKey(req: GuardRequest): string {
  return `${req.tool}\u0001${req.principal}\u0001${req.database}\u0001${req.policyVersion}\u0001${req.catalog.version}\u0001${req.observe ? 1 : 0}${req.parameters ? 1 : 0}${req.analyze ? 1 : 0}\u0001${req.sql}`;
}

export class DecisionCache {
  private readonly map = new Map<string, Decision>();
  constructor(private readonly size: number) {}

  get(key: string): Decision | undefined {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      // refresh recency
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Decision): void {
    if (this.size <= 0) return;
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.size) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  clear(): void {
    this.map.clear();
  }

  get length(): number {
    return this.map.size;
  }
}
