/**
 * Operator authentication: the bearer tokens that may use the admin API (approve / reject held
 * writes, revert undo entries). Operators are a separate namespace from agent principals.
 *
 * Guarantees:
 * - operatorTokenStore() is a TokenStore (constant-time comparison against every digest,
 *   expiry, no raw tokens kept) built from `config.operators` only: an agent token never
 *   authenticates an operator.
 * - assertOperatorTokensDistinct() refuses a configuration in which one token is configured for
 *   both an operator and an agent principal (an agent could otherwise approve its own writes).
 * Does not: authorize per operator (every operator may approve, reject and revert), or
 * rate-limit (the HTTP layer does).
 */
import type { Config } from '../config/schema.js';
import { digestToken, TokenStore } from './tokens.js';

/** A TokenStore over config.operators (the "principal" of a result is the operator name). */
export function operatorTokenStore(config: Pick<Config, 'operators'>): TokenStore {
  const principals: Config['principals'] = {};
  for (const [name, op] of Object.entries(config.operators)) {
    // TokenStore reads only `tokens`; the policy field is required by the type, never used.
    principals[name] = { policy: '(operator)', tokens: op.tokens };
  }
  return new TokenStore({ principals });
}

function digests(tokens: readonly { token?: string | undefined; sha256?: string | undefined }[]): string[] {
  return tokens.flatMap((t) => {
    const hex = t.sha256 ?? (t.token === undefined ? undefined : digestToken(t.token));
    return hex === undefined ? [] : [hex.toLowerCase()];
  });
}

/** Every token configured for both an operator and an agent principal, as messages (no token values). */
export function operatorTokenProblems(config: Pick<Config, 'operators' | 'principals'>): string[] {
  const agent = new Map<string, string>();
  for (const [name, p] of Object.entries(config.principals)) for (const d of digests(p.tokens)) agent.set(d, name);
  const problems: string[] = [];
  for (const [name, op] of Object.entries(config.operators)) {
    for (const d of digests(op.tokens)) {
      const principal = agent.get(d);
      if (principal !== undefined) {
        problems.push(`operators.${name}: a token of this operator is also configured for principal ${principal}; operator tokens must be distinct from agent tokens`);
      }
    }
  }
  return problems;
}

/** Throw when a token is configured for both an operator and an agent principal. */
export function assertOperatorTokensDistinct(config: Pick<Config, 'operators' | 'principals'>): void {
  const problems = operatorTokenProblems(config);
  if (problems.length > 0) throw new Error(problems[0]);
}

/** Whether any operator token is configured (no tokens: the admin API is not served). */
export function hasOperatorTokens(config: Pick<Config, 'operators'>): boolean {
  return Object.values(config.operators).some((op) => op.tokens.length > 0);
}
