/**
 * Exact GEMM over Z_P on centred Int32 operands: C = op(A)·op(B) mod P, centred.
 *
 * Operands are widened to float64 while packing; products are exact (< 2^40)
 * and at most MAX_EXACT_K = 8192 of them are summed between two centred
 * reductions, so every partial sum stays below 2^53 and is exact (the argument
 * is spelled out in gemm-core.ts). The result is exact for any K.
 *
 * With `accumulate` (used by the convolutions, not exposed by Backend), C must
 * hold centred values and receives C + op(A)·op(B) mod P.
 */
import { type GemmDims, type Operand, gemmViaAccumulator } from './gemm-core.js';
import type { Scratch } from './scratch.js';

/** C[cOff + i·n + j] = (C +) op(A)·op(B) mod P, centred; no argument checks. */
export function gemmModPInto(
  scratch: Scratch,
  d: GemmDims,
  a: Operand,
  aOff: number,
  b: Operand,
  bOff: number,
  c: Int32Array,
  cOff: number,
  accumulate: boolean,
): void {
  gemmViaAccumulator(scratch, d, a, aOff, b, bOff, c, cOff, accumulate, true);
}
