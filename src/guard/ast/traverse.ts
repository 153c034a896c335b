/**
 * The traversal core: one iterative walk (explicit stack, no recursion) over a raw parse tree,
 * dispatching every typed node to a visitor's handler table.
 *
 * Guarantees:
 * - every node is reached: wrapped nodes (`{ Type: {...} }`), inline typed fields (the generated
 *   INLINE_FIELDS: InsertStmt.relation, SelectStmt.larg, …) and plain arrays;
 * - a visitor is a total table over NodeTag (a missing tag is a compile error); each entry is a
 *   handler, DESCEND (walk the children) or REFUSE (report through `refuse`, skip the subtree). A
 *   tag outside the installed parser's NodeTag is refused; so is a malformed node (`malformed`);
 * - one Budget bounds the walk: each typed node spends a unit, and past `maxNodes` nodes or
 *   `maxDepth` levels the walk throws TooComplexError — it never returns a partial answer;
 * - children are visited in document order (the stack is filled in reverse), after their parent.
 * Does not: know any policy; the visitors (src/guard/facts, src/guard/write) do.
 *
 * `traverse` is one ~90-line loop on purpose: it is the guard's hot path (cold decisions walk
 * every node), so decoding, budget and dispatch stay inline without a closure or call per node.
 *
 * Size (#15 item 5): traverse (~88 lines) stays whole: it is the one iterative loop every walker
 * shares (explicit stack, one budget, CTE scopes, roles), and splitting it would spread the
 * budget and scope bookkeeping that must stay in one place to fail closed.
 */
import type { Budget } from './budget.js';
import { TooComplexError } from './budget.js';
import { INLINE_FIELDS } from './fields.js';
import { NODE_ROLE, type NodeRole, type NodeTag } from './tags.js';

/** Walk every child of the node with the scope and flags it inherits. */
export const DESCEND: unique symbol = Symbol('descend');
/** Report the node through the visitor's `refuse` and skip its subtree (fail closed). */
export const REFUSE: unique symbol = Symbol('refuse');
/** A handler's answer: skip the node's children. */
export const SKIP: unique symbol = Symbol('skip');
/** A handler's answer: end the whole traversal now (an answer is known). */
export const STOP: unique symbol = Symbol('stop');

export interface Scope {
  readonly names: readonly string[];
  readonly parent: Scope | undefined;
}

/** Whether `name` is a CTE visible in `scope`. */
export function inScope(scope: Scope | undefined, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.includes(name)) return true;
  return false;
}

export type Body = Record<string, unknown>;

/**
 * The walk's stack: frames of five slots in one array (value, node type or '', depth, scope,
 * flags), with an explicit top, so pushing a child allocates nothing. A typed node body has its
 * type in the second slot; a wrapped node, a list or a value has ''.
 */
interface Frames {
  a: unknown[];
  /** Slots in use (a multiple of FRAME). */
  sp: number;
}
const FRAME = 5;

/** Push a frame; the array only grows (slots below `sp` are overwritten, never removed). */
function pushFrame(st: Frames, v: unknown, t: string, d: number, s: Scope | undefined, f: number): void {
  const a = st.a;
  const i = st.sp;
  a[i] = v;
  a[i + 1] = t;
  a[i + 2] = d;
  a[i + 3] = s;
  a[i + 4] = f;
  st.sp = i + FRAME;
}

/**
 * Push a list's items in reverse (so they are visited in order), each with the list's depth,
 * scope and flags; an item that is not an object is left out (it would be skipped when popped).
 */
function pushItems(st: Frames, list: readonly unknown[], d: number, s: Scope | undefined, f: number): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const x = list[i];
    if (x !== null && typeof x === 'object') pushFrame(st, x, '', d, s, f);
  }
}

/**
 * What a handler sees of the node being visited. One object is reused for the whole walk: a
 * handler must not keep it. `scope`, `flags`, `skip1` and `skip2` are what the children get.
 */
