/**
 * Reading one wrapped parse node, `{ Type: body }`, outside the traversal core (which decodes
 * nodes inline on its hot path): the one helper the guard's recursive readers share (classify,
 * resolve, the write rules and the tautology evaluator) and the masking walk's readers.
 *
 * Guarantees: never throws and never mutates; a node is exactly one key, a tag of the installed
 * parser (ast/tags.ts NodeTag), whose value is a non-array object; anything else is `undefined`
 * (callers treat it as malformed / unknown, never as a node). The tag is typed NodeTag, so a
 * reader that compares or switches on it with a misspelt or removed tag does not compile.
 * Does not: spend a budget, or say what a kind means (each reader's switch does, with an explicit
 * default for every kind it does not list).
 */
import { isNodeTag, type NodeTag } from './tags.js';

/** A node body: the fields of one parse node. */
export type NodeBody = Record<string, unknown>;

/** `{ Type: body }` with Type a NodeTag → [Type, body]; anything else → undefined. */
export function unwrapNode(node: unknown): [NodeTag, NodeBody] | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  let tag: string | undefined;
  for (const k in node) {
    if (tag !== undefined) return undefined;
    tag = k;
  }
  if (tag === undefined || !isNodeTag(tag)) return undefined;
  const body = (node as NodeBody)[tag];
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? [tag, body as NodeBody] : undefined;
}
