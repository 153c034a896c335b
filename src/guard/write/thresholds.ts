/**
 * Blast-radius thresholds (pure): what happens to a measured write.
 *
 * Guarantees: rows above `block_above_rows` → block (BLAST_RADIUS_EXCEEDED); above
 * `confirm_above_rows` → hold (HELD_FOR_APPROVAL); an unknown count (uncountable, or not
 * measured) → the policy's `uncountable` (hold or block, UNCOUNTABLE_WRITE); otherwise execute.
 * "Above" is strict: confirm_above_rows 100 lets 100 rows run. Block wins over hold.
 * Does not: measure anything or check capture limits (see captureLimit).
 */
import type { WriteRules } from '../../config/schema.js';
import { reason, type Reason } from '../reasons.js';

export type ThresholdAction = 'execute' | 'hold' | 'block';

export interface ThresholdVerdict {
  action: ThresholdAction;
  /** Present for hold and block. */
  reason?: Reason;
}

type ThresholdRules = Pick<WriteRules, 'confirm_above_rows' | 'block_above_rows' | 'uncountable'>;

/** Apply the thresholds to a measured blast radius (`undefined`: could not be counted). */
export function applyThresholds(rows: number | undefined, rules: ThresholdRules, uncountableReason?: string): ThresholdVerdict {
  if (rows === undefined || !Number.isFinite(rows) || rows < 0) {
    const why = uncountableReason ?? 'the rows the write changes could not be counted';
    return {
      action: rules.uncountable,
      reason: reason('UNCOUNTABLE_WRITE', `${why}; the policy ${rules.uncountable === 'hold' ? 'holds such writes for an operator' : 'blocks such writes'}`),
    };
  }
  if (rows > rules.block_above_rows) {
    return { action: 'block', reason: reason('BLAST_RADIUS_EXCEEDED', `the write would change ${rows} rows; the policy refuses more than ${rules.block_above_rows}`) };
  }
  if (rows > rules.confirm_above_rows) {
    return { action: 'hold', reason: reason('HELD_FOR_APPROVAL', `the write would change ${rows} rows; more than ${rules.confirm_above_rows} need an operator's approval`) };
  }
  return { action: 'execute' };
}

/** CAPTURE_TOO_LARGE when the before-images exceed max_capture_rows / max_capture_bytes, else undefined. */
export function captureLimit(rows: number, bytes: number, rules: Pick<WriteRules, 'max_capture_rows' | 'max_capture_bytes'>): Reason | undefined {
  if (rows > rules.max_capture_rows) return reason('CAPTURE_TOO_LARGE', `the undo record would hold ${rows} rows; the limit is ${rules.max_capture_rows}`);
  if (bytes > rules.max_capture_bytes) return reason('CAPTURE_TOO_LARGE', `the undo record would hold ${bytes} bytes; the limit is ${rules.max_capture_bytes}`);
  return undefined;
}
