/**
 * pgwarden's pure guard (the SafeGuard policy engine): parse → walk → classify → authorize.
 *
 * Guarantees: `decide` never throws and never does I/O; every text gets a Decision with stable
 * reason codes; the walk is iterative and bounded; decisions are cached in a bounded LRU keyed
 * by everything they depend on (see cache.ts). `loadParser()` must have resolved before
 * `decide`/`parse` (otherwise they answer INTERNAL_ERROR, fail closed).
 * Does not: run statements, cap rows, mask columns or measure writes (later stages reuse
 * `Decision.stmt`).
 */
import { DecisionCache, contextKey } from './cache.js';
import { digestPlaceholder, fingerprintAndNormalize, loadParser, parseText, type ParseLimits } from './parse.js';
import { judge } from './policy.js';
import type { Decision, GuardRequest, ParsedStatement } from './types.js';
import { newFacts, walkStatement, type WalkLimits } from './walk.js';
import { reason } from './reasons.js';

export { loadParser } from './parse.js';
export { BUILTIN_DENIED_FUNCTIONS, SAFE_CORE_FUNCTIONS, isBuiltinDenied } from './functions.js';
export { SENSITIVE_CATALOG_RELATIONS } from './relations.js';
export { buildCatalogSnapshot, type SnapshotParts } from './snapshot.js';
export { summarizeQuery } from './summary.js';
export { REASONS, reason, isReasonCode, type Reason, type ReasonCode } from './reasons.js';
export type * from './types.js';

export interface GuardOptions {
  cacheSize: number;
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
    this.cache = new DecisionCache(opts.cacheSize);
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
    let decision: Decision;
    try {
      const parsed = parseText(req.sql, this.parseLimits);
      const core = judge(req, parsed, this.walkLimits);
      // fingerprint/normalize are recursive C too: only for trees the walk found within limits
      const fp =
        parsed.ok && !core.reasons.some((r) => r.code === 'STATEMENT_TOO_COMPLEX')
          ? fingerprintAndNormalize(req.sql)
          : digestPlaceholder(req.sql);
      decision = { ...core, fingerprint: fp.fingerprint, normalized: fp.normalized, elapsedUs: 0, cached: false };
    } catch {
      // Defensive: the engine is written not to throw; if it ever does, fail closed (not cached).
      return internalError(req, t0);
    }
    decision.elapsedUs = Math.round((performance.now() - t0) * 1000);
    this.cache.set(ctx, req.sql, Object.freeze({ ...decision, cached: true }));
    return decision;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** Number of cached decisions (for metrics). */
  get cacheSize(): number {
    return this.cache.length;
  }
}

function internalError(req: GuardRequest, t0: number): Decision {
  void req;
  return {
    decision: 'block',
    kind: 'unknown',
    relations: [],
    functions: [],
    reasons: [{ code: 'INTERNAL_ERROR', message: 'The guard failed to judge the statement.', fix: 'Retry; if it persists, report the request id to the operator.' }],
    observed: false,
    fingerprint: 'error',
    normalized: '/* guard error */',
    elapsedUs: Math.round((performance.now() - t0) * 1000),
    cached: false,
    statementCount: 0,
    needsCatalogRefresh: false,
  };
}

/** Ensure the parser is loaded, then return a guard (convenience for scripts and tests). */
export async function createGuard(opts: GuardOptions): Promise<Guard> {
  await loadParser();
  return new Guard(opts);
}
