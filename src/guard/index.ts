/**
 * pgwarden's pure guard (the SafeGuard policy engine): parse → walk → classify → authorize.
 *
 * Guarantees: `decide` never throws and never does I/O; every text gets a Decision with stable
 * reason codes; the walk is iterative and bounded; decisions are cached in a bounded LRU keyed
 * by everything they depend on (see cache.ts). A decision's fingerprint and normalized text are
 * computed on first read, not by `decide` (see LazyStatementIdentity in parse.ts).
 * `loadParser()` must have resolved before `decide`/`parse` (otherwise they answer
 * INTERNAL_ERROR, fail closed).
 * Does not: run statements, cap rows, mask columns or measure writes (later stages reuse
 * `Decision.stmt`).
 */
import { TooComplexError } from './ast/budget.js';
import { DecisionCache, contextKey } from './cache.js';
import { LazyStatementIdentity, digestPlaceholder, fingerprintAndNormalize, loadParser, parseText, type ParseLimits } from './parse.js';
import { judge, type DecisionCore } from './policy.js';
import type { Decision, GuardRequest, ParsedStatement, StatementIdentity } from './types.js';
import { newFacts, walkStatement, type WalkLimits } from './walk.js';
import { reason } from './reasons.js';

export { LazyStatementIdentity, loadParser } from './parse.js';
export { BUILTIN_DENIED_FUNCTIONS, SAFE_CORE_FUNCTIONS, isBuiltinDenied } from './functions.js';
export { SENSITIVE_CATALOG_RELATIONS } from './relations.js';
export { buildCatalogSnapshot, type SnapshotParts } from './snapshot.js';
export { summarizeQuery } from './summary.js';
export { REASONS, reason, isReasonCode, type Reason, type ReasonCode } from './reasons.js';
export type * from './types.js';

export interface GuardOptions {
  cacheSize: number;
  /** Most characters of statement text the decision cache holds (default 4 Mi, see cache.ts). */
  cacheChars?: number;
  maxStatementBytes: number;
  maxAstNodes: number;
  /** Deepest parse-tree nesting evaluated (default 1000); deeper is STATEMENT_TOO_COMPLEX. */
  maxAstDepth?: number;
  /** Long text only: deepest ( [ nesting accepted before parsing (default 256). */
  maxNesting?: number;
  /** Long text only: most operator-like tokens accepted before parsing (default 1000). */
  maxChainTokens?: number;
}

export class Guard {
  private readonly cache: DecisionCache;
  private readonly parseLimits: ParseLimits;
  private readonly walkLimits: WalkLimits;

  constructor(opts: GuardOptions) {
    this.cache = new DecisionCache(opts.cacheSize, opts.cacheChars !== undefined ? { maxChars: opts.cacheChars } : {});
    this.parseLimits = {
      maxStatementBytes: opts.maxStatementBytes,
      maxNesting: opts.maxNesting ?? 256,
      maxChainTokens: opts.maxChainTokens ?? 1000,
    };
    this.walkLimits = { maxNodes: opts.maxAstNodes, maxDepth: opts.maxAstDepth ?? 1000 };
  }

  /** Parse a text with the guard's input checks (no policy). Never throws. */
  parse(sql: string): ParsedStatement {
    const parsed = parseText(sql, this.parseLimits);
    if (parsed.ok) {
      const facts = newFacts();
      for (const s of parsed.stmts) if (!facts.tooComplex) walkStatement(s, this.walkLimits, facts);
      if (facts.tooComplex) {
        const ph = digestPlaceholder(sql);
        return { ok: false, stmts: [], reasons: [reason('STATEMENT_TOO_COMPLEX')], fingerprint: ph.fingerprint, normalized: ph.normalized };
      }
      const fp = fingerprintAndNormalize(sql);
      parsed.fingerprint = fp.fingerprint;
      parsed.normalized = fp.normalized;
    }
    return parsed;
  }

  /** Judge one request. Never throws; cached by (sql, tool, principal, database, versions, flags). */
  decide(req: GuardRequest): Decision {
    const ctx = contextKey(req);
    const hit = this.cache.get(ctx, req.sql);
    if (hit !== undefined) return hit;
    const t0 = performance.now();
    let core: DecisionCore;
    let identity: LazyStatementIdentity;
    try {
      const parsed = parseText(req.sql, this.parseLimits);
      core = judge(req, parsed, this.walkLimits);
      // fingerprint/normalize are recursive C too: only for trees the walk found within limits.
      // Both are computed on first read (the audit writer, the check tool), not here.
      identity = new LazyStatementIdentity(req.sql, parsed.ok && !core.reasons.some((r) => r.code === 'STATEMENT_TOO_COMPLEX'));
    } catch (err) {
      // Defensive: the engine is written not to throw (an exhausted budget is turned into
      // STATEMENT_TOO_COMPLEX where it happens); if it ever does, fail closed (not cached).
      return internalError(req, t0, err instanceof TooComplexError, err);
    }
    const elapsedUs = Math.round((performance.now() - t0) * 1000);
    this.cache.set(ctx, req.sql, Object.freeze(withIdentity(core, identity, elapsedUs, true)));
    return withIdentity(core, identity, elapsedUs, false);
  }

