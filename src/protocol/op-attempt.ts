/**
 * One attempt of one linear op, as every party names it: the op's geometry and the
 * coordinates of its PRG streams (op-streams.ts).
 */
import type { BilinearOp, OperandKind } from '../backend/bilinear.js';

/** An operand version (operands.ts) as the workers see it: which tensor, and whether this attempt sends it. */
export interface OperandRef {
  readonly kind: OperandKind;
  readonly version: number;
  /** True: its masked form travels in this attempt; false: the workers hold it from an earlier op. */
  readonly fresh: boolean;
}

export interface OpAttempt {
  readonly op: BilinearOp;
  readonly layer: number;
  readonly attempt: number;
  /** The lean protocol's operand versions [A, B] (their masks are per version); absent in the paper's. */
  readonly operands?: readonly [OperandRef, OperandRef];
}