export class NodeVisit<S> {
  /** A NodeTag: handlers run only for the table's keys (any other tag is refused before). */
  tag: NodeTag = 'A_Const';
  body: Body = {};
  depth = 0;
  /** Flags of the frame the node came from (set by the parent that pushed it). */
  frameFlags = 0;
  /** Scope and flags the children inherit (a handler may change them before returning). */
  scope: Scope | undefined = undefined;
  flags = 0;
  /** Up to two fields the core does not push (a handler pushed them itself, or they are judged). */
  skip1: string | undefined = undefined;
  skip2: string | undefined = undefined;
  constructor(
    readonly state: S,
    /** @internal */ readonly frames: Frames,
  ) {}

  /** Push an extra frame: `t` is the node type of an inline body, '' for a wrapped node / list. */
  push(v: unknown, t: string, scope: Scope | undefined, flags: number): void {
    pushFrame(this.frames, v, t, this.depth, scope, flags);
  }
}

export type HandlerResult = void | typeof SKIP | typeof STOP;
export type Handler<S> = (n: NodeVisit<S>) => HandlerResult;
export type Action<S> = Handler<S> | typeof DESCEND | typeof REFUSE;

/** A walker: a total table over the installed parser's node tags, plus its fail-closed hooks. */
export interface Visitor<S> {
  readonly table: Readonly<Record<NodeTag, Action<S>>>;
  /** Flag bits a node's children inherit by default (the others are cleared). */
  readonly inherit: number;
  /** Flag bits the items of a list inherit from the list's frame. */
  readonly listInherit: number;
  /** A REFUSE entry, or a tag the installed parser does not have. */
  refuse(state: S, tag: string): void;
  /** Not a node: several keys, a lower-case key, or a non-object body. */
  malformed(state: S): void;
}

/** Walk one field of a node body (an inline typed field gets its type from INLINE_FIELDS). */
export function traverseField<S>(owner: string, body: Body, field: string, visitor: Visitor<S>, state: S, budget: Budget, flags = 0): S {
  const v = body[field];
  if (v === undefined) return state;
  const t = INLINE_FIELDS[owner]?.[field];
  return traverse(v, visitor, state, budget, flags, t !== undefined && !Array.isArray(v) ? t : '');
}

/**
 * A walker that meets a kind it must refuse (or a malformed node) after the guard walk accepted
 * the tree: the analysis cannot be trusted, so it ends (callers fail closed: UNKNOWN_STATEMENT).
 */
export class RefusedNodeError extends Error {
  constructor(readonly tag: string) {
    super(`the parse tree contains ${tag}, which this analysis does not handle`);
    this.name = 'RefusedNodeError';
  }
}

/** Hooks for a walker whose refusal ends the walk (every walker but the guard walk, which reports). */
export const THROW_ON_REFUSE = {
  refuse(_state: unknown, tag: string): never {
    throw new RefusedNodeError(tag);
  },
  malformed(): never {
    throw new RefusedNodeError('<malformed node>');
  },
} as const;

/** Role defaults of an analysis walker: every statement and raw kind descends, the rest is refused. */
export function descendRaw<S>(): Readonly<Record<NodeRole, Action<S>>> {
  return { statement: DESCEND, raw: DESCEND, 'post-analysis': REFUSE, 'result-wrapper': REFUSE };
}

/**
 * A total table from a default per role and the walker's own handlers (keys are NodeTags: a typo
 * is a compile error). Non-raw roles default to REFUSE in every walker (kinds.test.ts checks it).
 */
export function visitorTable<S>(
  defaults: Readonly<Record<NodeRole, Action<S>>>,
  handlers: Readonly<Partial<Record<NodeTag, Action<S>>>>,
): Readonly<Record<NodeTag, Action<S>>> {
  const table = {} as Record<NodeTag, Action<S>>;
  for (const tag of Object.keys(NODE_ROLE) as NodeTag[]) table[tag] = handlers[tag] ?? defaults[NODE_ROLE[tag]];
  return Object.freeze(table);
}

/**
 * Compiled dispatch: per tag its action and its inline typed fields (INLINE_FIELDS), found with
 * one Map lookup per node (a Map is faster than a 278-key object on the hot path, and the
 * generated table is a large object too).
 */
