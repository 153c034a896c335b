/**
 * Reading one wrapped parse node, `{ Type: body }`, outside the traversal core (which decodes
 * nodes inline on its hot path): the one helper the guard's recursive readers share (classify,
 * resolve, the write rules and the tautology evaluator).
 *
 * Guarantees: never throws and never mutates; a node is exactly one key whose value is a non-array
 * object, anything else is `undefined` (callers treat it as malformed / unknown, never as a node).
 * Does not: check the tag against the installed parser (NODE_ROLE does) or spend a budget.
 */

/** A node body: the fields of one parse node. */
export type NodeBody = Record<string, unknown>;

/** `{ Type: body }` → [Type, body]; anything else → undefined. */
export function unwrapNode(node: unknown): [string, NodeBody] | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  let tag: string | undefined;
  for (const k in node) {
    if (tag !== undefined) return undefined;
    tag = k;
  }
  if (tag === undefined) return undefined;
  const body = (node as NodeBody)[tag];
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? [tag, body as NodeBody] : undefined;
}
