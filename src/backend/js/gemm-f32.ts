/**
 * Float32 GEMM: C = op(A)·op(B), or C += op(A)·op(B) with `accumulate`.
 *
 * The float32 operands are widened to float64 and the whole reduction runs in
 * float64 (see gemm-core.ts); C is rounded to float32 once, at the end. The
 * result is therefore at least as accurate as a float32 BLAS: the error is
 * the final rounding, |err| ≤ 2^−24·|C|, plus float64 rounding in the sum,
 * ≤ K·2^−53·Σ|a||b|, which is negligible.
 */
import { type GemmDims, type Operand, gemmViaAccumulator } from './gemm-core.js';
import type { Scratch } from './scratch.js';

/** C[cOff + i·n + j] (=|+=) op(A)·op(B); no argument checks (callers validate). */
export function gemmF32Into(
  scratch: Scratch,
  d: GemmDims,
  a: Operand,
  aOff: number,
  b: Operand,
  bOff: number,
  c: Float32Array,
  cOff: number,
  accumulate: boolean,
): void {
  gemmViaAccumulator(scratch, d, a, aOff, b, bOff, c, cOff, accumulate, false);
}
