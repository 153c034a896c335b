/**
 * The write side of one database as the gateway core drives it: the core's WritesPort
 * (src/core/ports.ts) over a WriteDatabase. Each method is the module function of the same job
 * (measure.ts, execute.ts, revert.ts, confirmations.ts) bound to this database, so the core needs
 * neither WriteDatabase nor these modules. The composition root (src/app/runtime.ts) hands a
 * WriteState, whose writer() returns these, to the gateway as its WritesPort.
 *
 * Guarantees: nothing beyond the bound functions' own (see their headers).
 */
import type { WritePlan } from '../../guard/write-plan.js';
import type {
  BlastRadius,
  Confirmation,
  ConfirmationRedeem,
  ExecuteWriteOptions,
  ExecuteWriteResult,
  MeasureOptions,
  NewConfirmation,
  RevertOptions,
  RevertResult,
} from '../../shared/writes.js';
import { consumeConfirmation, createConfirmation } from './confirmations.js';
import { executeWrite } from './execute.js';
import { measureBlastRadius } from './measure.js';
import { revertWrite } from './revert.js';
import type { WriteDatabase } from './session.js';

export class DatabaseWriter {
  constructor(readonly db: WriteDatabase) {}

  get name(): string {
    return this.db.name;
  }

  measure(plan: WritePlan, options: MeasureOptions): Promise<BlastRadius> {
    return measureBlastRadius(this.db, plan, options);
  }

  execute(plan: WritePlan, options: ExecuteWriteOptions): Promise<ExecuteWriteResult> {
    return executeWrite(this.db, plan, options);
  }

  revert(undoId: string, options: RevertOptions): Promise<RevertResult> {
    return revertWrite(this.db, undoId, options);
  }

  createConfirmation(input: NewConfirmation): Promise<Confirmation> {
    return createConfirmation(this.db, input);
  }

  consumeConfirmation(input: ConfirmationRedeem): Promise<boolean> {
    return consumeConfirmation(this.db, input);
  }
}
