/**
 * Function facts of the guard walk: every FuncCall (with the literal text of its arguments),
 * TABLESAMPLE methods, and the reg* values mixed into function arguments, FROM functions,
 * ARRAY[…], COALESCE and GREATEST/LEAST.
 *
 * Guarantees: a call whose name is not a list of strings is reported as unknown (fail closed).
 * Does not: judge the functions (functions.ts does).
 */
import type { NodeVisit } from '../ast/traverse.js';
import { nameList } from '../names.js';
import { literalString, regMix, regMixAll, takesObjectNames } from './regtypes.js';
import type { FunctionRef, GuardWalk } from './state.js';

export function funcCall(n: NodeVisit<GuardWalk>): void {
  const b = n.body;
  const facts = n.state.facts;
  const parts = nameList(b.funcname);
  const args = Array.isArray(b.args) ? b.args : [];
  if (parts) {
    const ref: FunctionRef = { parts, kind: 'call', literalArgs: args.map(literalString) };
    facts.functions.push(ref);
    facts.callArgs.set(ref, args);
  } else facts.unknownTypes.push('<unnamed function>');
  if (!takesObjectNames(parts)) regMixAll(args, facts);
}

export function rangeTableSample(n: NodeVisit<GuardWalk>): void {
  const m = nameList(n.body.method);
  if (m) n.state.facts.functions.push({ parts: m, kind: 'tablesample', literalArgs: [] });
}

/** FROM to_regclass('x') AS r: its output column may meet other values like a sub-select's. */
export function rangeFunction(n: NodeVisit<GuardWalk>): void {
  for (const f of Array.isArray(n.body.functions) ? n.body.functions : []) regMix((f as { List?: { items?: unknown[] } }).List?.items?.[0], n.state.facts);
}

export function arrayExpr(n: NodeVisit<GuardWalk>): void {
  regMixAll(n.body.elements, n.state.facts);
}

/** COALESCE and GREATEST / LEAST resolve one type for all their arguments. */
export function argsMix(n: NodeVisit<GuardWalk>): void {
  regMixAll(n.body.args, n.state.facts);
}
