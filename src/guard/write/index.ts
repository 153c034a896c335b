/**
 * Guarded writes, pure half (issue #5): the guard's write rules, the write planner and the
 * blast-radius thresholds. No I/O. See INTEGRATION.md for the API contract and docs/writes.md.
 */
export { planWrite, isWritePlan, type PlanResult, type PlanOptions } from './plan.js';
export { applyThresholds, captureLimit, type ThresholdAction, type ThresholdVerdict } from './thresholds.js';
export { judgeWrites, executeWriteReasons, writeShapeReasons, type WriteRuleContext } from './rules.js';
export { isTautology, truthSet, type PredicateContext } from './tautology.js';
export { irreversibility, updatedColumns } from './reversible.js';
export { findWrites, type FoundWrite } from './ast.js';
export type { WritePlan, WriteTarget } from '../write-plan.js';
