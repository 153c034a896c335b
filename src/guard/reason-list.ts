/**
 * The reasons of one decision, in the order found, deduplicated by code and message (policy.ts,
 * object-rules.ts).
 */
import type { Reason } from './reasons.js';

export class Reasons {
  readonly list: Reason[] = [];
  private readonly seen = new Set<string>();
  add(r: Reason): void {
    const k = `${r.code}\u0000${r.message}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.list.push(r);
  }
}