  /** The cached decision for a request, if any (the warm path; never parses). */
  lookup(req: GuardRequest): Decision | undefined {
    return this.cache.get(contextKey(req), req.sql);
  }

  /**
   * Cache a decision made for `req` elsewhere (a judging worker, src/judge) as if `decide` had
   * made it. Its fingerprint and normalized text must already be computed (plain values).
   * Returns the cached (frozen) copy.
   */
  remember(req: GuardRequest, decision: Decision): Decision {
    // copy the property descriptors: a lazily parsed `stmt` (a getter) stays lazy
    const props = Object.getOwnPropertyDescriptors(decision) as PropertyDescriptorMap;
    props.cached = { value: true, enumerable: true };
    props.identity = { value: { fingerprint: decision.fingerprint, normalized: decision.normalized } };
    const cached = Object.defineProperties({}, props) as Decision;
    this.cache.set(contextKey(req), req.sql, Object.freeze(cached));
    return cached;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** Number of cached decisions (for metrics). */
  get cacheSize(): number {
    return this.cache.length;
  }
}

/**
 * The fingerprint/normalized accessors of every Decision: enumerable getters over the decision's
 * own `identity` (so spreads and JSON still carry them; reading them computes them once). One
 * shared getter for all decisions, not a closure per decision: V8 then gives every decision of
 * the same fields one hidden class (a closure per object gives each its own, and building one
 * cost ≈ 5 µs of a cold decision, issue #13).
 */
const IDENTITY_ACCESSORS: Readonly<Record<'fingerprint' | 'normalized', PropertyDescriptor>> = {
  fingerprint: {
    get(this: Decision): string {
      return (this.identity as StatementIdentity).fingerprint;
    },
    enumerable: true,
    configurable: true,
  },
  normalized: {
    get(this: Decision): string {
      return (this.identity as StatementIdentity).normalized;
    },
    enumerable: true,
    configurable: true,
  },
};

/**
 * A Decision whose fingerprint/normalized are getters over `identity` (IDENTITY_ACCESSORS), with
 * `identity` itself non-enumerable. Keys in the order of the object literal it replaces: the
 * core's, elapsedUs, cached, fingerprint, normalized. (Object.assign and plain stores, not a
 * spread followed by more properties: V8 gives such a spread's result a hidden class of its own.)
 */
function withIdentity(core: DecisionCore, identity: LazyStatementIdentity, elapsedUs: number, cached: boolean): Decision {
  const d = Object.assign({}, core) as DecisionCore & { elapsedUs: number; cached: boolean };
  d.elapsedUs = elapsedUs;
  d.cached = cached;
  Object.defineProperty(d, 'fingerprint', IDENTITY_ACCESSORS.fingerprint);
  Object.defineProperty(d, 'normalized', IDENTITY_ACCESSORS.normalized);
  Object.defineProperty(d, 'identity', { value: identity });
  return d as Decision;
}

function internalError(req: GuardRequest, t0: number, tooComplex = false, cause?: unknown): Decision {
  void req;
  const d: Decision = {
    decision: 'block',
    kind: 'unknown',
    relations: [],
    functions: [],
    reasons: [
      tooComplex
        ? reason('STATEMENT_TOO_COMPLEX')
        : { code: 'INTERNAL_ERROR', message: 'The guard failed to judge the statement.', fix: 'Retry; if it persists, report the request id to the operator.' },
    ],
    observed: false,
    fingerprint: 'error',
    normalized: '/* guard error */',
    elapsedUs: Math.round((performance.now() - t0) * 1000),
    cached: false,
    statementCount: 0,
    needsCatalogRefresh: false,
  };
  if (!tooComplex && cause !== undefined) Object.defineProperty(d, 'cause', { value: cause });
  return d;
}

/** Ensure the parser is loaded, then return a guard (convenience for scripts and tests). */
export async function createGuard(opts: GuardOptions): Promise<Guard> {
  await loadParser();
  return new Guard(opts);
}