interface Dispatch<S> {
  action: Action<S>;
  inline: Readonly<Record<string, string>> | undefined;
}
const compiled = new WeakMap<object, Map<string, Dispatch<never>>>();
function dispatchOf<S>(v: Visitor<S>): Map<string, Dispatch<S>> {
  let m = compiled.get(v.table) as Map<string, Dispatch<S>> | undefined;
  if (m === undefined) {
    m = new Map();
    for (const [tag, action] of Object.entries(v.table) as [string, Action<S>][]) m.set(tag, { action, inline: INLINE_FIELDS[tag] });
    compiled.set(v.table, m as Map<string, Dispatch<never>>);
  }
  return m;
}

/**
 * Walk `root` (a wrapped node, a list, or — with `rootType` — an inline body) with `visitor`.
 * Spends `budget` (one unit per typed node); throws TooComplexError when it runs out.
 */
export function traverse<S>(
  root: unknown,
  visitor: Visitor<S>,
  state: S,
  budget: Budget,
  rootFlags = 0,
  rootType = '',
): S {
  const st: Frames = { a: [], sp: 0 };
  pushFrame(st, root, rootType, 0, undefined, rootFlags);
  const a = st.a;
  const n = new NodeVisit<S>(state, st);
  const table = dispatchOf(visitor);
  const inherit = visitor.inherit;
  const listInherit = visitor.listInherit;
  while (st.sp > 0) {
    const sp = (st.sp -= FRAME);
    let v = a[sp];
    let t = a[sp + 1] as string;
    const fd = a[sp + 2] as number;
    const fs = a[sp + 3] as Scope | undefined;
    const ff = a[sp + 4] as number;
    if (t === '') {
      if (Array.isArray(v)) {
        pushItems(st, v, fd, fs, ff & listInherit);
        continue;
      }
      if (v === null || typeof v !== 'object') continue;
      // a wrapped node: exactly one key, the type name
      let key: string | undefined;
      let count = 0;
      for (const k in v) {
        key = k;
        if (++count > 1) break;
      }
      if (count === 0) continue; // {} stands for a NULL list element
      const c0 = key === undefined ? 0 : key.charCodeAt(0);
      if (count !== 1 || !(c0 >= 65 && c0 <= 90)) {
        visitor.malformed(state);
        continue;
      }
      t = key as string;
      v = (v as Body)[t];
      if (v === null || typeof v !== 'object') {
        visitor.malformed(state);
        continue;
      }
    }
    // a typed node body
    const depth = fd + 1;
    if (depth > budget.deepest) budget.deepest = depth;
    if (++budget.spent > budget.maxNodes) throw new TooComplexError('nodes', budget.maxNodes);
    if (depth > budget.maxDepth) throw new TooComplexError('depth', budget.maxDepth);
    const entry = table.get(t);
    const action = entry === undefined ? REFUSE : entry.action;
    if (action === REFUSE) {
      visitor.refuse(state, t);
      continue;
    }
    const body = v as Body;
    let scope = fs;
    let flags = ff & inherit;
    let skip1: string | undefined;
    let skip2: string | undefined;
    if (action !== DESCEND) {
      n.tag = t as NodeTag; // table.get(t) found a handler: t is one of the table's NodeTag keys
      n.body = body;
      n.depth = depth;
      n.frameFlags = ff;
      n.scope = scope;
      n.flags = flags;
      n.skip1 = undefined;
      n.skip2 = undefined;
      const r = action(n);
      if (r === SKIP) continue;
      if (r === STOP) return state;
      scope = n.scope;
      flags = n.flags;
      skip1 = n.skip1;
      skip2 = n.skip2;
    }
    const inline = (entry as Dispatch<S>).inline;
    for (const k in body) {
      if (k === skip1 || k === skip2) continue;
      const val = body[k];
      if (val === null || typeof val !== 'object') continue;
      if (Array.isArray(val)) pushItems(st, val, depth, scope, flags & listInherit);
      else pushFrame(st, val, inline === undefined ? '' : (inline[k] ?? ''), depth, scope, flags);
    }
  }
  return state;
}
