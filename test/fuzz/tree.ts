/**
 * Statements as shrinkable trees, and the seeded random source the generator draws from.
 *
 * A node renders to SQL text by concatenating its parts; `alts` are simpler statements of the
 * same shape (a child, a literal, the unwrapped statement) that the shrinker may put in its
 * place. Shrinking is greedy: replace one node at a time by one of its alternatives and keep the
 * replacement while the property still fails, within a budget of attempts.
 */

export interface Node {
  parts: (string | Node)[];
  alts: Node[];
}

export const leaf = (text: string): Node => ({ parts: [text], alts: [] });
export const node = (parts: (string | Node)[], alts: Node[] = []): Node => ({ parts, alts });

export function render(n: Node): string {
  let out = '';
  for (const p of n.parts) out += typeof p === 'string' ? p : render(p);
  return out;
}

/** Every node with alternatives, with a setter that returns the whole tree with that node replaced. */
function positions(root: Node): { at: Node; replace: (by: Node) => Node }[] {
  const out: { at: Node; replace: (by: Node) => Node }[] = [];
  const visit = (n: Node, rebuild: (by: Node) => Node): void => {
    if (n.alts.length > 0) out.push({ at: n, replace: rebuild });
    n.parts.forEach((p, i) => {
      if (typeof p === 'string') return;
      visit(p, (by) => rebuild({ parts: n.parts.map((q, j) => (j === i ? by : q)), alts: n.alts }));
    });
  };
  visit(root, (by) => by);
  return out;
}

/** Greedy shrink: the smallest tree (by rendered length) for which `stillFails` holds. */
export async function shrink(root: Node, stillFails: (sql: string) => Promise<boolean>, budget = 40): Promise<Node> {
  let best = root;
  let tries = 0;
  let improved = true;
  while (improved && tries < budget) {
    improved = false;
    for (const pos of positions(best)) {
      for (const alt of pos.at.alts) {
        const candidate = pos.replace(alt);
        if (render(candidate).length >= render(best).length) continue;
        if (++tries > budget) return best;
        if (await stillFails(render(candidate))) {
          best = candidate;
          improved = true;
          break;
        }
      }
      if (improved) break;
    }
  }
  return best;
}

/** mulberry32: small, fast, seeded; the same seed gives the same sequence everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[this.int(xs.length)] as T;
  }
  /** A weighted choice among [weight, value] pairs. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let x = this.next() * total;
    for (const [w, v] of choices) {
      x -= w;
      if (x < 0) return v;
    }
    return (choices[choices.length - 1] as readonly [number, T])[1];
  }
}
