/**
 * Messages between the judging pool (pool.ts, main thread) and its workers (worker.ts).
 *
 * Everything crosses as structured clones: plain data, Maps and Sets (the catalog snapshot),
 * never functions or class instances. A worker keeps one catalog snapshot per database and is
 * sent a snapshot only when the pool has not yet sent it that one (`catalog` present).
 */
import type { GuardOptions } from '../guard/index.js';
import type { CatalogSnapshot, Decision, GuardRequest } from '../guard/types.js';
import type { MaskPlan } from '../mask/index.js';

export interface ConfigureMessage {
  type: 'configure';
  guard: GuardOptions;
  /** masking.hash_key (the worker derives the same key as the main thread's Masker). */
  hashKey?: string | undefined;
}

export interface JudgeMessage {
  type: 'judge';
  id: number;
  /** The request without its catalog (see catalogId / catalog). */
  req: Omit<GuardRequest, 'catalog'>;
  /** The pool's id of the request's catalog snapshot. */
  catalogId: number;
  /** Present when this worker has not been sent snapshot `catalogId` yet. */
  catalog?: CatalogSnapshot;
  /** Also plan column masking for an allowed statement (the policy has masks). */
  mask: boolean;
}

export type ToWorker = ConfigureMessage | JudgeMessage;

/** A decision as data: fingerprint and normalized computed in the worker, no `identity`. */
export type DecisionData = Omit<Decision, 'identity'>;

export interface JudgeResult {
  /** The decision without `stmt` (see `stmt` of the result message). */
  decision: Omit<DecisionData, 'stmt'>;
  mask?: MaskPlan;
}

export type FromWorker =
  | { type: 'ready' }
  /**
   * `json` is JSON.stringify({ decision, mask }) (a JudgeResult): the parse tree of a long
   * statement is large, and JSON.parse of it on the main thread costs a fraction of a structured
   * clone's deserialization (≈ 5 ms against ≈ 25 ms for a 100 KB statement's tree).
   */
  | {
      type: 'result';
      id: number;
      json: string;
      /**
       * JSON of the decision's tree, apart: the main thread parses it only when a later stage
       * reads `stmt` (the write planner); reads of long statements with their masking plan
       * already made never need it.
       */
      stmt?: string;
    }
  | { type: 'failed'; id: number; error: { name: string; message: string; stack?: string } };
